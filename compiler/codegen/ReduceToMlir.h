// compiler/codegen/ReduceToMlir.h — builds the MLIR function of a reduce kernel (ReduceKernel.h):
// the map evaluated straight from the inputs into vector accumulators, block by block (internal
// to codegen: MLIR headers stay inside this folder).
#pragma once

#include "compiler/codegen/Kernel.h"

#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <string>

namespace xpr::cg {

/// Builds a module holding `func.func @<fn_name>` with the reduce-kernel convention of
/// ReduceKernel.h for `kernel` (made by make_reduce_kernel). Each block is reduced in exactly the
/// order of docs/semantics.md ("Reductions") — 16 interleaved accumulators per 256-value leaf,
/// leaves combined by the binary counter, then the 16 lanes pairwise — so its value has the bits
/// of the runtime's C++ loops. Throws Error(Internal) for malformed kernels or specs.
mlir::OwningOpRef<mlir::ModuleOp> build_reduce_module(mlir::MLIRContext &ctx,
                                                      const ir::Graph &kernel,
                                                      const KernelSpec &spec, int vector_bits,
                                                      const std::string &fn_name);

} // namespace xpr::cg
