// compiler/passes/Pipeline.cpp — straight-line pass pipeline with a dump point after each pass.
#include "compiler/passes/Pipeline.h"

#include "compiler/passes/CSE.h"
#include "compiler/passes/ConstantFold.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/Fusion.h"
#include "compiler/passes/Simplify.h"

namespace xpr::passes {

bool PipelineOptions::verify_by_default() {
#if !defined(NDEBUG) || defined(XPR_VERIFY_IR)
  return true;
#else
  return false;
#endif
}

Plan lower_to_plan(ir::Graph g, const PipelineOptions &opts, const DumpFn &dump) {
  auto checkpoint = [&](std::string_view stage, const ir::Graph &graph) {
    if (opts.verify) ir::verify(graph);
    if (dump) dump(stage, ir::print(graph));
  };

  checkpoint("input", g);
  if (opts.fold_constants) g = fold_constants(g);
  checkpoint("fold", g);
  if (opts.simplify) g = simplify(g);
  checkpoint("simplify", g);
  // Simplification can expose new constants (x * 1 over a constant x) and duplicates.
  if (opts.fold_constants) g = fold_constants(g);
  checkpoint("fold2", g);
  if (opts.cse) g = eliminate_common_subexpressions(g);
  checkpoint("cse", g);
  g = eliminate_dead_code(g);
  checkpoint("dce", g);

  Plan plan = fuse(g);
  if (opts.verify)
    for (const Step &s : plan.steps)
      ir::verify(s.kind == Step::Kind::Kernel ? s.kernel.kernel : s.reduce.map.kernel);
  if (dump) dump("fused", print(plan));
  return plan;
}

} // namespace xpr::passes
