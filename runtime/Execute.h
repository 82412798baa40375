// runtime/Execute.h — runs a fused Plan on the CPU: binds shapes, allocates, launches kernels.
#pragma once

#include "compiler/codegen/CpuJit.h"
#include "compiler/codegen/Kernel.h"
#include "compiler/passes/Plan.h"
#include "runtime/Executor.h"

#include <xpr/array.hpp>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace xpr::rt {

class KernelCode;
class CompileLog;
struct CacheConfig;

/// A plan plus what each run would otherwise recompute: the printed text of every kernel
/// (its cache key).
struct CompiledPlan {
  passes::Plan plan;
  std::vector<std::string> kernel_text; ///< per step (a reduce step's: its map kernel)
  cg::Precision precision = cg::Precision::Accurate;
  /// Per step (a reduce step's: its map kernel), then one per reduce step whose accumulation the
  /// JIT generates (its KernelCode::index() names the step): the kernel with literals hoisted,
  /// its cache key text and its resolved functions (runtime/KernelCache.h).
  std::vector<std::shared_ptr<const KernelCode>> code;
  std::shared_ptr<const CacheConfig> cache; ///< the disk cache the kernels are looked up in
  std::shared_ptr<CompileLog> log;          ///< how each kernel was obtained (never null)
};

/// `cache` null: kernels are cached in memory only.
CompiledPlan prepare(passes::Plan plan, cg::Precision precision,
                     std::shared_ptr<const CacheConfig> cache = nullptr);

/// The text of one CPU lowering stage of every kernel of `cp`, for the layouts its operands get
/// when every array is contiguous (rank-0 operands are broadcast scalars), numbered by step
/// ("// kernel kN"). A reduce step shows the kernel that does its work: the JIT's block
/// accumulation where there is one, else its map kernel. Program::emit and the driver's --emit.
std::string emit_kernels(const CompiledPlan &cp, cg::Stage stage);

/// How one operand maps onto a kernel's iteration space.
struct OperandMap {
  cg::Layout layout = cg::Layout::Strided;
  std::vector<std::int64_t> strides; ///< iteration rank entries, 0 on broadcast dims
};
/// Right-aligns `shape`/`strides` against `iter` (NumPy broadcasting): missing leading dims and
/// size-1 dims under a larger extent get stride 0. Classifies the layout.
OperandMap map_operand(std::span<const std::int64_t> shape, std::span<const std::int64_t> strides,
                       std::span<const std::int64_t> iter);

/// The element offsets, from element 0, of an array's lowest element and one past its highest
/// ({0, 0} when it is empty; lo <= 0 < hi otherwise, strides may be negative).
struct ElementExtent {
  std::int64_t lo = 0, hi = 0;
};
ElementExtent element_extent(const Array &a);

/// Whether the memory of two arrays' elements may overlap (their byte intervals, lowest to
/// highest element, intersect; empty arrays overlap nothing). Pure address arithmetic: it
/// serves device arrays too.
bool overlaps(const Array &a, const Array &b);

/// Stores `s` converted to `dt` by the cast rules at the start of an 8-byte slot.
std::uint64_t pack_param(const Scalar &s, DType dt);

/// One packed slot per program param of `plan`, in order. Throws Error(Runtime) naming a param
/// that `params` lacks.
std::vector<std::uint64_t> pack_params(const passes::Plan &plan,
                                       const std::map<std::string, Scalar> &params);

/// Runs the plan. With `targets` null, allocates the outputs; otherwise writes into them
/// (checked: one per output, exact shape and dtype, no self-overlap). Inputs that overlap an
/// output are copied first unless the overlap is provably harmless (the same elements in the
/// same layout, read only by the kernel that writes them). Returns the outputs in plan order.
std::vector<Array> execute(const CompiledPlan &cp, Executor &ex,
                           const std::map<std::string, Array> &inputs,
                           const std::map<std::string, Scalar> &params,
                           const std::vector<Array> *targets = nullptr);

} // namespace xpr::rt
