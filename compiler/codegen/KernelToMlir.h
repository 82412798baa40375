// compiler/codegen/KernelToMlir.h — builds the MLIR function of one CPU kernel (internal to
// codegen: MLIR headers stay inside this folder).
#pragma once

#include "compiler/codegen/Kernel.h"

#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <string>

namespace xpr::cg {

/// Builds a module holding `func.func @<fn_name>` with the KernelFn C ABI, vectorized for
/// `vector_bits`-wide registers, plus private declarations of the SLEEF functions it calls.
/// Throws Error(Internal) for ops a kernel may not contain or malformed graphs.
mlir::OwningOpRef<mlir::ModuleOp> build_kernel_module(mlir::MLIRContext &ctx,
                                                      const ir::Graph &kernel,
                                                      const KernelSpec &spec, int vector_bits,
                                                      const std::string &fn_name);

/// Lanes per vector for this kernel: vector_bits / the widest compute type (f16/bf16 compute in
/// f32, bool counts as 8 bits).
int kernel_lanes(const ir::Graph &kernel, int vector_bits);

} // namespace xpr::cg
