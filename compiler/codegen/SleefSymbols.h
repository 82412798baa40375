// compiler/codegen/SleefSymbols.h — the SLEEF entry points the CPU JIT may call, by name.
#pragma once

#include <vector>

namespace xpr::cg {

struct SleefSymbol {
  const char *name;
  void *address;
};
/// Every function listed in SleefFns.def, at every vector width (f4 f8 f16 d2 d4 d8).
const std::vector<SleefSymbol> &sleef_symbols();

} // namespace xpr::cg
