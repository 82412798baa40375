// tests/differential/Gen.h — a seeded generator of type-correct random xpr scripts and of input data
// (shapes, strided/negative/broadcast views, special values) for the JIT-vs-interpreter test.
#pragma once

#include "compiler/ir/Graph.h"

#include <xpr/array.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace xpr::diff {

/// A weak literal (NEP 50) has no dtype of its own: it takes its partner's.
enum class Weak : std::uint8_t { None, Int, Float, Bool };

/// One node of a generated expression. Value semantics (children held by value) so the shrinker
/// can copy a tree and splice subtrees freely.
struct GNode {
  enum class Kind : std::uint8_t { Input, Param, Lit, Unary, Binary, Call, Cast };
  Kind kind = Kind::Input;
  std::string text;     ///< name (Input/Param), literal text, operator or function spelling, cast dtype
  ir::Op op = ir::Op::Const; ///< the IR op this node lowers to (tolerances, stats)
  DType dtype = DType::F64;  ///< the dtype the generator infers (a weak literal: its resolved one)
  Weak weak = Weak::None;
  std::vector<GNode> kids;

  std::string render() const;
  /// Every op in the tree, with multiplicity.
  void collect_ops(std::vector<ir::Op> &out) const;
  void collect_names(std::vector<std::string> &out) const;
  int size() const; ///< node count
};

/// A dim of the iteration ("full") shape: a symbol sized per run, or a fixed integer.
struct FullDim {
  std::string sym; ///< empty: fixed
  std::int64_t size = 1;
};

struct InputDecl {
  std::string name;
  DType dtype = DType::F32;
  /// Suffix-aligned with the full shape: entry k is dim (R - rank + k) of the full shape, or a
  /// literal 1 (broadcast) where `ones[k]`.
  std::vector<bool> ones;
};

struct ParamDecl {
  std::string name;
  DType dtype = DType::F32;
};

/// How a tree's result is compared (docs/testing.md, "Tolerances").
struct Tolerance {
  bool exact = true;       ///< bitwise (NaN == NaN whatever the payload)
  int ulps = 0;            ///< allowed ULP distance, measured in `compute`
  double abs_eps = 0;      ///< allowed absolute error, in units of epsilon(fn_compute)
  DType fn_compute = DType::F64; ///< the precision the inexact function is evaluated in
  std::string why;         ///< e.g. "sin: 4 ulp + 1 wrapper"
};

struct Program {
  std::uint64_t seed = 0;
  std::vector<FullDim> full;
  std::vector<InputDecl> inputs;
  std::vector<ParamDecl> params;
  GNode root;
  Tolerance tol;
  /// The script text: the declarations the tree uses, then `output r = <expr>`.
  std::string script() const;
};

/// Generates one program; the same seed gives the same program on every machine (the generator
/// uses only mt19937_64 and integer arithmetic for its choices).
Program generate_program(std::uint64_t seed);

/// One array argument: the caller-memory view the JIT sees and a contiguous copy of its logical
/// contents (gathered here, independently of xpr's own stride code) for the interpreter.
struct InputData {
  std::shared_ptr<std::vector<std::uint64_t>> storage; // 8-byte aligned backing memory
  Array view;
  Array contiguous;
  std::shared_ptr<std::vector<std::uint64_t>> contiguous_storage;
  std::string layout; ///< "contiguous", "strided", "negative", "broadcast", "mixed"
};

struct Instance {
  std::map<std::string, std::int64_t> sizes; ///< symbol -> size
  std::map<std::string, InputData> inputs;
  std::map<std::string, Scalar> params;
  std::map<std::string, std::uint64_t> param_bits; ///< the params' values as stored bits (reports)
  std::string describe(const Program &p) const;
};

/// Makes one set of inputs for `p`. `strided` selects non-contiguous views (every other
/// element, negative strides, stride-0 broadcasts, mixed); otherwise every input is contiguous.
Instance make_instance(const Program &p, std::uint64_t seed, bool strided);

/// A random element of `t` as its bit pattern (zero-extended), special values mixed in.
std::uint64_t random_bits(DType t, std::mt19937_64 &rng);

/// The element at flat position `i` of a contiguous array of dtype `t`, as bits.
std::uint64_t load_bits(const void *base, DType t, std::int64_t i);
void store_bits(void *base, DType t, std::int64_t i, std::uint64_t bits);
/// Human-readable value of a bit pattern of dtype `t` ("-0", "nan(0x7fc00001)", "1.5 (0x3fc0)").
std::string format_bits(DType t, std::uint64_t bits);

} // namespace xpr::diff
