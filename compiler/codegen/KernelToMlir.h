// compiler/codegen/KernelToMlir.h — builds the MLIR function of one CPU kernel (internal to
// codegen: MLIR headers stay inside this folder).
#pragma once

#include "compiler/codegen/Kernel.h"

#include <mlir/IR/Builders.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <memory>
#include <string>

namespace xpr::cg {

/// Builds a module holding `func.func @<fn_name>` with the KernelFn C ABI, vectorized for
/// `vector_bits`-wide registers, plus private declarations of the SLEEF functions it calls.
/// Throws Error(Internal) for ops a kernel may not contain or malformed graphs.
mlir::OwningOpRef<mlir::ModuleOp> build_kernel_module(mlir::MLIRContext &ctx,
                                                      const ir::Graph &kernel,
                                                      const KernelSpec &spec, int vector_bits,
                                                      const std::string &fn_name);

/// The elementwise part of a kernel, for builders of other loop nests (ReduceToMlir.cpp): it
/// evaluates the kernel's outputs on `lanes` consecutive iterations at a time, with the same
/// element semantics as build_kernel_module. Inputs must be Contiguous or Scalar. `kernel` and
/// `spec` must outlive the emitter.
class MapEmitter {
public:
  MapEmitter(mlir::MLIRContext &ctx, const ir::Graph &kernel, const KernelSpec &spec, int lanes,
             int vector_bits);
  ~MapEmitter();
  MapEmitter(const MapEmitter &) = delete;
  MapEmitter &operator=(const MapEmitter &) = delete;
  /// The builder all emission goes through; position it before begin() and eval().
  mlir::OpBuilder &builder();
  /// Validates the kernel and, at the insertion point, loads the input pointers (ptrs[0..k) for
  /// the kernel's k inputs) and the param slots. SLEEF declarations go into `module`.
  void begin(mlir::ModuleOp module, mlir::Value ptrs, mlir::Value params);
  /// Output `output` at linear iterations pos .. pos + lanes - 1 (`pos`: i64), as a vector of its
  /// compute type (bool → i1, halves → f32). `mask` (vector<lanes x i1>, or null for all lanes)
  /// selects the lanes that are read; the others hold unspecified values.
  mlir::Value eval(mlir::Value pos, mlir::Value mask, int output);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Where a kernel's transcendental functions come from.
enum class MathLib : std::uint8_t {
  Sleef,     ///< SLEEF vector functions, resolved in the CPU JIT (SleefFns.def)
  Libdevice, ///< CUDA's libdevice `__nv_*` scalar functions, linked into the GPU module
};

/// The body of a GPU kernel (GpuJit.cpp): every output of the kernel at `lanes` consecutive
/// iterations, computed and stored with exactly the element semantics of build_kernel_module (it
/// is the same emitter, on `lanes`-wide vectors), transcendental functions from `lib`. With
/// lanes > 1 every operand must be Contiguous or Scalar, and Contiguous loads and stores are
/// aligned to the whole vector (the caller guarantees it). `kernel` and `spec` must outlive the
/// emitter.
class ElementEmitter {
public:
  ElementEmitter(mlir::MLIRContext &ctx, const ir::Graph &kernel, const KernelSpec &spec,
                 MathLib lib, int lanes = 1);
  ~ElementEmitter();
  ElementEmitter(const ElementEmitter &) = delete;
  ElementEmitter &operator=(const ElementEmitter &) = delete;
  /// The builder all emission goes through; position it before begin() and emit().
  mlir::OpBuilder &builder();
  /// Validates the kernel and, at the insertion point, loads every operand pointer (ptrs[k]:
  /// the inputs, then the outputs) and the param slots (KernelFn's layout). Function
  /// declarations (libdevice) go at the start of `decls`, the symbol table the calls resolve in.
  void begin(mlir::Block *decls, mlir::Value ptrs, mlir::Value params);
  /// Computes and stores every output at iterations pos .. pos + lanes - 1 (`pos` an integer:
  /// Contiguous operands use elements pos ...). `offsets[k]` is the element offset of operand k (inputs, then outputs) where
  /// its layout is Strided, and may be null elsewhere.
  void emit(mlir::Value pos, const std::vector<mlir::Value> &offsets);
  /// Output `output` at the same iterations, computed but not stored: a vector<lanes x T> of its
  /// compute type (bool → i1, halves → f32). Output pointers are loaded by begin() but unused
  /// (the GPU's reduce kernels evaluate their map this way).
  mlir::Value value(mlir::Value pos, const std::vector<mlir::Value> &offsets, int output);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Lanes per vector for this kernel: vector_bits / the widest compute type (f16/bf16 compute in
/// f32, bool counts as 8 bits).
int kernel_lanes(const ir::Graph &kernel, int vector_bits);

} // namespace xpr::cg
