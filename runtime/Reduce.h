// runtime/Reduce.h — runs reduce steps (their map kernels fused in) and row groups on the CPU:
// parallel over fixed blocks, with results bitwise independent of the thread count.
//
// How a reduction is computed (docs/semantics.md, "Reductions", states the resulting error bound):
// the operand's iteration space is ordered [leading kept dims (the batch), then either the other
// kept dims and the reduced dims (inner schedule: the last dim is reduced, each output reduces a
// contiguous run), or the reduced dims and the other kept dims (outer schedule: column reductions,
// accumulated across a tile of outputs with vector instructions)]. The map kernel evaluates a block
// of that space into a per-thread scratch buffer that stays in L1/L2, and the block is reduced at
// once. Block boundaries and the combination order depend only on the shapes:
//   inner: leaves of 256 elements summed by 16 interleaved accumulators (lane j takes elements
//          j, j+16, ...), 16 leaves per 4096-element block combined pairwise, the 16 lanes
//          pairwise, then the blocks of one output pairwise;
//   outer: leaves of 16 rows summed sequentially per output, 16 leaves per 256-row block combined
//          pairwise, then the blocks pairwise.
// Threads take whole blocks, so the thread count changes who computes a block, never its value.
//
// Who computes a block: for the inner schedule with every map input Contiguous or Scalar in the
// permuted space, and an op/value dtype that cg::reduce_kernel_supported accepts (sum, mean, prod,
// min, max, any, all), a JIT reduce kernel (compiler/codegen/ReduceKernel.h) evaluates the map
// straight into vector accumulators and stores one partial per block, in the same order, so the
// bits are those of the C++ loops below. Everything else (argmin/argmax, strided or broadcast
// operands, the outer schedule) takes the C++ loops over a scratch block. The
// runtime combines a row's block partials pairwise in either case.
#pragma once

#include "compiler/ir/Bind.h"
#include "runtime/Execute.h"
#include "runtime/Executor.h"

#include <xpr/array.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace xpr::rt {

/// The most memory (bytes, summed over the buffers a row group touches) one tile of rows of a row
/// group may span: small enough that the tile is still in a core's L2 cache when the group's next
/// step reads it. A group whose single row is larger runs step by step instead.
inline constexpr std::int64_t kRowTileBytes = 256 * 1024;

/// The reduce kernel of reduce step `r` (its map with the accumulation generated, see
/// compiler/codegen/ReduceKernel.h), named `index` in compile logs; null when the JIT has none
/// for the step's op and value dtype. prepare() appends these after the per-step kernels.
std::shared_ptr<const KernelCode> make_reduce_code(const passes::ReduceStep &r, int index);

/// The JIT reduce kernel prepare() made for reduce step `step` (its KernelCode::index() names
/// the step), or null when the step's op and value dtype have none. The cuda target runs it too.
const KernelCode *reduce_kernel_code(const CompiledPlan &cp, std::size_t step);

/// Throws Error(Runtime) "<op> of an empty array has no identity" when min, max, argmin or
/// argmax reduce an empty extent (n == 0), on any target.
void check_reduce_extent(ir::Op op, std::int64_t n);

/// Whether reductions may use JIT reduce kernels (default: on, unless the environment sets
/// XPR_REDUCE_JIT=0). Off, every reduction takes the C++ loops; results are the same bits. For
/// tests and benchmarks that compare the two paths; read each time a reduce step starts.
void set_reduce_jit(bool on);
bool reduce_jit();

/// Process-wide counts of reductions run (one per reduce step and run) by each path.
struct ReduceCounters {
  std::uint64_t jit = 0, fallback = 0;
};
ReduceCounters reduce_counters();

/// Runs reduce step `step` of `cp.plan` (kind Reduce) on `ex`. `slots` holds the program's params
/// packed by pack_param. Throws Error(Runtime) "<op> of an empty array has no identity" for
/// min/max/argmin/argmax over an empty reduced extent.
void run_reduce_step(const CompiledPlan &cp, std::size_t step, std::vector<Array> &bufs,
                     const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms,
                     Executor &ex);

/// Runs the row group that starts at step `first`, tile of rows by tile of rows (or step by step
/// when a row does not fit kRowTileBytes or there are fewer tiles than threads); returns the index
/// of the group's last step.
std::size_t run_row_group(const CompiledPlan &cp, std::size_t first, std::vector<Array> &bufs,
                          const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms,
                          Executor &ex);

} // namespace xpr::rt
