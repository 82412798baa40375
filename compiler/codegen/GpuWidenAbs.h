// compiler/codegen/GpuWidenAbs.h — a last LLVM IR rewrite before NVPTX code generation: 16-bit
// (and 8-bit) integer abs computed in 32 bits (see GpuWidenAbs.cpp for the why).
#pragma once

namespace llvm {
class Module;
}

namespace xpr::cg {

/// Replaces every `llvm.abs` on an integer (or vector of integers) narrower than 32 bits with
/// `trunc(llvm.abs.i32(sext x))`. Returns the number of calls replaced. Run after the -O2
/// pipeline, which folds the wide form back into the narrow one.
int widen_narrow_abs(llvm::Module &m);

} // namespace xpr::cg
