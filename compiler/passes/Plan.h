// compiler/passes/Plan.h — the output of fusion: buffers and an ordered list of kernel and reduce steps.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xpr::passes {

enum class BufferKind : std::uint8_t {
  Input,        ///< a program input (caller memory, read only)
  Output,       ///< a program output (allocated per run, or a run_into target)
  Intermediate, ///< allocated per run; holds a reduction's operand or result
};

/// One array a step reads or writes. Shapes stay symbolic; the runtime binds them per run.
struct Buffer {
  BufferKind kind = BufferKind::Intermediate;
  std::string name; ///< input/output name; "t<k>" for intermediates
  ir::Type type;
  int index = -1;   ///< position among program inputs / outputs; -1 for intermediates
};

/// A fused elementwise kernel over one iteration space. Its Input nodes are named in0, in1, ...
/// and its Param nodes p0, p1, ... (canonical names, so equal kernels print equally and share
/// one compiled function); outputs are out0, out1, ...
struct KernelStep {
  ir::Graph kernel;
  std::vector<ir::Dim> iter_dims;   ///< the iteration shape (every output has it)
  std::vector<int> inputs;          ///< buffer id per kernel Input node (Graph::inputs() order)
  std::vector<int> params;          ///< program param index per kernel Param node
  std::vector<int> outputs;         ///< buffer id per kernel output
};

/// A reduction with its producer chain fused in (map-reduce): `map` is an elementwise kernel over
/// the operand's shape whose one output, out0, is the value reduced, already converted to the
/// accumulation dtype (docs/semantics.md, "Reductions"). The runtime evaluates it a cache-sized
/// block at a time and reduces each block at once, so no array holds the operand: `sum(exp(a)*b)`
/// reads a and b once and writes only the sum.
struct ReduceStep {
  ir::Op op = ir::Op::Sum;
  std::vector<int> axes;
  bool keepdims = false;
  int input = -1;  ///< the buffer reduced when `map` only reads (and maybe casts) it; else -1
  int output = -1;
  KernelStep map;  ///< iter_dims: the operand's dims; `outputs` stays empty
};

struct Step {
  enum class Kind : std::uint8_t { Kernel, Reduce } kind = Kind::Kernel;
  KernelStep kernel; ///< valid when kind == Kernel
  ReduceStep reduce; ///< valid when kind == Reduce
  int row_group = -1; ///< index into Plan::row_groups, or -1
};

/// Consecutive steps that all iterate over the same leading "row" dims and exchange values only
/// row by row (a row reduction with keepdims, then kernels that use it: softmax, `x - max(x,
/// axis=1, keepdims=true)`). The runtime runs them tile of rows by tile of rows, every step on one
/// tile before the next tile, so the tile stays in cache: the group reads each input from memory
/// once instead of once per step (when a row fits the cache budget, see runtime/Reduce.h).
struct RowGroup {
  std::vector<ir::Dim> rows; ///< the shared leading dims
  int first = 0, last = 0;   ///< the steps, inclusive
};

struct ParamInfo {
  std::string name;
  DType dtype = DType::F64;
};

struct Plan {
  ir::Graph graph;              ///< the optimized program graph the plan was made from
  std::vector<Buffer> buffers;
  std::vector<int> input_buffers;  ///< buffer id per program input (Graph::inputs() order)
  std::vector<int> output_buffers; ///< buffer id per program output (Graph::outputs order)
  std::vector<ParamInfo> params;   ///< Graph::params() order
  std::vector<Step> steps;
  std::vector<RowGroup> row_groups;

  int kernel_count() const;
  int reduce_count() const;
  int intermediate_count() const;
  /// Passes over memory that read buffer `b`: one per step that reads it, except that all the
  /// steps of a row group together make one pass (their tile is read from memory once).
  int memory_passes(int b) const;
};

/// The dtype a reduction's map delivers and its kernel reduces: sum/prod of bool and signed ints
/// i64, of unsigned ints u64, of halves f32; mean f64 (it sums in f64 for every dtype); min, max,
/// argmin, argmax the operand's dtype (halves as f32, exactly); any/all bool.
DType reduce_value_dtype(ir::Op op, DType operand);

/// The textual form printed by `--emit=fused`: buffers, then each step with its bindings and,
/// for kernels, the kernel graph.
std::string print(const Plan &p);

} // namespace xpr::passes
