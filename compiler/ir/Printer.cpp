// compiler/ir/Printer.cpp — the textual form of the Graph IR (the format documented in Graph.h).
//
// The printed text is what golden tests compare, what `--emit=ir` shows, and (hashed) the kernel
// cache key, so it must be canonical: one spelling per graph, independent of locale, and exact
// (every const prints a decimal that parses back to the same bits). The parser in IRParser.cpp
// is its inverse; the two are kept in step by the round-trip tests in tests/ir/.
#include "compiler/ir/Graph.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <string>

namespace xpr::ir {

namespace {

// The printer is also used by the verifier to name a *broken* node, so every lookup that could
// index a table with a corrupt enum value goes through these guards instead of trusting the
// enum. (print() of a verified graph never takes the fallback paths.)
std::string safe_op_name(Op op) {
  auto i = static_cast<int>(op);
  if (i < 0 || i >= kNumOps) return "<op " + std::to_string(i) + ">";
  return std::string(op_name(op));
}

// Names are arbitrary byte strings (an output name comes from the user's script, and fuzzers
// will feed anything). Escaping everything outside printable ASCII keeps the IR text pure
// ASCII, one node per line, and lets any byte string round-trip; \xNN is always two digits so
// the parser needs no lookahead to know where an escape ends.
std::string quote(const std::string &s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// Shortest round-trip decimal (std::to_chars: locale-free and exact by specification), then
// made unmistakably a float literal: "2" becomes "2.0" so a reader — and the parser's error
// messages — never confuse an f32 const with an integer one. to_chars spells -0.0 as "-0",
// which becomes "-0.0", so the sign of zero survives. All NaNs print as "nan": the IR does not
// carry NaN payloads or signs (no op in docs/semantics.md distinguishes them).
template <class F> std::string float_text(F x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

} // namespace

static std::string const_text(const Node &n) {
  const ConstValue &v = n.value;
  // The node's type decides which payload is meaningful; the verifier checks that
  // value.dtype agrees with it.
  DType t = n.type.dtype;
  if (is_bool(t)) return v.b ? "true" : "false";
  if (is_signed_int(t)) return std::to_string(v.i);
  if (is_unsigned_int(t)) return std::to_string(v.u);
  // f32 consts print the shortest decimal that round-trips *through f32* ("0.1", not
  // "0.10000000149011612"); the parser reads f32 literals with from_chars<float>, so the two
  // agree. f16/bf16 have no std::to_chars overload, so they print the exact double value of the
  // half (at most ~11 significant digits for f16), which parses back exactly.
  // A payload that is not an f32 value (only in a graph the verifier is about to reject) prints
  // as its double, so the message shows the bad value; converting an out-of-range double to
  // float would be undefined behaviour.
  if (t == DType::F32) {
    bool is_f32 = std::isnan(v.f) || std::isinf(v.f) ||
                  (std::fabs(v.f) <= FLT_MAX && static_cast<float>(v.f) == v.f);
    return is_f32 ? float_text(static_cast<float>(v.f)) : float_text(v.f);
  }
  if (is_float(t)) return float_text(v.f);
  return "<bad const dtype " + std::to_string(static_cast<int>(t)) + ">";
}

std::string print_node(const Graph &g, ValueId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= g.nodes.size())
    return "%" + std::to_string(id) + " = <no such node>";
  const Node &n = g.nodes[static_cast<std::size_t>(id)];
  std::string s = "%" + std::to_string(id) + " = " + safe_op_name(n.op);
  auto op_index = static_cast<int>(n.op);
  bool valid_op = op_index >= 0 && op_index < kNumOps;
  // Dispatch on the op *kind* from Ops.def, not on individual ops: a new elementwise or
  // reduce op prints correctly without touching this file. Only the three leaves have their
  // own syntax (a name or a literal instead of operands).
  if (valid_op && n.op == Op::Input)
    s += " " + quote(n.name);
  else if (valid_op && n.op == Op::Param)
    s += " " + quote(n.name);
  else if (valid_op && n.op == Op::Const)
    s += " " + const_text(n);
  // Operands are printed whatever the op, so a leaf that wrongly has operands shows them in the
  // verifier's message (the parser accepts no operands on leaves, so this never round-trips).
  for (std::size_t i = 0; i < n.operands.size(); ++i)
    s += (i ? ", %" : " %") + std::to_string(n.operands[i]);
  if (valid_op && op_kind(n.op) == OpKind::Reduce) {
    s += " {axes = [";
    for (std::size_t i = 0; i < n.axes.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(n.axes[i]);
    }
    s += "], keepdims = ";
    s += n.keepdims ? "true" : "false";
    s += "}";
  }
  s += " : " + to_string(n.type);
  return s;
}

std::string print(const Graph &g) {
  std::string out = "graph {\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    out += "  " + print_node(g, static_cast<ValueId>(i)) + "\n";
  for (const Output &o : g.outputs)
    out += "  output " + quote(o.name) + " = %" + std::to_string(o.value) + "\n";
  out += "}\n";
  return out;
}

} // namespace xpr::ir
