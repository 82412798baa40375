// compiler/codegen/GpuKernelFrame.h — what every GPU kernel function starts with (the
// gpu.module, the gpu.func and its arguments) and the loops and offsets both kernel builders use:
// the elementwise one in GpuJit.cpp and the reduce one in GpuReduceToMlir.cpp. Internal to
// compiler/codegen: it includes MLIR headers.
#pragma once

#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/KernelToMlir.h"

#include <mlir/IR/Builders.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/OwningOpRef.h>

#include <functional>
#include <string>
#include <vector>

namespace xpr::cg {

/// Throws Error(Internal) "gpu codegen: <msg>".
[[noreturn]] void gpu_internal(const std::string &msg);

/// What every kernel function starts with: the gpu.module and gpu.func, the KernelFn-style
/// arrays of operand pointers and param slots the emitter reads, and the index arguments.
struct GpuFrame {
  mlir::OwningOpRef<mlir::ModuleOp> top;
  mlir::Block *gbody = nullptr, *entry = nullptr;
  mlir::Value ptrs, params;
  mlir::Type it;                            // the index type: i32 or i64
  std::vector<mlir::Value> shape;           // the iteration shape, in `it`
  std::vector<int> strided;                 // operands with a Strided layout (rank > 0)
  std::vector<std::vector<mlir::Value>> st; // their strides, in `it`
  std::vector<mlir::Value> tail;            // the i64 arguments after the strides, in `it`
};

/// Opens the kernel `name` with `nops` pointer operands of layouts `layouts` and `ntail` i64
/// arguments after the strides, then starts `em` (and `emv`) on it.
GpuFrame open_gpu_kernel(mlir::MLIRContext &ctx, ElementEmitter &em, ElementEmitter *emv,
                         const ir::Graph &g, const GpuKernelSpec &gs,
                         const std::vector<Layout> &layouts, const std::string &name, int ntail);

/// The element offset of each Strided operand at linear iteration `i` (C order; unsigned
/// division: cheaper, and every index is >= 0); null for the others.
std::vector<mlir::Value> gpu_strided_offsets(mlir::OpBuilder &b, const GpuFrame &f, mlir::Value i,
                                             int nops);

/// One loop over [lo, hi) by `step` (unsigned compare: i + step never wraps, as i < 2^31
/// (2^63) and step < 2^31): body(i) at each i.
void gpu_stride_loop(mlir::OpBuilder &b, mlir::Type it, mlir::Value lo, mlir::Value hi,
                     mlir::Value step, const std::function<void(mlir::Value)> &body);

} // namespace xpr::cg
