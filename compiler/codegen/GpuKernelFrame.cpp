// compiler/codegen/GpuKernelFrame.cpp — see GpuKernelFrame.h.
#include "compiler/codegen/GpuKernelFrame.h"

#include <xpr/error.hpp>

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/GPU/IR/GPUDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/SCF/IR/SCF.h>

#include <algorithm>

namespace xpr::cg {

void gpu_internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "gpu codegen: " + msg);
}

GpuFrame open_gpu_kernel(mlir::MLIRContext &ctx, ElementEmitter &em, ElementEmitter *emv,
                         const ir::Graph &g, const GpuKernelSpec &gs,
                         const std::vector<Layout> &layouts, const std::string &name, int ntail) {
  using namespace mlir;
  GpuFrame f;
  Location loc = UnknownLoc::get(&ctx);
  OpBuilder &b = em.builder();
  f.top = ModuleOp::create(loc);
  b.setInsertionPointToEnd(f.top->getBody());
  auto gm = b.create<gpu::GPUModuleOp>(loc, "xpr_gpu");
  f.gbody = &gm.getBodyRegion().front();
  const int nops = static_cast<int>(layouts.size());
  const int nparams = static_cast<int>(g.params().size());
  const int r = gs.spec.rank;
  for (int k = 0; k < nops; ++k)
    if (r > 0 && layouts[static_cast<std::size_t>(k)] == Layout::Strided) f.strided.push_back(k);

  Type ptr = LLVM::LLVMPointerType::get(&ctx);
  Type i64 = b.getI64Type();
  f.it = gs.index64 ? i64 : b.getI32Type();
  SmallVector<Type> args(nops, ptr);
  args.append(nparams + r + r * f.strided.size() + ntail, i64);
  b.setInsertionPointToStart(f.gbody);
  auto fn = b.create<gpu::GPUFuncOp>(loc, name, b.getFunctionType(args, {}));
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  f.entry = &fn.getBody().front();
  b.setInsertionPointToStart(f.entry);
  auto arg = [&](int i) { return f.entry->getArgument(static_cast<unsigned>(i)); };
  auto c64 = [&](std::int64_t v) { return b.create<LLVM::ConstantOp>(loc, i64, v); };

  // The emitter reads KernelFn-style arrays of pointers and param slots. They live in local
  // memory only until SROA turns them back into the kernel parameters.
  auto array = [&](Type elem, int n) {
    return b.create<LLVM::AllocaOp>(loc, ptr, LLVM::LLVMArrayType::get(elem, std::max(n, 1)),
                                    c64(1), 8);
  };
  f.ptrs = array(ptr, nops);
  f.params = array(i64, nparams);
  for (int k = 0; k < nops; ++k) {
    Value slot = b.create<LLVM::GEPOp>(loc, ptr, ptr, f.ptrs, ArrayRef<LLVM::GEPArg>{k});
    b.create<LLVM::StoreOp>(loc, arg(k), slot);
  }
  for (int k = 0; k < nparams; ++k) {
    Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, f.params, ArrayRef<LLVM::GEPArg>{k});
    b.create<LLVM::StoreOp>(loc, arg(nops + k), slot);
  }
  em.begin(f.gbody, f.ptrs, f.params);
  if (emv) {
    emv->builder().restoreInsertionPoint(b.saveInsertionPoint());
    emv->begin(f.gbody, f.ptrs, f.params);
  }
  auto to_it = [&](Value v) {
    return gs.index64 ? v : Value(b.create<arith::TruncIOp>(loc, f.it, v));
  };
  int a = nops + nparams;
  for (int d = 0; d < r; ++d)
    f.shape.push_back(to_it(arg(a++)));
  for (std::size_t j = 0; j < f.strided.size(); ++j) {
    f.st.emplace_back();
    for (int d = 0; d < r; ++d)
      f.st.back().push_back(to_it(arg(a++)));
  }
  for (int k = 0; k < ntail; ++k)
    f.tail.push_back(to_it(arg(a++)));
  return f;
}

std::vector<mlir::Value> gpu_strided_offsets(mlir::OpBuilder &b, const GpuFrame &f, mlir::Value i,
                                             int nops) {
  using namespace mlir;
  Location loc = b.getUnknownLoc();
  std::vector<Value> offsets(static_cast<std::size_t>(nops));
  if (f.strided.empty()) return offsets;
  const int r = static_cast<int>(f.shape.size());
  std::vector<Value> ix(static_cast<std::size_t>(r));
  Value q = i;
  for (int d = r - 1; d > 0; --d) {
    ix[d] = b.create<arith::RemUIOp>(loc, q, f.shape[d]);
    q = b.create<arith::DivUIOp>(loc, q, f.shape[d]);
  }
  ix[0] = q;
  for (std::size_t j = 0; j < f.strided.size(); ++j) {
    Value off = b.create<arith::MulIOp>(loc, ix[0], f.st[j][0]);
    for (int d = 1; d < r; ++d)
      off = b.create<arith::AddIOp>(loc, off, b.create<arith::MulIOp>(loc, ix[d], f.st[j][d]));
    offsets[static_cast<std::size_t>(f.strided[j])] = off;
  }
  return offsets;
}

void gpu_stride_loop(mlir::OpBuilder &b, mlir::Type it, mlir::Value lo, mlir::Value hi,
                     mlir::Value step, const std::function<void(mlir::Value)> &body) {
  using namespace mlir;
  Location loc = b.getUnknownLoc();
  auto w = b.create<scf::WhileOp>(loc, TypeRange{it}, ValueRange{lo});
  OpBuilder::InsertionGuard guard(b);
  Block *before = b.createBlock(&w.getBefore(), {}, {it}, {loc});
  Value i = before->getArgument(0);
  b.create<scf::ConditionOp>(loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, i, hi),
                             ValueRange{i});
  Block *after = b.createBlock(&w.getAfter(), {}, {it}, {loc});
  i = after->getArgument(0);
  body(i);
  b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddIOp>(loc, i, step)});
}

} // namespace xpr::cg
