// compiler/codegen/GpuNarrowInt.cpp — why some 8/16-bit integer operations are computed in 32 bits
// on the GPU.
//
// ptxas keeps a 16-bit PTX value in a 32-bit register and tracks whether the upper half holds its
// sign extension. For a few instructions that tracking is wrong (ptxas 13.0 and the 580 driver's
// JIT, sm_90; found on an H200 on 2026-12-04 by tests/gpu/CudaTest.cpp and read in the SASS):
//
// - `abs.s16` becomes IABS of the sign-extended value, and the result is taken as sign-extended:
//   abs(-32768) is +32768 in the register, so a later `shr.s16 x, 15` (SHF.R.S32) gives 1, not -1.
// - `neg.s16` (and `sub.s16 0, x`, which ptxas turns into the same negation) likewise: -(-32768)
//   is +32768 to every following signed use (`i64(-a)` gave 32768).
// - `max.s16` followed by `setp.eq.s16 r, 0` is fused into VIMNMX.S16x2 with a predicate output
//   that reads the wrong half: the exponent loop of integer `pow` was skipped (pow(13, 5) = 1).
//
// 8-bit operations are promoted by NVPTX to these same 16-bit instructions. The rewrite computes
// each in 32 bits: `trunc(abs.i32(sext x))` and `trunc(smax.i32(sext a, sext b))` stay 32-bit
// through instruction selection (`abs.s32`/`max.s32` + `cvt.u16.u32`, after which ptxas
// sign-extends properly). Negation is narrowed back to `neg.s16` by the DAG combiner whatever
// the IR says, so its truncation is an inline-asm `cvt`, which nothing folds. The -O2 pipeline
// would narrow all of them again, so this runs after it, just before instruction selection.
#include "compiler/codegen/GpuNarrowInt.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PatternMatch.h>

#include <vector>

namespace xpr::cg {
namespace {

bool narrow_int(llvm::Type *t) {
  return t->isIntOrIntVectorTy() && t->getScalarSizeInBits() > 1 && t->getScalarSizeInBits() < 32;
}

bool sign_extends_operands(llvm::Intrinsic::ID id) {
  return id == llvm::Intrinsic::smax || id == llvm::Intrinsic::smin || id == llvm::Intrinsic::abs;
}

/// `trunc` of a 32-bit value to i16 that the DAG combiner cannot fold away: a `cvt` in inline asm.
llvm::Value *opaque_trunc16(llvm::IRBuilder<> &b, llvm::Value *wide) {
  auto *fty = llvm::FunctionType::get(b.getInt16Ty(), {b.getInt32Ty()}, false);
  auto *cvt = llvm::InlineAsm::get(fty, "cvt.u16.u32 $0, $1;", "=h,r", /*hasSideEffects=*/false);
  return b.CreateCall(fty, cvt, {wide});
}

} // namespace

int widen_narrow_int_ops(llvm::Module &m) {
  using namespace llvm::PatternMatch;
  std::vector<llvm::Instruction *> work;
  for (llvm::Function &f : m)
    for (llvm::BasicBlock &bb : f)
      for (llvm::Instruction &i : bb) {
        if (!narrow_int(i.getType())) continue;
        if (auto *ii = llvm::dyn_cast<llvm::IntrinsicInst>(&i)) {
          switch (ii->getIntrinsicID()) {
          case llvm::Intrinsic::abs:
          case llvm::Intrinsic::smax:
          case llvm::Intrinsic::smin:
          case llvm::Intrinsic::umax:
          case llvm::Intrinsic::umin: work.push_back(&i); break;
          default: break;
          }
        } else if (i.getType()->getScalarSizeInBits() == 16 && match(&i, m_Neg(m_Value()))) {
          // (8-bit negation is already right: NVPTX sign-extends i8 explicitly before each use.)
          work.push_back(&i);
        }
      }
  for (llvm::Instruction *i : work) {
    llvm::IRBuilder<> b(i);
    llvm::Type *narrow = i->getType();
    llvm::Type *wide = narrow->getWithNewBitWidth(32);
    llvm::Value *r = nullptr;
    if (auto *ii = llvm::dyn_cast<llvm::IntrinsicInst>(i)) {
      const llvm::Intrinsic::ID id = ii->getIntrinsicID();
      auto ext = [&](llvm::Value *v) {
        return sign_extends_operands(id) ? b.CreateSExt(v, wide) : b.CreateZExt(v, wide);
      };
      llvm::Value *w =
          id == llvm::Intrinsic::abs
              // is_int_min_poison = false: sext(INT16_MIN) is not INT32_MIN; the trunc wraps.
              ? b.CreateBinaryIntrinsic(id, ext(ii->getArgOperand(0)), b.getFalse())
              : b.CreateBinaryIntrinsic(id, ext(ii->getArgOperand(0)), ext(ii->getArgOperand(1)));
      r = b.CreateTrunc(w, narrow);
    } else {
      // Negation, lane by lane for vectors (the inline asm is scalar).
      llvm::Value *x = i->getOperand(1);
      auto neg1 = [&](llvm::Value *s) {
        llvm::Value *w = b.CreateSub(b.getInt32(0), b.CreateSExt(s, b.getInt32Ty()));
        return opaque_trunc16(b, w);
      };
      if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(narrow)) {
        r = llvm::PoisonValue::get(vt);
        for (unsigned k = 0; k < vt->getNumElements(); ++k)
          r = b.CreateInsertElement(r, neg1(b.CreateExtractElement(x, k)), k);
      } else {
        r = neg1(x);
      }
    }
    i->replaceAllUsesWith(r);
    i->eraseFromParent();
  }
  return static_cast<int>(work.size());
}

} // namespace xpr::cg
