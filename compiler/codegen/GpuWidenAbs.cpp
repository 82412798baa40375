// compiler/codegen/GpuWidenAbs.cpp — why 16-bit abs is computed in 32 bits on the GPU.
//
// LLVM canonicalizes our `x < 0 ? 0 - x : x` into `llvm.abs(x, false)`, whose result for the most
// negative value is that value again (-32768 for i16), as on the CPU. NVPTX emits it as
// `abs.s16`. On an H200 (sm_90, driver 580, checked 2026-12-04 by tests/gpu/CudaTest.cpp's
// differential and edge-value tests) the machine code ptxas makes of `abs.s16` yields +32768 in
// the 32-bit register that holds the 16-bit value, and the instructions that read it as a signed
// 16-bit value afterwards (`shr.s16`, `setp.lt.s16`, ...) see a positive number:
// `sign(abs(a))` gave 1 and `pow(13, abs(a))` gave 1 for a = -32768, where the interpreter, the
// CPU and the declared semantics (two's-complement wrap) give -1 and 0.
//
// `trunc(abs.i32(sext x))` is the same function, and NVPTX emits it as `abs.s32` followed by a
// `cvt.u16.u32`, whose result is a proper 16-bit value. The -O2 pipeline narrows that form back
// to `llvm.abs.i16`, so the rewrite runs after it, just before instruction selection.
#include "compiler/codegen/GpuWidenAbs.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace xpr::cg {

int widen_narrow_abs(llvm::Module &m) {
  std::vector<llvm::IntrinsicInst *> calls;
  for (llvm::Function &f : m)
    for (llvm::BasicBlock &bb : f)
      for (llvm::Instruction &i : bb)
        if (auto *ii = llvm::dyn_cast<llvm::IntrinsicInst>(&i);
            ii && ii->getIntrinsicID() == llvm::Intrinsic::abs &&
            ii->getType()->getScalarSizeInBits() < 32)
          calls.push_back(ii);
  for (llvm::IntrinsicInst *ii : calls) {
    llvm::IRBuilder<> b(ii);
    llvm::Type *narrow = ii->getType();
    llvm::Type *wide = narrow->getWithNewBitWidth(32);
    llvm::Value *x = b.CreateSExt(ii->getArgOperand(0), wide);
    // is_int_min_poison = false: sext(INT16_MIN) is not INT32_MIN, and the truncation wraps.
    llvm::Value *a = b.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, b.getFalse());
    ii->replaceAllUsesWith(b.CreateTrunc(a, narrow));
    ii->eraseFromParent();
  }
  return static_cast<int>(calls.size());
}

} // namespace xpr::cg
