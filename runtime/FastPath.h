// runtime/FastPath.h — the call fast path: a cached program run on small arrays with no
// allocation beyond its outputs, no string building and no lookups but one per input and param.
#pragma once

#include "runtime/Execute.h"

#include <xpr/array.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace xpr::rt {

/// What every run of a plan would otherwise recompute, precomputed once per Program: symbols
/// numbered instead of named, each buffer's dims as (symbol | size), each kernel's operands.
struct FastPlan {
  bool usable = false; ///< only kernel steps and no intermediate buffers
  struct DimRef {
    int sym = -1;          ///< >= 0: symbol number
    std::int64_t size = 0; ///< when sym < 0
  };
  struct Buf {
    passes::BufferKind kind = passes::BufferKind::Input;
    DType dtype = DType::F64;
    int rank = 0;
    std::array<DimRef, kMaxRank> dims{};
    int index = -1;
  };
  struct Kernel {
    std::size_t step = 0;
    int rank = 0;
    std::array<DimRef, kMaxRank> iter{};
    std::vector<int> inputs, outputs; ///< buffer ids
  };
  std::vector<Buf> bufs;
  std::vector<Kernel> kernels;
  int symbols = 0;
};

FastPlan make_fast_plan(const CompiledPlan &cp);

/// Runs `cp` when nothing is unusual: every input present with the declared dtype, rank and
/// fixed dims and consistent symbols; every param given; targets (if any) exactly shaped and
/// typed, without zero strides, overlapping no input and no other target. Otherwise returns
/// false having changed nothing, and the caller runs execute(), which reports the error or
/// handles the aliasing. `targets` (one per output, or null) are written; with `targets` null
/// the outputs are allocated into `allocated` (one slot per output).
bool run_fast(const CompiledPlan &cp, const FastPlan &fp, Executor &ex,
              const std::map<std::string, Array> &inputs,
              const std::map<std::string, Scalar> &params, const Array *const *targets,
              Array *allocated);

} // namespace xpr::rt
