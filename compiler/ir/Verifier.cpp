// compiler/ir/Verifier.cpp — checks the Graph IR's invariants; run after every pass in debug
// and test builds.
//
// Every failure here is *our* bug (sema already rejected bad user programs), so it throws
// Error(Internal) and names the offending node exactly as print() writes it, e.g.
//   %7 = add %3, %6 : f32[n]: operand 1 has shape f32[m] which does not broadcast with f32[n]
// so the message can be pasted next to an `--emit=ir` dump. The type rules come from
// TypeRules.h — the same functions sema uses to type the program — so the verifier checks that
// passes *preserved* sema's typing rather than re-deriving a second, possibly different, set of
// rules. Checks run in node order and stop at the first failure: later nodes may only be
// confusing consequences of the first broken one.
#include "compiler/ir/Graph.h"
#include "compiler/ir/TypeRules.h"

#include <xpr/error.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>

namespace xpr::ir {

namespace {

constexpr int kMaxRank = 8; // design.md §1: rank 0 to 8

bool valid_dtype(DType t) {
  auto i = static_cast<int>(t);
  return i >= 0 && i < kNumDTypes;
}

bool is_identifier(const std::string &s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string dims_string(DType dt, const std::vector<Dim> &dims) {
  return to_string(Type{dt, dims});
}

std::string rule_name(TypeRule r) {
  switch (r) {
  case TypeRule::None:
    return "None";
  case TypeRule::Arith:
    return "Arith";
  case TypeRule::Div:
    return "Div";
  case TypeRule::FloatFn:
    return "FloatFn";
  case TypeRule::SameNum:
    return "SameNum";
  case TypeRule::IntOrBool:
    return "IntOrBool";
  case TypeRule::Int:
    return "Int";
  case TypeRule::Compare:
    return "Compare";
  case TypeRule::Pred:
    return "Pred";
  case TypeRule::Where:
    return "Where";
  case TypeRule::CastTo:
    return "CastTo";
  case TypeRule::RSum:
    return "RSum";
  case TypeRule::RMean:
    return "RMean";
  case TypeRule::RSame:
    return "RSame";
  case TypeRule::RBool:
    return "RBool";
  case TypeRule::RIndex:
    return "RIndex";
  }
  return "?";
}

// Whether x is exactly a value of the binary float format with `precision` significand bits,
// minimum normal exponent `emin` and largest finite value `max` (inf and NaN count as values).
// The ulp at x's binade is a power of two, so x is representable iff x / ulp is an integer —
// and the scaling by a power of two is exact.
bool representable(double x, int precision, int emin, double max) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return true;
  if (std::fabs(x) > max) return false;
  int q = std::max(std::ilogb(x), emin) - (precision - 1);
  double scaled = std::ldexp(x, -q);
  return scaled == std::nearbyint(scaled);
}

/// Whether a Const's payload is a value of its dtype: a const must mean the same thing to the
/// interpreter, the JIT and the printer, so an out-of-range payload is never "wrapped later".
bool const_fits(const ConstValue &v) {
  DType t = v.dtype;
  if (is_bool(t)) return true;
  if (is_signed_int(t)) {
    int bits = dtype_size(t) * 8;
    if (bits == 64) return true;
    std::int64_t lim = std::int64_t{1} << (bits - 1);
    return v.i >= -lim && v.i < lim;
  }
  if (is_unsigned_int(t)) {
    int bits = dtype_size(t) * 8;
    return bits == 64 || v.u < (std::uint64_t{1} << bits);
  }
  switch (t) {
  case DType::F64:
    return true;
  case DType::F32:
    return representable(v.f, 24, -126, FLT_MAX);
  case DType::F16:
    return representable(v.f, 11, -14, 65504.0);
  case DType::BF16:
    return representable(v.f, 8, -126, std::ldexp(255.0, 120));
  default:
    return false;
  }
}

class Verifier {
public:
  explicit Verifier(const Graph &g) : g_(g) {}

  void run() {
    if (g_.nodes.size() > static_cast<std::size_t>(INT32_MAX))
      throw Error(ErrorKind::Internal, "graph has more nodes than a ValueId can number");
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      check_node(static_cast<ValueId>(i));
    check_outputs();
  }

private:
  const Graph &g_;
  ValueId cur_ = 0;
  std::map<std::string, ValueId> leaf_names_;

  [[noreturn]] void fail(const std::string &msg) const {
    throw Error(ErrorKind::Internal, print_node(g_, cur_) + ": " + msg);
  }

  void check_type(const Type &t) const {
    if (!valid_dtype(t.dtype)) fail("invalid dtype value " + std::to_string(int(t.dtype)));
    if (t.rank() > kMaxRank)
      fail("rank " + std::to_string(t.rank()) + " exceeds the maximum of " +
           std::to_string(kMaxRank));
    for (const Dim &d : t.dims) {
      // A symbol must be an identifier so the printed type parses back as the same dims.
      if (d.is_symbolic() && !is_identifier(d.sym))
        fail("dimension symbol '" + d.sym + "' is not an identifier");
      if (!d.is_symbolic() && d.size < 0) fail("negative dimension " + std::to_string(d.size));
    }
  }

  void check_node(ValueId id) {
    cur_ = id;
    const Node &n = g_.node(id);
    auto opi = static_cast<int>(n.op);
    if (opi < 0 || opi >= kNumOps) fail("invalid op value " + std::to_string(opi));
    check_type(n.type);

    // Topological order is what makes a node's index its SSA name and lets every pass walk the
    // vector once, front to back.
    if (n.operands.size() != static_cast<std::size_t>(op_arity(n.op)))
      fail("'" + std::string(op_name(n.op)) + "' takes " + std::to_string(op_arity(n.op)) +
           " operand(s), has " + std::to_string(n.operands.size()));
    for (std::size_t k = 0; k < n.operands.size(); ++k)
      if (n.operands[k] < 0 || n.operands[k] >= id)
        fail("operand " + std::to_string(k) + " is %" + std::to_string(n.operands[k]) +
             ", which is not an earlier node (operands must precede their user)");

    // Fields the printer does not write for this op must be at their defaults; otherwise two
    // graphs that print (and hash) alike would behave differently.
    OpKind kind = op_kind(n.op);
    if (!n.name.empty() && n.op != Op::Input && n.op != Op::Param)
      fail("only input and param nodes carry a name");
    if (kind != OpKind::Reduce && (!n.axes.empty() || n.keepdims))
      fail("only reductions carry axes and keepdims");

    switch (kind) {
    case OpKind::Leaf:
      return check_leaf(n);
    case OpKind::Elementwise:
      return check_elementwise(n);
    case OpKind::Cast:
      return check_cast(n);
    case OpKind::Reduce:
      return check_reduce(n);
    }
  }

  void check_leaf(const Node &n) {
    if (n.op == Op::Const) {
      if (n.type.rank() != 0) fail("a const is a scalar (rank 0)");
      if (!valid_dtype(n.value.dtype) || n.value.dtype != n.type.dtype)
        fail("the const value's dtype differs from the node's dtype");
      if (!const_fits(n.value))
        fail("the const value does not fit " + std::string(dtype_name(n.type.dtype)));
      return;
    }
    const char *what = n.op == Op::Input ? "input" : "param";
    if (n.name.empty()) fail(std::string("an ") + what + " needs a name");
    if (n.op == Op::Param && n.type.rank() != 0) fail("a param is a scalar (rank 0)");
    // Inputs and params are bound by name at run time, so a name must denote one leaf.
    auto [it, fresh] = leaf_names_.emplace(n.name, cur_);
    if (!fresh)
      fail(std::string("a second leaf named \"") + n.name + "\" (the first is %" +
           std::to_string(it->second) + ")");
  }

  // docs/semantics.md: f16/bf16 are storage types; sema widens them to f32 after loading and
  // narrows once at the store. A half-typed arithmetic node means a pass (or sema) skipped that
  // and the backends would compute in the wrong precision.
  void reject_halves(const Node &n) const {
    for (std::size_t k = 0; k < n.operands.size(); ++k) {
      const Type &t = g_.type(n.operands[k]);
      if (is_half(t.dtype))
        fail(std::string(dtype_name(t.dtype)) + " arithmetic must be widened to f32 (operand " +
             std::to_string(k) + " is " + to_string(t) + ")");
    }
    if (is_half(n.type.dtype))
      fail(std::string(dtype_name(n.type.dtype)) +
           " arithmetic must be widened to f32 (the result is " + to_string(n.type) + ")");
  }

  std::string operand_dtypes(const Node &n) const {
    std::string s;
    for (std::size_t k = 0; k < n.operands.size(); ++k) {
      if (k) s += ", ";
      s += dtype_name(g_.type(n.operands[k]).dtype);
    }
    return s;
  }

  void check_elementwise(const Node &n) {
    reject_halves(n);
    // Shape: NumPy broadcasting of all operands, left to right.
    const Type &t0 = g_.type(n.operands[0]);
    std::vector<Dim> shape = t0.dims;
    for (std::size_t k = 1; k < n.operands.size(); ++k) {
      const Type &tk = g_.type(n.operands[k]);
      auto b = broadcast(shape, tk.dims);
      if (!b)
        fail("operand " + std::to_string(k) + " has shape " + to_string(tk) +
             " which does not broadcast with " + dims_string(t0.dtype, shape));
      shape = std::move(*b);
    }
    if (n.type.dims != shape)
      fail("the result has shape " + to_string(n.type) + " but the operands broadcast to " +
           dims_string(n.type.dtype, shape));

    // Dtype: elementwise ops promote their operands (NumPy result_type) and then apply the
    // op's rule; `where` promotes only its two value operands, its condition must be bool.
    std::vector<DType> dts;
    std::size_t first = 0;
    if (op_rule(n.op) == TypeRule::Where) {
      DType c = g_.type(n.operands[0]).dtype;
      if (c != DType::Bool)
        fail("operand 0 (the condition) must be bool, is " + std::string(dtype_name(c)));
      first = 1;
    }
    DType p = g_.type(n.operands[first]).dtype;
    for (std::size_t k = first + 1; k < n.operands.size(); ++k)
      p = promote(p, g_.type(n.operands[k]).dtype);
    for (std::size_t k = 0; k < n.operands.size(); ++k)
      dts.push_back(k < first ? DType::Bool : p);
    auto expected = result_dtype(n.op, dts);
    if (!expected)
      fail("'" + std::string(op_name(n.op)) + "' (rule " + rule_name(op_rule(n.op)) +
           ") does not accept operands of dtype " + operand_dtypes(n));
    if (*expected != n.type.dtype)
      fail("the result dtype is " + std::string(dtype_name(n.type.dtype)) + " but '" +
           std::string(op_name(n.op)) + "' of " + operand_dtypes(n) + " gives " +
           std::string(dtype_name(*expected)));
  }

  void check_cast(const Node &n) {
    // Any dtype converts to any other (docs/semantics.md, "Casts"); only the shape is kept.
    const Type &in = g_.type(n.operands[0]);
    if (in.dims != n.type.dims)
      fail("a cast keeps its operand's shape " + to_string(in) + ", but the result is " +
           to_string(n.type));
  }

  void check_reduce(const Node &n) {
    reject_halves(n);
    const Type &in = g_.type(n.operands[0]);
    for (std::size_t k = 0; k < n.axes.size(); ++k) {
      int a = n.axes[k];
      if (a < 0 || a >= in.rank())
        fail("axis " + std::to_string(a) + " is out of range for the operand " + to_string(in));
      // Sorted and unique makes the axes list canonical (one spelling per reduction), which
      // the printer, CSE and the kernel cache key rely on.
      if (k > 0 && n.axes[k - 1] >= a) fail("axes must be sorted and unique");
    }
    std::vector<Dim> shape = reduced_shape(in.dims, n.axes, n.keepdims);
    if (n.type.dims != shape)
      fail("the result has shape " + to_string(n.type) + " but reducing " + to_string(in) +
           " gives " + dims_string(n.type.dtype, shape));
    DType d = in.dtype;
    auto expected = result_dtype(n.op, std::span<const DType>(&d, 1));
    if (!expected)
      fail("'" + std::string(op_name(n.op)) + "' does not accept an operand of dtype " +
           std::string(dtype_name(d)));
    if (*expected != n.type.dtype)
      fail("the result dtype is " + std::string(dtype_name(n.type.dtype)) + " but '" +
           std::string(op_name(n.op)) + "' of " + std::string(dtype_name(d)) + " gives " +
           std::string(dtype_name(*expected)));
  }

  void check_outputs() const {
    std::map<std::string, std::size_t> seen;
    for (std::size_t k = 0; k < g_.outputs.size(); ++k) {
      const Output &o = g_.outputs[k];
      std::string head = "output " + std::to_string(k) + " (\"" + o.name + "\")";
      if (o.name.empty()) throw Error(ErrorKind::Internal, head + ": an output needs a name");
      if (o.value < 0 || static_cast<std::size_t>(o.value) >= g_.nodes.size())
        throw Error(ErrorKind::Internal,
                    head + ": refers to %" + std::to_string(o.value) + ", which is not a node");
      auto [it, fresh] = seen.emplace(o.name, k);
      if (!fresh)
        throw Error(ErrorKind::Internal,
                    head + ": the name is already used by output " + std::to_string(it->second));
    }
  }
};

} // namespace

void verify(const Graph &g) { Verifier(g).run(); }

} // namespace xpr::ir
