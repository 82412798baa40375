// compiler/codegen/SleefSymbols.cpp — addresses of the SLEEF functions, handed to the JIT as
// absolute symbols so kernels resolve them without searching the process (and so the linker
// keeps libsleef loaded). sleef.h is deliberately not included: its vector types need ISA flags
// this TU is not built with; only the addresses matter here.
#include "compiler/codegen/SleefSymbols.h"

#define XPR_SLEEF_W(base, w, ulp) extern "C" void Sleef_##base##w##ulp();
#define XPR_SLEEF(base, ulp)                                                                  \
  XPR_SLEEF_W(base, f4, ulp) XPR_SLEEF_W(base, f8, ulp) XPR_SLEEF_W(base, f16, ulp)           \
  XPR_SLEEF_W(base, d2, ulp) XPR_SLEEF_W(base, d4, ulp) XPR_SLEEF_W(base, d8, ulp)
#include "compiler/codegen/SleefFns.def"
#undef XPR_SLEEF_W

namespace xpr::cg {

const std::vector<SleefSymbol> &sleef_symbols() {
  static const std::vector<SleefSymbol> table = {
#define XPR_SLEEF_W(base, w, ulp)                                                             \
  {"Sleef_" #base #w #ulp, reinterpret_cast<void *>(&Sleef_##base##w##ulp)},
#define XPR_SLEEF(base, ulp)                                                                  \
  XPR_SLEEF_W(base, f4, ulp) XPR_SLEEF_W(base, f8, ulp) XPR_SLEEF_W(base, f16, ulp)           \
  XPR_SLEEF_W(base, d2, ulp) XPR_SLEEF_W(base, d4, ulp) XPR_SLEEF_W(base, d8, ulp)
#include "compiler/codegen/SleefFns.def"
#undef XPR_SLEEF_W
  };
  return table;
}

} // namespace xpr::cg
