// compiler/codegen/GpuNarrowInt.h — a last LLVM IR rewrite before NVPTX code generation: the 8- and
// 16-bit integer operations that ptxas compiles wrongly are computed in 32 bits (see the .cpp).
#pragma once

namespace llvm {
class Module;
}

namespace xpr::cg {

/// Rewrites `llvm.abs`, `llvm.smax/smin/umax/umin` and negation (`sub 0, x`) on integers (or
/// vectors of integers) narrower than 32 bits into 32-bit operations whose result is truncated
/// in a way the backend keeps. Returns the number of instructions rewritten. Must run after the
/// -O2 pipeline, which would narrow them again.
int widen_narrow_int_ops(llvm::Module &m);

} // namespace xpr::cg
