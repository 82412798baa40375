// tests/ir/IRTestUtil.h — helpers shared by the Graph IR tests: a terse graph builder, a seeded
// generator of random *valid* graphs, and a structural graph comparison.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ir/TypeRules.h"

#include <xpr/error.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace xpr::ir::test {

/// "f32[n, 3]" -> Type. Test-only shorthand; aborts the test on a malformed spelling.
inline Type ty(std::string_view s) {
  auto open = s.find('[');
  if (open == std::string_view::npos || s.back() != ']') throw std::logic_error("bad type");
  Type t;
  auto dt = dtype_from_name(s.substr(0, open));
  if (!dt) throw std::logic_error("bad dtype");
  t.dtype = *dt;
  std::string_view body = s.substr(open + 1, s.size() - open - 2);
  while (!body.empty()) {
    auto comma = body.find(',');
    std::string_view d = body.substr(0, comma);
    while (!d.empty() && d.front() == ' ')
      d.remove_prefix(1);
    if (d[0] >= '0' && d[0] <= '9')
      t.dims.push_back(Dim::fixed(std::stoll(std::string(d))));
    else
      t.dims.push_back(Dim::symbol(std::string(d)));
    body = comma == std::string_view::npos ? std::string_view{} : body.substr(comma + 1);
  }
  return t;
}

/// Builds graphs node by node with the types spelled out (no inference: tests of the verifier
/// need to build wrong graphs too).
struct Builder {
  Graph g;
  ValueId input(std::string name, std::string_view t) {
    Node n;
    n.op = Op::Input;
    n.name = std::move(name);
    n.type = ty(t);
    return g.add(n);
  }
  ValueId param(std::string name, DType d) {
    Node n;
    n.op = Op::Param;
    n.name = std::move(name);
    n.type.dtype = d;
    return g.add(n);
  }
  ValueId constant(ConstValue v) {
    Node n;
    n.op = Op::Const;
    n.type.dtype = v.dtype;
    n.value = v;
    return g.add(n);
  }
  ValueId cf(double x, DType d = DType::F32) {
    ConstValue v;
    v.dtype = d;
    v.f = x;
    return constant(v);
  }
  ValueId ci(std::int64_t x, DType d = DType::I64) {
    ConstValue v;
    v.dtype = d;
    v.i = x;
    return constant(v);
  }
  ValueId cu(std::uint64_t x, DType d = DType::U64) {
    ConstValue v;
    v.dtype = d;
    v.u = x;
    return constant(v);
  }
  ValueId cb(bool x) {
    ConstValue v;
    v.dtype = DType::Bool;
    v.b = x;
    return constant(v);
  }
  ValueId op(Op o, std::vector<ValueId> operands, std::string_view t) {
    Node n;
    n.op = o;
    n.operands = std::move(operands);
    n.type = ty(t);
    return g.add(n);
  }
  ValueId reduce(Op o, ValueId x, std::vector<int> axes, bool keepdims, std::string_view t) {
    Node n;
    n.op = o;
    n.operands = {x};
    n.axes = std::move(axes);
    n.keepdims = keepdims;
    n.type = ty(t);
    return g.add(n);
  }
  void out(std::string name, ValueId v) { g.outputs.push_back(Output{std::move(name), v}); }
};

/// Bit-level equality of two const payloads of the same dtype, except that all NaNs are equal
/// (the textual form does not keep NaN payloads; see Printer.cpp).
inline bool same_value(const ConstValue &a, const ConstValue &b) {
  if (a.dtype != b.dtype) return false;
  if (is_bool(a.dtype)) return a.b == b.b;
  if (is_signed_int(a.dtype)) return a.i == b.i;
  if (is_unsigned_int(a.dtype)) return a.u == b.u;
  if (std::isnan(a.f) || std::isnan(b.f)) return std::isnan(a.f) && std::isnan(b.f);
  return std::bit_cast<std::uint64_t>(a.f) == std::bit_cast<std::uint64_t>(b.f);
}

/// Empty if the graphs are structurally identical, else a description of the first difference.
inline std::string diff_graphs(const Graph &a, const Graph &b) {
  if (a.nodes.size() != b.nodes.size()) return "node counts differ";
  for (std::size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    std::string at = "node %" + std::to_string(i) + ": ";
    if (x.op != y.op) return at + "op";
    if (!(x.type == y.type)) return at + "type";
    if (x.operands != y.operands) return at + "operands";
    if (x.name != y.name) return at + "name";
    if (x.axes != y.axes || x.keepdims != y.keepdims) return at + "attributes";
    if (x.op == Op::Const && !same_value(x.value, y.value)) return at + "const value";
  }
  if (a.outputs.size() != b.outputs.size()) return "output counts differ";
  for (std::size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].name != b.outputs[i].name || a.outputs[i].value != b.outputs[i].value)
      return "output " + std::to_string(i);
  return {};
}

/// f16 bits -> the double it denotes (exact), for generating every half value.
inline double f16_bits_to_double(std::uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  double v;
  if (exp == 31)
    v = man ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
  else if (exp == 0)
    v = std::ldexp(man, -24);
  else
    v = std::ldexp(1024 + man, exp - 25);
  return sign ? -v : v;
}

inline double bf16_bits_to_double(std::uint16_t h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

/// A seeded generator of random graphs that verify() must accept: types are derived with the
/// same TypeRules functions sema uses, and any op/operand combination the rules reject is
/// skipped. Consts favour edge values (extremes, -0.0, denormals, inf, NaN), names contain
/// quotes, backslashes and non-printable bytes: the round-trip test is only as strong as what
/// the generator produces.
class RandomGraphs {
public:
  explicit RandomGraphs(std::uint64_t seed) : rng_(seed) {}

  Graph make() {
    Builder b;
    // A "universe" shape; every array is a suffix of it with some dims replaced by 1, so most
    // operand pairs broadcast.
    const std::vector<Dim> pool = {Dim::symbol("n"), Dim::symbol("m"), Dim::symbol("k_2"),
                                   Dim::fixed(2),    Dim::fixed(3),    Dim::fixed(0)};
    universe_.clear();
    for (int r = pick(0, 3); r > 0; --r)
      universe_.push_back(pool[pick(0, int(pool.size()) - 1)]);
    std::set<std::string> used;
    for (int k = pick(1, 4); k > 0; --k) {
      Node n;
      n.op = Op::Input;
      n.name = unique_name(used);
      n.type.dtype = any_dtype(/*halves=*/true);
      n.type.dims = sub_shape();
      b.g.add(n);
    }
    for (int k = pick(0, 2); k > 0; --k)
      b.param(unique_name(used), any_dtype(true));
    for (int k = pick(1, 3); k > 0; --k)
      b.constant(random_const());

    int target = pick(3, 30);
    for (int tries = 0; tries < 400 && target > 0; ++tries) {
      int choice = pick(0, 9);
      bool ok = false;
      if (choice == 0) {
        b.constant(random_const());
        ok = true;
      } else {
        Op op = static_cast<Op>(pick(3, kNumOps - 1)); // skip the leaves
        ok = add_op(b.g, op);
      }
      if (ok) --target;
    }
    std::set<std::string> out_names;
    for (int k = pick(1, 3); k > 0; --k)
      b.out(unique_name(out_names), static_cast<ValueId>(pick(0, int(b.g.nodes.size()) - 1)));
    return b.g;
  }

private:
  std::mt19937_64 rng_;
  std::vector<Dim> universe_;

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  DType any_dtype(bool halves) {
    for (;;) {
      auto d = static_cast<DType>(pick(0, kNumDTypes - 1));
      if (halves || !is_half(d)) return d;
    }
  }

  std::vector<Dim> sub_shape() {
    int r = pick(0, int(universe_.size()));
    std::vector<Dim> s(universe_.end() - r, universe_.end());
    for (Dim &d : s)
      if (pick(0, 3) == 0) d = Dim::fixed(1);
    return s;
  }

  std::string unique_name(std::set<std::string> &used) {
    static const char *kParts[] = {"a",        "x",           "y_1",   "S",        "out",
                                   "\"q\"",    "back\\slash", "tab\t", "nul\x00z", "\x7f",
                                   "\xc3\xa9", "sp ace",      "#hash", "%0"};
    for (;;) {
      std::string s;
      for (int k = pick(1, 2); k > 0; --k) {
        const char *p = kParts[pick(0, int(std::size(kParts)) - 1)];
        s += std::string(p, std::strcmp(p, "nul") == 0 ? 3 : std::strlen(p));
        if (std::string_view(p) == "nul") s += std::string("\0z", 2); // embedded NUL byte
      }
      if (used.insert(s).second) return s;
    }
  }

  ConstValue random_const() {
    ConstValue v;
    v.dtype = any_dtype(true);
    int bits = dtype_size(v.dtype) * 8;
    auto u64 = [&] { return std::uniform_int_distribution<std::uint64_t>()(rng_); };
    if (is_bool(v.dtype)) {
      v.b = pick(0, 1);
    } else if (is_signed_int(v.dtype)) {
      std::int64_t lo = bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1));
      std::int64_t hi = bits == 64 ? INT64_MAX : (std::int64_t{1} << (bits - 1)) - 1;
      std::int64_t edge[] = {lo, hi, 0, -1, 1};
      v.i =
          pick(0, 1) ? edge[pick(0, 4)] : std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
    } else if (is_unsigned_int(v.dtype)) {
      std::uint64_t hi = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
      v.u = pick(0, 1) ? (pick(0, 1) ? hi : 0) : u64() & hi;
    } else {
      const double edge[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -2.5, 0.1};
      if (pick(0, 3) == 0) {
        v.f = edge[pick(0, 7)];
        if (v.dtype == DType::F32)
          v.f = static_cast<float>(v.f);
        else if (is_half(v.dtype) && v.f == 0.1)
          v.f = 0.5;
      } else if (v.dtype == DType::F64) {
        v.f = std::bit_cast<double>(u64());
      } else if (v.dtype == DType::F32) {
        v.f = std::bit_cast<float>(static_cast<std::uint32_t>(u64()));
      } else {
        auto h = static_cast<std::uint16_t>(u64());
        v.f = v.dtype == DType::F16 ? f16_bits_to_double(h) : bf16_bits_to_double(h);
      }
    }
    return v;
  }

  ValueId random_node(const Graph &g, bool (*accept)(const Type &)) {
    for (int k = 0; k < 20; ++k) {
      auto v = static_cast<ValueId>(pick(0, int(g.nodes.size()) - 1));
      if (accept(g.type(v))) return v;
    }
    return -1;
  }

  bool add_op(Graph &g, Op op) {
    auto not_half = [](const Type &t) { return !is_half(t.dtype); };
    Node n;
    n.op = op;
    switch (op_kind(op)) {
    case OpKind::Leaf:
      return false;
    case OpKind::Cast: {
      ValueId x = random_node(g, [](const Type &) { return true; });
      n.operands = {x};
      n.type = Type{any_dtype(true), g.type(x).dims};
      break;
    }
    case OpKind::Reduce: {
      ValueId x = random_node(g, not_half);
      if (x < 0) return false;
      const Type &in = g.type(x);
      for (int a = 0; a < in.rank(); ++a)
        if (pick(0, 1)) n.axes.push_back(a);
      n.keepdims = pick(0, 1);
      DType d = in.dtype;
      auto r = result_dtype(op, std::span<const DType>(&d, 1));
      if (!r || is_half(*r)) return false;
      n.operands = {x};
      n.type = Type{*r, reduced_shape(in.dims, n.axes, n.keepdims)};
      break;
    }
    case OpKind::Elementwise: {
      bool where = op_rule(op) == TypeRule::Where;
      for (int k = 0; k < op_arity(op); ++k) {
        ValueId x = k == 0 && where
                        ? random_node(g, [](const Type &t) { return t.dtype == DType::Bool; })
                        : random_node(g, not_half);
        if (x < 0) return false;
        n.operands.push_back(x);
      }
      std::vector<Dim> shape = g.type(n.operands[0]).dims;
      for (std::size_t k = 1; k < n.operands.size(); ++k) {
        auto b = broadcast(shape, g.type(n.operands[k]).dims);
        if (!b) return false;
        shape = *b;
      }
      std::size_t first = where ? 1 : 0;
      DType p = g.type(n.operands[first]).dtype;
      for (std::size_t k = first + 1; k < n.operands.size(); ++k)
        p = promote(p, g.type(n.operands[k]).dtype);
      std::vector<DType> dts(n.operands.size(), p);
      if (where) dts[0] = DType::Bool;
      auto r = result_dtype(op, dts);
      if (!r || is_half(*r)) return false;
      n.type = Type{*r, shape};
      break;
    }
    }
    g.add(n);
    return true;
  }
};

} // namespace xpr::ir::test
