// xpr/array.hpp — host arrays: owning 64-byte-aligned buffers and zero-copy views of caller memory.
#pragma once

#include <xpr/dtype.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

namespace xpr {

namespace detail {
struct ArrayFactory; // the runtime's constructor of device arrays (runtime/cuda)
}

/// Ranks go from 0 (a scalar) to kMaxRank.
inline constexpr int kMaxRank = 8;

/// An n-dimensional array of one dtype. Strides are in *elements* (not bytes) and may be
/// zero or negative. An Array either owns its buffer (shared between copies of the Array:
/// copying an Array is cheap and aliases) or views memory the caller keeps alive.
class Array {
public:
  /// An empty array: rank 0, no data, not valid() as input to a program.
  Array() = default;

  /// A new, zero-filled, C-contiguous array that owns a 64-byte-aligned buffer.
  /// Throws Error(Limit) when the element count overflows or memory is exhausted.
  static Array empty(DType dtype, std::span<const std::int64_t> shape);
  /// The same, with the shape written inline: `Array::empty(f32, {rows, cols})`.
  static Array empty(DType dtype, std::initializer_list<std::int64_t> shape) {
    return empty(dtype, std::span<const std::int64_t>(shape.begin(), shape.size()));
  }
  /// A view of caller memory; nothing is copied and nothing is freed.
  /// Empty `strides` means C-contiguous.
  static Array view(void *data, DType dtype, std::span<const std::int64_t> shape,
                    std::span<const std::int64_t> strides = {});

  DType dtype() const { return dtype_; }                          ///< the element type
  int rank() const { return static_cast<int>(shape_.size()); }   ///< number of dimensions, 0 to 8
  const std::vector<std::int64_t> &shape() const { return shape_; } ///< extent of each dimension
  /// Distance between neighbours along each dimension, in elements (not bytes).
  const std::vector<std::int64_t> &strides() const { return strides_; }
  std::int64_t size() const; ///< number of elements
  /// Address of element 0 (the first index along every dimension), which need not be the lowest
  /// address when a stride is negative.
  void *data() const { return data_; }
  /// True for arrays made by empty(), contiguous_copy() or a program; false for views.
  bool owns_data() const { return static_cast<bool>(owner_); }
  bool is_contiguous() const; ///< C order, no gaps
  /// True when the array has data to read (or no elements at all).
  bool valid() const { return data_ != nullptr || size() == 0; }

  /// Pointer to element `idx` (one index per dim).
  void *element_ptr(std::span<const std::int64_t> idx) const;

  /// data() as a typed pointer; `T` must match dtype() (e.g. `float` for f32, `std::uint16_t`
  /// for the bits of f16 and bf16), which is not checked.
  template <class T> T *data_as() const { return static_cast<T *>(data_); }

  /// A contiguous copy that owns its data. Throws Error(Runtime) for a device array.
  Array contiguous_copy() const;

  /// Where the data lives: -1 in host memory (every array, except those Context::to_device and
  /// GPU runs with device inputs make), else the ordinal of the CUDA device. For a device array,
  /// data() is a device address the host cannot read: Context::to_host copies it back.
  int device() const { return device_; }
  bool on_device() const { return device_ >= 0; } ///< device() >= 0: data() is a device address

private:
  friend struct detail::ArrayFactory;
  DType dtype_ = DType::F64;
  std::vector<std::int64_t> shape_, strides_;
  void *data_ = nullptr;
  std::shared_ptr<void> owner_;
  int device_ = -1;
};

/// A view of caller memory: `view(ptr, f64, {rows, cols}, {row_stride, 1})`. Strides are in
/// elements and may be zero or negative; none means C-contiguous. Nothing is copied or freed.
/// \snippet api_guide.cpp doc:views
inline Array view(void *data, DType dtype, std::initializer_list<std::int64_t> shape,
                  std::initializer_list<std::int64_t> strides = {}) {
  return Array::view(data, dtype, std::span<const std::int64_t>(shape.begin(), shape.size()),
                     std::span<const std::int64_t>(strides.begin(), strides.size()));
}

/// A runtime scalar (a script `param`, or a constructor argument). It remembers whether it
/// was given as an integer or a floating value; conversion to the param's dtype follows the
/// cast rules of docs/language.md.
class Scalar {
public:
  Scalar() = default;                                          ///< the floating value 0.0
  Scalar(double v) : kind_(Kind::Float), f_(v) {}              ///< a floating value
  Scalar(float v) : kind_(Kind::Float), f_(v) {}               ///< a floating value
  Scalar(int v) : kind_(Kind::Int), i_(v) {}                   ///< a signed integer
  Scalar(long v) : kind_(Kind::Int), i_(v) {}                  ///< a signed integer
  Scalar(long long v) : kind_(Kind::Int), i_(v) {}             ///< a signed integer
  Scalar(unsigned long v) : kind_(Kind::UInt), u_(v) {}        ///< an unsigned integer
  Scalar(unsigned long long v) : kind_(Kind::UInt), u_(v) {}   ///< an unsigned integer
  Scalar(bool v) : kind_(Kind::Bool), b_(v) {}                 ///< a bool

  /// How the value was given: it decides how it converts (an integer converts exactly where it
  /// fits; a float converts to an integer dtype by truncating and saturating).
  enum class Kind : std::uint8_t {
    Bool,  ///< from a bool
    Int,   ///< from a signed integer
    UInt,  ///< from an unsigned integer
    Float, ///< from a float or a double
  };
  Kind kind() const { return kind_; } ///< how the value was given
  double as_double() const;       ///< the value as a double (integers round to nearest)
  std::int64_t as_int() const;    ///< as i64: floats truncate and saturate (NaN is 0), u64 wraps
  std::uint64_t as_uint() const;  ///< as u64: floats truncate and saturate, i64 wraps
  bool as_bool() const;           ///< nonzero (or NaN) is true

private:
  Kind kind_ = Kind::Float;
  union {
    double f_ = 0;
    std::int64_t i_;
    std::uint64_t u_;
    bool b_;
  };
};

} // namespace xpr
