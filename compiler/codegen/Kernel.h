// compiler/codegen/Kernel.h — what a fused CPU kernel is, and the calling convention of its
// compiled code. Free of MLIR/LLVM headers on purpose: runtime/ and the API include it.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <vector>

namespace xpr::cg {

/// How one operand is laid out relative to the kernel's iteration space. Part of the cache key
/// ("contiguity class"): a kernel is compiled per combination.
enum class Layout : std::uint8_t {
  Contiguous, ///< the full iteration shape, C-contiguous: element i is at ptr[i]
  Scalar,     ///< a single element broadcast to every iteration
  Strided,    ///< anything else: per-dim element strides over the iteration space (0 = broadcast)
};

enum class Precision : std::uint8_t { Accurate, Fast };

/// A kernel is an ir::Graph made only of leaves, elementwise ops and casts, whose outputs all
/// have the iteration shape (rank `rank`). Its Input nodes, in Graph::inputs() order, are the
/// kernel's array arguments; Param nodes (Graph::params() order) its scalar arguments.
struct KernelSpec {
  int rank = 1;
  std::vector<Layout> inputs;  ///< one per Input node
  std::vector<Layout> outputs; ///< one per Graph output: Contiguous or Strided
  Precision precision = Precision::Accurate;
  bool operator==(const KernelSpec &) const = default;
};

/// The compiled function. Arguments:
///   ptrs    data pointers: the inputs, then the outputs
///   strides rank element-strides per operand (inputs, then outputs), already mapped onto the
///           iteration space (0 on broadcast dims); read only for Strided operands
///   params  one 8-byte slot per Param node; the value is stored in the param's own dtype at the
///           start of its slot (an f32 param is a float in the low 4 bytes)
///   shape   the iteration shape, `rank` entries
///   begin, end  the range of linear (C-order) iteration indices to compute; the executor splits
///           [0, total) into chunks and calls the function once per chunk, possibly in parallel
using KernelFn = void (*)(void *const *ptrs, const std::int64_t *strides, const void *params,
                          const std::int64_t *shape, std::int64_t begin, std::int64_t end);

} // namespace xpr::cg
