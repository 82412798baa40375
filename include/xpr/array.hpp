// xpr/array.hpp — host arrays: owning 64-byte-aligned buffers and zero-copy views of caller memory.
#pragma once

#include <xpr/dtype.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

namespace xpr {

/// Ranks go from 0 (a scalar) to kMaxRank.
inline constexpr int kMaxRank = 8;

/// An n-dimensional array of one dtype. Strides are in *elements* (not bytes) and may be
/// zero or negative. An Array either owns its buffer (shared between copies of the Array:
/// copying an Array is cheap and aliases) or views memory the caller keeps alive.
class Array {
public:
  Array() = default;

  /// A new, zero-filled, C-contiguous array that owns a 64-byte-aligned buffer.
  /// Throws Error(Limit) when the element count overflows or memory is exhausted.
  static Array empty(DType dtype, std::span<const std::int64_t> shape);
  static Array empty(DType dtype, std::initializer_list<std::int64_t> shape) {
    return empty(dtype, std::span<const std::int64_t>(shape.begin(), shape.size()));
  }
  /// A view of caller memory; nothing is copied and nothing is freed.
  /// Empty `strides` means C-contiguous.
  static Array view(void *data, DType dtype, std::span<const std::int64_t> shape,
                    std::span<const std::int64_t> strides = {});

  DType dtype() const { return dtype_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  const std::vector<std::int64_t> &shape() const { return shape_; }
  const std::vector<std::int64_t> &strides() const { return strides_; }
  std::int64_t size() const; ///< number of elements
  void *data() const { return data_; }
  bool owns_data() const { return static_cast<bool>(owner_); }
  bool is_contiguous() const; ///< C order, no gaps
  bool valid() const { return data_ != nullptr || size() == 0; }

  /// Pointer to element `idx` (one index per dim).
  void *element_ptr(std::span<const std::int64_t> idx) const;

  template <class T> T *data_as() const { return static_cast<T *>(data_); }

  /// A contiguous copy that owns its data.
  Array contiguous_copy() const;

private:
  DType dtype_ = DType::F64;
  std::vector<std::int64_t> shape_, strides_;
  void *data_ = nullptr;
  std::shared_ptr<void> owner_;
};

/// Convenience: a view of caller memory (design.md §3).
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
  Scalar() = default;
  Scalar(double v) : kind_(Kind::Float), f_(v) {}
  Scalar(float v) : kind_(Kind::Float), f_(v) {}
  Scalar(int v) : kind_(Kind::Int), i_(v) {}
  Scalar(long v) : kind_(Kind::Int), i_(v) {}
  Scalar(long long v) : kind_(Kind::Int), i_(v) {}
  Scalar(unsigned long v) : kind_(Kind::UInt), u_(v) {}
  Scalar(unsigned long long v) : kind_(Kind::UInt), u_(v) {}
  Scalar(bool v) : kind_(Kind::Bool), b_(v) {}

  enum class Kind : std::uint8_t { Bool, Int, UInt, Float };
  Kind kind() const { return kind_; }
  double as_double() const;
  std::int64_t as_int() const;
  std::uint64_t as_uint() const;
  bool as_bool() const;

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
