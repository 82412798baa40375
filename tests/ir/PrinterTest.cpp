// tests/ir/PrinterTest.cpp — golden tests of the Graph IR's textual form: hand-built graphs,
// one graph exercising every op of Ops.def, and exact printing of const edge values.
#include "IRTestUtil.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace xpr::ir::test {
namespace {

TEST(IRPrint, DocumentedExample) {
  // The example in Graph.h's comment, verbatim: the doc and the printer must not drift apart.
  Builder b;
  auto a = b.input("a", "f32[n]");
  auto two = b.cf(2.5);
  auto m = b.op(Op::Mul, {a, two}, "f32[n]");
  auto s = b.reduce(Op::Sum, m, {0}, false, "f32[]");
  b.out("y", s);
  EXPECT_EQ(print(b.g), "graph {\n"
                        "  %0 = input \"a\" : f32[n]\n"
                        "  %1 = const 2.5 : f32[]\n"
                        "  %2 = mul %0, %1 : f32[n]\n"
                        "  %3 = sum %2 {axes = [0], keepdims = false} : f32[]\n"
                        "  output \"y\" = %3\n"
                        "}\n");
  EXPECT_NO_THROW(verify(b.g));
}

TEST(IRPrint, LeavesCastWhereAndReduce) {
  Builder b;
  auto x = b.input("x", "f64[m, 3]");
  auto r = b.param("r", DType::F64);
  auto c = b.op(Op::Gt, {x, r}, "bool[m, 3]");
  auto zero = b.cf(0.0, DType::F64);
  auto w = b.op(Op::Where, {c, x, zero}, "f64[m, 3]");
  auto i = b.op(Op::Cast, {w}, "i32[m, 3]");
  auto mx = b.reduce(Op::ArgMax, i, {0, 1}, true, "i64[1, 1]");
  auto h = b.op(Op::Cast, {w}, "f16[m, 3]");
  b.out("idx", mx);
  b.out("half", h);
  EXPECT_EQ(print(b.g), "graph {\n"
                        "  %0 = input \"x\" : f64[m, 3]\n"
                        "  %1 = param \"r\" : f64[]\n"
                        "  %2 = gt %0, %1 : bool[m, 3]\n"
                        "  %3 = const 0.0 : f64[]\n"
                        "  %4 = where %2, %0, %3 : f64[m, 3]\n"
                        "  %5 = cast %4 : i32[m, 3]\n"
                        "  %6 = argmax %5 {axes = [0, 1], keepdims = true} : i64[1, 1]\n"
                        "  %7 = cast %4 : f16[m, 3]\n"
                        "  output \"idx\" = %6\n"
                        "  output \"half\" = %7\n"
                        "}\n");
  EXPECT_NO_THROW(verify(b.g));
}

TEST(IRPrint, EmptyGraphAndEmptyAxes) {
  EXPECT_EQ(print(Graph{}), "graph {\n}\n");
  Builder b;
  auto x = b.input("x", "u8[4]");
  b.reduce(Op::Sum, x, {}, false, "u64[4]");
  EXPECT_EQ(print(b.g), "graph {\n"
                        "  %0 = input \"x\" : u8[4]\n"
                        "  %1 = sum %0 {axes = [], keepdims = false} : u64[4]\n"
                        "}\n");
  EXPECT_NO_THROW(verify(b.g));
}

TEST(IRPrint, NamesAreEscaped) {
  Builder b;
  static constexpr char kName[] = "q\"b\\s\x01\n\x7f\xc3\xa9 #%0\0z";
  auto x = b.input(std::string(kName, sizeof kName - 1), "f32[]");
  b.out("", x);
  EXPECT_EQ(print(b.g), "graph {\n"
                        "  %0 = input \"q\\\"b\\\\s\\x01\\x0a\\x7f\\xc3\\xa9 #%0\\x00z\" : f32[]\n"
                        "  output \"\" = %0\n"
                        "}\n");
}

// Prints the const node of a one-node graph.
std::string const_line(ConstValue v) {
  Builder b;
  b.constant(v);
  std::string s = print(b.g);
  return s.substr(s.find("const ") + 6, s.find(" :") - s.find("const ") - 6);
}
std::string cf(double x, DType d) {
  ConstValue v;
  v.dtype = d;
  v.f = x;
  return const_line(v);
}

TEST(IRPrint, ConstEdgeValues) {
  ConstValue v;
  v.dtype = DType::I64;
  v.i = INT64_MIN;
  EXPECT_EQ(const_line(v), "-9223372036854775808");
  v.i = INT64_MAX;
  EXPECT_EQ(const_line(v), "9223372036854775807");
  v.dtype = DType::I8;
  v.i = -128;
  EXPECT_EQ(const_line(v), "-128");
  v.dtype = DType::U64;
  v.u = UINT64_MAX;
  EXPECT_EQ(const_line(v), "18446744073709551615");
  v.dtype = DType::Bool;
  v.b = true;
  EXPECT_EQ(const_line(v), "true");
  v.b = false;
  EXPECT_EQ(const_line(v), "false");

  // Floats: shortest round-trip, always recognisably a float.
  EXPECT_EQ(cf(2.0, DType::F64), "2.0");
  EXPECT_EQ(cf(-0.0, DType::F64), "-0.0");
  EXPECT_EQ(cf(0.0, DType::F32), "0.0");
  EXPECT_EQ(cf(0.1, DType::F64), "0.1");
  EXPECT_EQ(cf(1e300, DType::F64), "1e+300");
  EXPECT_EQ(cf(123456789.0, DType::F64), "123456789.0");
  EXPECT_EQ(cf(5e-324, DType::F64), "5e-324"); // smallest denormal
  EXPECT_EQ(cf(2.2250738585072014e-308, DType::F64), "2.2250738585072014e-308"); // DBL_MIN
  EXPECT_EQ(cf(DBL_MAX, DType::F64), "1.7976931348623157e+308");
  EXPECT_EQ(cf(INFINITY, DType::F64), "inf");
  EXPECT_EQ(cf(-INFINITY, DType::F32), "-inf");
  EXPECT_EQ(cf(NAN, DType::F64), "nan");
  EXPECT_EQ(cf(-NAN, DType::F32), "nan");
  // f32 values print as the shortest decimal that names the *f32*, not the double.
  EXPECT_EQ(cf(0.1f, DType::F32), "0.1");
  EXPECT_EQ(cf(16777217.0f, DType::F32), "16777216.0"); // 2^24 + 1 rounds to 2^24 in f32
  EXPECT_EQ(cf(FLT_MAX, DType::F32), "3.4028235e+38");
  EXPECT_EQ(cf(FLT_TRUE_MIN, DType::F32), "1e-45");
  EXPECT_EQ(cf(FLT_MIN, DType::F32), "1.1754944e-38");
  EXPECT_EQ(cf(1.0f / 3.0f, DType::F32), "0.33333334");
  // Halves print their exact value.
  EXPECT_EQ(cf(65504.0, DType::F16), "65504.0");
  EXPECT_EQ(cf(f16_bits_to_double(0x2e66), DType::F16), "0.0999755859375"); // f16 nearest 0.1
  EXPECT_EQ(cf(f16_bits_to_double(0x0001), DType::F16), "5.960464477539063e-08");
  EXPECT_EQ(cf(bf16_bits_to_double(0x3dcd), DType::BF16), "0.10009765625");
}

// One graph with every op of Ops.def, built by iterating the table: operand dtypes are chosen
// from the op's kind and type rule, the result type comes from TypeRules. A new op therefore
// lands in this graph without editing the test; the checked-in golden (all_ops.expected)
// then fails until it is regenerated and reviewed:
//   XPR_UPDATE_GOLDEN=1 ./build-ir/tests/ir/xpr_ir_tests --gtest_filter='IRPrint.AllOps*'
Graph all_ops_graph() {
  Builder b;
  auto x = b.input("x", "f32[m, n]");
  auto y = b.input("y", "f32[n]");
  auto i = b.input("i", "i32[n]");
  auto j = b.input("j", "i32[]");
  auto c = b.input("c", "bool[m, 1]");
  b.param("r", DType::F32);
  b.cf(2.5);
  for (int k = 0; k < kNumOps; ++k) {
    auto op = static_cast<Op>(k);
    Node n;
    n.op = op;
    switch (op_kind(op)) {
    case OpKind::Leaf:
      continue; // the leaves are above
    case OpKind::Cast:
      n.operands = {x}, n.type = ty("i64[m, n]");
      break;
    case OpKind::Reduce: {
      n.operands = {x};
      n.axes = {1};
      DType d = DType::F32;
      n.type = Type{*result_dtype(op, std::span<const DType>(&d, 1)), {Dim::symbol("m")}};
      break;
    }
    case OpKind::Elementwise: {
      TypeRule rule = op_rule(op);
      bool ints = rule == TypeRule::Int || rule == TypeRule::IntOrBool;
      std::vector<ValueId> pool =
          ints ? std::vector<ValueId>{i, j, j} : std::vector<ValueId>{x, y, y};
      n.operands.assign(pool.begin(), pool.begin() + op_arity(op));
      if (rule == TypeRule::Where) n.operands = {c, x, y};
      std::vector<DType> dts;
      for (ValueId v : n.operands)
        dts.push_back(b.g.type(v).dtype);
      auto r = result_dtype(op, dts);
      if (!r) throw std::logic_error("no operand dtypes for a new type rule: extend all_ops_graph");
      n.type = Type{*r, ints ? ty("i32[n]").dims : ty("f32[m, n]").dims};
      break;
    }
    }
    ValueId v = b.g.add(n);
    b.out(std::string(op_name(op)), v);
  }
  return b.g;
}

std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(IRPrint, AllOpsGolden) {
  Graph g = all_ops_graph();
  ASSERT_NO_THROW(verify(g));
  std::string text = print(g);
  std::string path = std::string(XPR_TEST_DATA_DIR) + "/all_ops.expected";
  if (std::getenv("XPR_UPDATE_GOLDEN")) std::ofstream(path, std::ios::binary) << text;
  EXPECT_EQ(text, read_file(path)) << "regenerate with XPR_UPDATE_GOLDEN=1 after review";
  // Every op appears, printed under its Ops.def name.
  for (int k = 0; k < kNumOps; ++k) {
    std::string name(op_name(static_cast<Op>(k)));
    EXPECT_NE(text.find(" = " + name + " "), std::string::npos) << name;
  }
}

TEST(IRPrint, AllOpsRoundTrip) {
  Graph g = all_ops_graph();
  std::string text = print(g);
  Graph back = parse(text);
  EXPECT_EQ(diff_graphs(g, back), "");
  EXPECT_EQ(print(back), text);
}

TEST(IRPrint, PrintNodeForDiagnostics) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Neg, {x}, "f32[n]");
  EXPECT_EQ(print_node(b.g, 1), "%1 = neg %0 : f32[n]");
  EXPECT_EQ(print_node(b.g, 5), "%5 = <no such node>");
  b.g.nodes[1].op = static_cast<Op>(250);
  b.g.nodes[1].type.dtype = static_cast<DType>(99);
  EXPECT_EQ(print_node(b.g, 1), "%1 = <op 250> %0 : <dtype 99>[n]");
}

} // namespace
} // namespace xpr::ir::test
