// compiler/ir/Ops.cpp — op properties generated from Ops.def, and small Graph/Type helpers.
#include "compiler/ir/Graph.h"

#include <array>

namespace xpr::ir {

namespace {
struct OpInfo {
  std::string_view name;
  OpKind kind;
  int arity;
  TypeRule rule;
};
constexpr std::array<OpInfo, kNumOps> kOps = {{
#define XPR_OP(Enum, Name, Kind, Arity, Rule) {Name, OpKind::Kind, Arity, TypeRule::Rule},
#include "compiler/ir/Ops.def"
}};
const OpInfo &info(Op op) { return kOps[static_cast<std::size_t>(op)]; }
} // namespace

std::string_view op_name(Op op) { return info(op).name; }
OpKind op_kind(Op op) { return info(op).kind; }
int op_arity(Op op) { return info(op).arity; }
TypeRule op_rule(Op op) { return info(op).rule; }

bool op_from_name(std::string_view name, Op &out) {
  for (std::size_t i = 0; i < kOps.size(); ++i)
    if (kOps[i].name == name) {
      out = static_cast<Op>(i);
      return true;
    }
  return false;
}

std::string to_string(const Type &t) {
  // Safe on a corrupt dtype: the printer and the verifier name malformed nodes with it.
  const auto di = static_cast<int>(t.dtype);
  std::string s = di >= 0 && di < kNumDTypes ? std::string(dtype_name(t.dtype))
                                             : "<dtype " + std::to_string(di) + ">";
  s += '[';
  for (std::size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ", ";
    s += t.dims[i].is_symbolic() ? t.dims[i].sym : std::to_string(t.dims[i].size);
  }
  s += ']';
  return s;
}

std::vector<ValueId> Graph::inputs() const {
  std::vector<ValueId> r;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == Op::Input) r.push_back(static_cast<ValueId>(i));
  return r;
}

std::vector<ValueId> Graph::params() const {
  std::vector<ValueId> r;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == Op::Param) r.push_back(static_cast<ValueId>(i));
  return r;
}

} // namespace xpr::ir
