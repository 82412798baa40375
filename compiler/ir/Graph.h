// compiler/ir/Graph.h — the Graph IR: a typed SSA dataflow graph of array ops (see Ops.def).
//
// A Graph holds nodes in topological order; a node's ValueId is its index. Leaves are Input
// (a named array), Param (a named runtime scalar, rank 0) and Const (a scalar literal, rank 0).
// Elementwise ops broadcast their operands implicitly (NumPy rules) to the node's shape.
// f16/bf16 appear only on Input, Cast and the values that feed outputs: sema widens them to
// f32 for arithmetic (docs/language.md, "half precision").
#pragma once

#include <xpr/dtype.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::ir {

enum class Op : std::uint8_t {
#define XPR_OP(Enum, Name, Kind, Arity, Rule) Enum,
#include "compiler/ir/Ops.def"
};
enum class OpKind : std::uint8_t { Leaf, Elementwise, Cast, Reduce };
enum class TypeRule : std::uint8_t {
  None, Arith, Div, FloatFn, SameNum, IntOrBool, Int, Compare, Pred, Where, CastTo,
  RSum, RMean, RSame, RBool, RIndex,
};

std::string_view op_name(Op op);
OpKind op_kind(Op op);
int op_arity(Op op);
TypeRule op_rule(Op op);
/// Looks up an op by its textual name; false if unknown.
bool op_from_name(std::string_view name, Op &out);
inline constexpr int kNumOps = 0
#define XPR_OP(Enum, Name, Kind, Arity, Rule) +1
#include "compiler/ir/Ops.def"
    ;

/// One dimension: a known size or a symbol bound at run time. Two dims with the same symbol
/// have the same size; a symbol never broadcasts (size-1 broadcasting needs a literal 1).
struct Dim {
  std::int64_t size = 0; // meaningful when sym is empty
  std::string sym;       // non-empty for a symbolic dim
  bool is_symbolic() const { return !sym.empty(); }
  static Dim fixed(std::int64_t n) { return Dim{n, {}}; }
  static Dim symbol(std::string s) { return Dim{0, std::move(s)}; }
  bool operator==(const Dim &o) const { return sym == o.sym && (is_symbolic() || size == o.size); }
};

struct Type {
  DType dtype = DType::F64;
  std::vector<Dim> dims; // empty = rank 0
  int rank() const { return static_cast<int>(dims.size()); }
  bool operator==(const Type &o) const { return dtype == o.dtype && dims == o.dims; }
};
/// "f32[n, 3]", "f64[]".
std::string to_string(const Type &t);

/// A scalar literal value with its dtype (for Const nodes). The value is held in the widest
/// representation of its kind: bool, i64 (signed ints), u64 (unsigned ints), f64 (floats;
/// an f32/f16/bf16 const holds a value exactly representable in that dtype).
struct ConstValue {
  DType dtype = DType::F64;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double f = 0;
};

using ValueId = std::int32_t;

struct Node {
  Op op = Op::Const;
  Type type;
  std::vector<ValueId> operands;
  std::string name;          // Input and Param: the user's name
  ConstValue value;          // Const
  std::vector<int> axes;     // Reduce: sorted, unique, non-negative axes of the operand
  bool keepdims = false;     // Reduce
};

struct Output {
  std::string name; // script output name; "result" for the expression form
  ValueId value = -1;
};

class Graph {
public:
  std::vector<Node> nodes;
  std::vector<Output> outputs;

  ValueId add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<ValueId>(nodes.size() - 1);
  }
  const Node &node(ValueId v) const { return nodes.at(static_cast<std::size_t>(v)); }
  Node &node(ValueId v) { return nodes.at(static_cast<std::size_t>(v)); }
  const Type &type(ValueId v) const { return node(v).type; }
  /// Input nodes in order of appearance (their order is the calling convention).
  std::vector<ValueId> inputs() const;
  std::vector<ValueId> params() const;
};

/// Textual form (round-trips: print(parse(print(g))) == print(g)). Example:
///   graph {
///     %0 = input "a" : f32[n]
///     %1 = const 2.5 : f32[]
///     %2 = mul %0, %1 : f32[n]
///     %3 = sum %2 {axes = [0], keepdims = false} : f32[]
///     output "y" = %3
///   }
std::string print(const Graph &g);
/// One node's line as print() writes it, without indentation or newline
/// ("%3 = add %1, %2 : f32[n]"). Safe on malformed nodes (the verifier names nodes with it).
std::string print_node(const Graph &g, ValueId v);
/// Parses the textual form; throws xpr::Error (Syntax) with line/col and caret on bad text.
Graph parse(std::string_view text, std::string_view filename = "<ir>");
/// Checks structural invariants (topological order, arities, types consistent with Ops.def
/// rules, broadcast-compatible shapes, valid axes). Throws Error(Internal) naming the node.
void verify(const Graph &g);

} // namespace xpr::ir
