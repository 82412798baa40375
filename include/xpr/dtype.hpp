// xpr/dtype.hpp — the element types of the xpr language and their properties.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace xpr {

/// Element types. The order is stable: it is part of cache keys and the AOT ABI.
enum class DType : std::uint8_t {
  Bool,                 ///< `bool`, one byte, 0 or 1
  I8, I16, I32, I64,    ///< signed integers (two's complement; overflow wraps)
  U8, U16, U32, U64,    ///< unsigned integers (overflow wraps)
  F16, BF16, F32, F64,  ///< IEEE half, bfloat16, single and double; halves compute in f32
};

/// The number of DType values.
inline constexpr int kNumDTypes = 13;

/// The language's spelling of a dtype: "bool", "i8", ..., "f64".
std::string_view dtype_name(DType t);
/// Parses a language spelling; nullopt if `s` names no dtype.
std::optional<DType> dtype_from_name(std::string_view s);
/// Bytes per element.
int dtype_size(DType t);

constexpr bool is_bool(DType t) { return t == DType::Bool; } ///< bool
/// i8, i16, i32 or i64.
constexpr bool is_signed_int(DType t) { return t >= DType::I8 && t <= DType::I64; }
/// u8, u16, u32 or u64.
constexpr bool is_unsigned_int(DType t) { return t >= DType::U8 && t <= DType::U64; }
/// Any integer dtype (bool is not one).
constexpr bool is_int(DType t) { return is_signed_int(t) || is_unsigned_int(t); }
/// f16, bf16, f32 or f64.
constexpr bool is_float(DType t) { return t >= DType::F16; }
/// f16 and bf16 are storage types: arithmetic on them happens in f32.
constexpr bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

///@{
/// Short names for the dtypes, as the language spells them: `xpr::view(p, xpr::f32, {n})`.
/// (`boolean`, because `bool` is taken.)
inline constexpr DType f16 = DType::F16, bf16 = DType::BF16, f32 = DType::F32,
                       f64 = DType::F64, i8 = DType::I8, i16 = DType::I16,
                       i32 = DType::I32, i64 = DType::I64, u8 = DType::U8,
                       u16 = DType::U16, u32 = DType::U32, u64 = DType::U64,
                       boolean = DType::Bool;
///@}

} // namespace xpr
