// support/DType.cpp — names and sizes of the element types.
#include <xpr/dtype.hpp>

#include <array>

namespace xpr {

namespace {
struct Info {
  std::string_view name;
  int size;
};
constexpr std::array<Info, kNumDTypes> kInfo = {{
    {"bool", 1}, {"i8", 1}, {"i16", 2}, {"i32", 4}, {"i64", 8}, {"u8", 1}, {"u16", 2},
    {"u32", 4}, {"u64", 8}, {"f16", 2}, {"bf16", 2}, {"f32", 4}, {"f64", 8},
}};
} // namespace

std::string_view dtype_name(DType t) { return kInfo[static_cast<int>(t)].name; }
int dtype_size(DType t) { return kInfo[static_cast<int>(t)].size; }
std::optional<DType> dtype_from_name(std::string_view s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kInfo[i].name == s) return static_cast<DType>(i);
  return std::nullopt;
}

} // namespace xpr
