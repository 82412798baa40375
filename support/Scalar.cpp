// support/Scalar.cpp — xpr::Scalar conversions, following the cast rules of docs/semantics.md.
#include <xpr/array.hpp>

#include <cmath>

namespace xpr {

namespace {
// float -> int saturates (NaN -> 0); the bounds are powers of two, exact in double.
std::int64_t sat_i64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 0x1p63) return INT64_MAX;
  if (v <= -0x1p63) return INT64_MIN;
  return static_cast<std::int64_t>(v); // truncates toward zero, in range
}
std::uint64_t sat_u64(double v) {
  if (std::isnan(v) || v <= 0) return 0;
  if (v >= 0x1p64) return UINT64_MAX;
  return static_cast<std::uint64_t>(v);
}
} // namespace

double Scalar::as_double() const {
  switch (kind_) {
  case Kind::Bool:
    return b_ ? 1.0 : 0.0;
  case Kind::Int:
    return static_cast<double>(i_);
  case Kind::UInt:
    return static_cast<double>(u_);
  case Kind::Float:
    return f_;
  }
  return 0;
}

std::int64_t Scalar::as_int() const {
  switch (kind_) {
  case Kind::Bool:
    return b_ ? 1 : 0;
  case Kind::Int:
    return i_;
  case Kind::UInt:
    return static_cast<std::int64_t>(u_); // wraps, as int -> int casts do
  case Kind::Float:
    return sat_i64(f_);
  }
  return 0;
}

std::uint64_t Scalar::as_uint() const {
  switch (kind_) {
  case Kind::Bool:
    return b_ ? 1 : 0;
  case Kind::Int:
    return static_cast<std::uint64_t>(i_);
  case Kind::UInt:
    return u_;
  case Kind::Float:
    return sat_u64(f_);
  }
  return 0;
}

bool Scalar::as_bool() const {
  switch (kind_) {
  case Kind::Bool:
    return b_;
  case Kind::Int:
    return i_ != 0;
  case Kind::UInt:
    return u_ != 0;
  case Kind::Float:
    return f_ != 0 || std::isnan(f_); // NaN -> true
  }
  return false;
}

} // namespace xpr
