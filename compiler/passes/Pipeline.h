// compiler/passes/Pipeline.h — the lowering pipeline from sema's graph to a fused plan.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/passes/Plan.h"

#include <functional>
#include <string_view>

namespace xpr::passes {

struct PipelineOptions {
  bool fold_constants = true;
  bool simplify = true;
  bool cse = true;
  /// Run ir::verify after every pass (and on every kernel). On by default in debug builds and
  /// in builds with tests (XPR_VERIFY_IR), where a pass that breaks an invariant should fail at
  /// that pass, not three steps later.
  bool verify = verify_by_default();

  static bool verify_by_default();
};

/// Called after each pass with the stage name ("input", "fold", "simplify", "cse", "dce",
/// "fused") and the printed IR or plan. Empty: nothing is printed.
using DumpFn = std::function<void(std::string_view stage, std::string_view text)>;

/// The whole middle end, top to bottom. Throws Error(Internal) if a pass breaks the IR.
Plan lower_to_plan(ir::Graph g, const PipelineOptions &opts = {}, const DumpFn &dump = {});

} // namespace xpr::passes
