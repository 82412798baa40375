// support/Array.cpp — xpr::Array: owning aligned buffers, views of caller memory, copies.
#include <xpr/array.hpp>
#include <xpr/error.hpp>

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <new>

namespace xpr {

namespace {

constexpr std::size_t kAlign = 64;

std::string shape_str(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

/// The element count of `shape`, refusing negative extents, too many dims, and any count whose
/// byte size would not fit a ptrdiff_t (so every byte offset inside the array is representable).
std::int64_t checked_count(DType dtype, std::span<const std::int64_t> shape, const char *what) {
  if (shape.size() > static_cast<std::size_t>(kMaxRank))
    throw Error(ErrorKind::Limit, fmt::format("{}: rank {} exceeds the maximum rank {}", what,
                                              shape.size(), kMaxRank));
  const std::int64_t max_bytes = std::numeric_limits<std::ptrdiff_t>::max() - 2 * kAlign;
  const std::int64_t esize = dtype_size(dtype);
  std::int64_t n = 1;
  bool zero = false;
  for (std::int64_t d : shape) {
    if (d < 0)
      throw Error(ErrorKind::Runtime,
                  fmt::format("{}: negative dimension in shape {}", what, shape_str(shape)));
    if (d == 0) zero = true;
  }
  if (zero) return 0;
  for (std::int64_t d : shape) {
    if (n > max_bytes / esize / d)
      throw Error(ErrorKind::Limit, fmt::format("{}: shape {} of {} has too many elements", what,
                                                shape_str(shape), dtype_name(dtype)));
    n *= d;
  }
  return n;
}

struct AlignedFree {
  void operator()(void *p) const { ::operator delete(p, std::align_val_t(kAlign)); }
};

} // namespace

Array Array::empty(DType dtype, std::span<const std::int64_t> shape) {
  const std::int64_t n = checked_count(dtype, shape, "cannot allocate array");
  std::size_t bytes = static_cast<std::size_t>(n) * static_cast<std::size_t>(dtype_size(dtype));
  // Never a zero-byte request: a valid array always has a non-null, aligned data pointer.
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  if (bytes == 0) bytes = kAlign;
  void *p = ::operator new(bytes, std::align_val_t(kAlign), std::nothrow);
  if (!p)
    throw Error(ErrorKind::Limit,
                fmt::format("cannot allocate array: out of memory for {} bytes ({} of shape {})",
                            bytes, dtype_name(dtype), shape_str(shape)));
  std::memset(p, 0, bytes);
  Array a;
  a.dtype_ = dtype;
  a.shape_.assign(shape.begin(), shape.end());
  a.strides_.assign(shape.size(), 0);
  // C-order strides. An empty array (some dim 0) passes the size check whatever its other dims
  // are, so their product may not fit in i64: its strides are never used to address memory, and
  // once the running product would overflow the remaining (outer) strides are left at 0.
  std::int64_t stride = 1;
  bool overflowed = false;
  for (std::size_t i = shape.size(); i-- > 0;) {
    a.strides_[i] = overflowed ? 0 : stride;
    const std::int64_t d = shape[i] == 0 ? 1 : shape[i];
    if (!overflowed && __builtin_mul_overflow(stride, d, &stride)) overflowed = true;
  }
  a.data_ = p;
  a.owner_ = std::shared_ptr<void>(p, AlignedFree{});
  return a;
}

Array Array::view(void *data, DType dtype, std::span<const std::int64_t> shape,
                  std::span<const std::int64_t> strides) {
  const std::int64_t n = checked_count(dtype, shape, "cannot make view");
  if (!strides.empty() && strides.size() != shape.size())
    throw Error(ErrorKind::Runtime,
                fmt::format("cannot make view: {} strides given for a rank-{} shape {}",
                            strides.size(), shape.size(), shape_str(shape)));
  if (!data && n > 0)
    throw Error(ErrorKind::Runtime,
                fmt::format("cannot make view: null data pointer for shape {}", shape_str(shape)));
  Array a;
  a.dtype_ = dtype;
  a.shape_.assign(shape.begin(), shape.end());
  if (strides.empty()) {
    a.strides_.assign(shape.size(), 0);
    std::int64_t stride = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
      a.strides_[i] = stride;
      stride *= shape[i] == 0 ? 1 : shape[i];
    }
  } else {
    a.strides_.assign(strides.begin(), strides.end());
  }
  a.data_ = data;
  return a;
}

std::int64_t Array::size() const {
  // A zero dim makes the array empty whatever the others are ((2^31, 28, 2^31, 0) is a valid
  // shape), and the product of the others need not fit in 64 bits: look for the zero first.
  // fuzz_npy found the overflow (fuzz/regressions/npy).
  for (std::int64_t d : shape_)
    if (d == 0) return 0;
  std::int64_t n = 1;
  for (std::int64_t d : shape_)
    n *= d; // no zero: the product was checked when the Array was made
  return n;
}

bool Array::is_contiguous() const {
  if (size() == 0) return true;
  std::int64_t expect = 1;
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expect) return false;
    expect *= shape_[i];
  }
  return true;
}

void *Array::element_ptr(std::span<const std::int64_t> idx) const {
  if (idx.size() != shape_.size())
    throw Error(ErrorKind::Runtime, fmt::format("element_ptr: {} indices for a rank-{} array",
                                                idx.size(), shape_.size()));
  std::int64_t off = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= shape_[i])
      throw Error(ErrorKind::Runtime,
                  fmt::format("element_ptr: index {} is out of range for dimension {} of size {}",
                              idx[i], i, shape_[i]));
    off += idx[i] * strides_[i];
  }
  return static_cast<char *>(data_) + off * dtype_size(dtype_);
}

Array Array::contiguous_copy() const {
  if (on_device())
    throw Error(ErrorKind::Runtime,
                fmt::format("this array is on cuda:{}: copy it to the host with Context::to_host "
                            "first",
                            device_));
  Array out = empty(dtype_, shape_);
  const std::int64_t n = size();
  if (n == 0) return out;
  const std::size_t esize = static_cast<std::size_t>(dtype_size(dtype_));
  std::vector<std::int64_t> idx(shape_.size(), 0);
  char *dst = static_cast<char *>(out.data_);
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t off = 0;
    for (std::size_t i = 0; i < idx.size(); ++i)
      off += idx[i] * strides_[i];
    std::memcpy(dst + static_cast<std::size_t>(k) * esize,
                static_cast<const char *>(data_) + off * static_cast<std::int64_t>(esize), esize);
    for (std::size_t i = idx.size(); i-- > 0;) { // odometer, last dim fastest (C order)
      if (++idx[i] < shape_[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

} // namespace xpr
