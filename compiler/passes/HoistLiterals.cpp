// compiler/passes/HoistLiterals.cpp — literal-to-param hoisting for kernel cache sharing.
#include "compiler/passes/HoistLiterals.h"

#include <cmath>
#include <string>

namespace xpr::passes {

bool literal_is_specialized(double v, bool pow_exponent) {
  if (v == 0 || v == 1 || v == -1) return true; // also -0.0
  if (pow_exponent && std::isfinite(v)) {
    double twice = v * 2;
    return std::fabs(v) <= 16 && twice == std::trunc(twice); // integers and halves
  }
  return false;
}

HoistedKernel hoist_literals(const ir::Graph &kernel) {
  HoistedKernel h;
  h.kernel = kernel;
  ir::Graph &g = h.kernel;
  // Which literals feed a pow exponent: those may be specialized by the code generator.
  std::vector<bool> exponent(g.nodes.size(), false);
  for (const ir::Node &n : g.nodes)
    if (n.op == ir::Op::Pow && n.operands.size() == 2)
      exponent[static_cast<std::size_t>(n.operands[1])] = true;

  int original = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node &n = g.nodes[i];
    if (n.op == ir::Op::Param) {
      h.param_origin.push_back(original++);
    } else if (n.op == ir::Op::Const && n.type.rank() == 0 &&
               (n.value.dtype == DType::F32 || n.value.dtype == DType::F64) &&
               n.type.dtype == n.value.dtype && !literal_is_specialized(n.value.f, exponent[i])) {
      h.param_origin.push_back(-1 - static_cast<int>(h.literals.size()));
      h.literals.push_back(n.value);
      n.op = ir::Op::Param;
      n.value = ir::ConstValue{};
    } else {
      continue;
    }
    n.name = "p" + std::to_string(h.param_origin.size() - 1);
  }
  return h;
}

} // namespace xpr::passes
