// compiler/codegen/ReduceKernel.h — what a JIT reduce kernel is (a map kernel plus the
// fixed-order accumulation of whole blocks) and its calling convention. MLIR-free: the runtime
// includes it.
#pragma once

#include "compiler/codegen/Kernel.h"
#include "compiler/ir/Graph.h"

#include <cstdint>

namespace xpr::cg {

/// The blocking of every float sum (docs/semantics.md, "Reductions"): each output's values go in
/// blocks of kReduceBlock, a block in leaves of kReduceLeaf values, value i of a leaf into
/// accumulator i mod kReduceLanes. Changing any of these changes results, so they are constants
/// shared by the generated code and the runtime's C++ fallback (runtime/Reduce.cpp), never tuned
/// per machine.
inline constexpr std::int64_t kReduceLanes = 16;
inline constexpr std::int64_t kReduceLeaf = 256;
inline constexpr std::int64_t kReduceBlock = 4096;

/// Whether the JIT generates the accumulation of `op` over map values of dtype `value` (the
/// map's output, already in the accumulation dtype): sum, mean and prod of i64/u64/f32/f64;
/// min and max of every int dtype, bool, f32 and f64; any and all of bool. argmin/argmax have
/// no CPU reduce kernel (the runtime's C++ loops reduce them); the GPU's are made by
/// make_reduce_kernel too (see is_arg_reduce).
bool reduce_kernel_supported(ir::Op op, DType value);

/// The name of a reduce kernel's one output: it marks the graph as a reduce kernel (no script
/// output or fused kernel output can be named so: it is not an identifier).
inline constexpr const char *kReducePartials = "reduce.partials";

/// The graph of a reduce kernel: `map` (an elementwise kernel with one output, out0) whose output
/// is replaced by `op` over all of its dims, named kReducePartials (argmin/argmax too: an i64
/// reduce node, for the GPU). Printed, it is the IR part of
/// the kernel cache key, so a reduce kernel never shares an entry with its map. Throws
/// Error(Internal) if the map has not exactly one output or the combination is not supported.
ir::Graph make_reduce_kernel(const ir::Graph &map, ir::Op op);

/// True if `kernel` was made by make_reduce_kernel (its one output is a reduction of everything
/// before it, named kReducePartials): CpuJit then builds the block reduction (ReduceToMlir.h)
/// instead of an elementwise loop. Any other graph with a reduction stays an error there.
bool is_reduce_kernel(const ir::Graph &kernel);

/// argmin or argmax: reductions to (value, index) pairs, run by GPU reduce kernels only.
inline bool is_arg_reduce(ir::Op op) { return op == ir::Op::ArgMin || op == ir::Op::ArgMax; }

/// The dtype of the partial values a GPU reduce kernel stores for `op` over map values of dtype
/// `value`: the value's own, except that argmin/argmax compare halves in f32.
inline DType reduce_partial_dtype(ir::Op op, DType value) {
  return is_arg_reduce(op) && is_half(value) ? DType::F32 : value;
}

/// The name of the second input of a combining argmin/argmax kernel: the partial results'
/// indices (i64), read beside their values.
inline constexpr const char *kReduceIndices = "reduce.indices";

/// The reduce kernel that combines partial results: `partials: value[n]` reduced by `op` (sum
/// for sum and mean, as comb rules go). Its map is a plain load; the GPU's combining passes
/// run it. For argmin/argmax, `value` is the partial values' compute type (f32 for halves) and
/// a second input, kReduceIndices: i64[n], holds their indices.
ir::Graph make_combine_kernel(ir::Op op, DType value);

/// The elementwise kernel that finishes a GPU reduction: `r: value[n]` (the last pass's
/// results) to `out0: out[n]`, divided by the count first for mean (in f64, as the CPU), then
/// cast to `out` by the cast rules (runtime/Reduce.cpp's put()). For mean its one Param, named
/// kReduceCount (f64), is the number of values each result reduced: a runtime value, so one
/// compiled kernel serves every length. Other ops have no Param.
ir::Graph make_finish_kernel(ir::Op op, DType value, DType out);
inline constexpr const char *kReduceCount = "reduce.count";

/// Whether the GPU reduces `op` over map values of dtype `value`: where the CPU has a reduce
/// kernel (reduce_kernel_supported), and argmin/argmax of every dtype.
inline bool gpu_reduce_supported(ir::Op op, DType value) {
  return reduce_kernel_supported(op, value) || is_arg_reduce(op);
}

/// The map of a reduce kernel: `kernel` without its final reduce node, its one output (out0)
/// the reduced value. Throws Error(Internal) if `kernel` is not a reduce kernel.
ir::Graph reduce_kernel_map(const ir::Graph &kernel);

// The calling convention of a reduce kernel: the KernelFn signature, with
//   ptrs    the map's inputs (KernelSpec::inputs: Contiguous or Scalar over the iteration space,
//           in the order the runtime walks it: each output's n values consecutive), then
//           `partials`, an array of the value dtype (bool as a 0/1 byte)
//   strides unused (may be null)
//   params  the map's param slots, as for an elementwise kernel
//   shape   shape[0] = n > 0, the number of values each output reduces
//   begin, end  a range of blocks ("units"): unit u is block k = u mod nb of output
//           o = u div nb, with nb = ceil(n / kReduceBlock); it covers iterations
//           [o*n + k*kReduceBlock, o*n + min(n, (k+1)*kReduceBlock)). The kernel stores the
//           block's value, reduced in the documented fixed order, at partials[u].
// The spec's `outputs` holds one Contiguous entry (the partials), so reduce kernels also differ
// from elementwise ones in their cache key's layouts.

} // namespace xpr::cg
