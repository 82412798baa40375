// tests/sema/SemaTest.cpp — sema end to end: golden printed IR for sources in data/golden, the
// exact rendered diagnostic for every bad source in data/errors, and graph-level checks.
//
// Golden files: NAME.xpr is a script, NAME.expr an expression (first line: declarations, rest:
// the expression); NAME.ir is the expected `ir::print`, NAME.err the expected error (first line
// `kind: KIND`, then `what()`). Run with XPR_UPDATE_GOLDENS=1 to rewrite them after a deliberate
// change, then review the diff.
#include "frontend/Sema.h"
#include "compiler/ir/TypeRules.h"
#include "frontend/Frontend.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace xpr;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(XPR_TEST_DATA_DIR) / "data";

std::string read(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in.is_open()) return "<missing " + p.string() + ">";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool updating() {
  const char *u = std::getenv("XPR_UPDATE_GOLDENS");
  return u && *u && std::string(u) != "0";
}

/// Compiles one source file of the golden layout; returns the printed IR.
ir::Graph compile_file(const fs::path &p) {
  std::string text = read(p);
  if (p.extension() == ".expr") {
    auto nl = text.find('\n');
    SourceFile decl_src("<decl>", text.substr(0, nl));
    std::vector<fe::Decl> decls = fe::parse_decls(decl_src);
    std::string expr = nl == std::string::npos ? "" : text.substr(nl + 1);
    while (!expr.empty() && expr.back() == '\n')
      expr.pop_back();
    return fe::compile_expression(SourceFile("<expr>", expr), decls);
  }
  return fe::compile_script(SourceFile(p.filename().string(), text));
}

std::vector<fs::path> sources(const fs::path &dir) {
  std::vector<fs::path> r;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ".xpr" || e.path().extension() == ".expr") r.push_back(e.path());
  std::sort(r.begin(), r.end());
  return r;
}

void check_golden(const fs::path &expected_path, const std::string &actual) {
  if (updating()) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(read(expected_path), actual) << "golden: " << expected_path;
}

} // namespace

TEST(SemaGolden, PrintedIR) {
  auto files = sources(kData / "golden");
  EXPECT_GE(files.size(), 15u);
  for (const fs::path &p : files) {
    SCOPED_TRACE(p.filename().string());
    std::string actual;
    try {
      ir::Graph g = compile_file(p);
      actual = ir::print(g);
    } catch (const Error &e) {
      actual = std::string("unexpected error:\n") + e.what() + "\n";
    }
    fs::path exp = p;
    check_golden(exp.replace_extension(".ir"), actual);
  }
}

TEST(SemaErrors, RenderedDiagnostics) {
  auto files = sources(kData / "errors");
  EXPECT_GE(files.size(), 30u);
  for (const fs::path &p : files) {
    SCOPED_TRACE(p.filename().string());
    std::string actual;
    try {
      ir::Graph g = compile_file(p);
      actual = "unexpected success:\n" + ir::print(g);
    } catch (const Error &e) {
      actual = fmt::format("kind: {}\n{}\n", error_kind_name(e.kind()), e.what());
    }
    fs::path exp = p;
    check_golden(exp.replace_extension(".err"), actual);
  }
}

// ---- graph structure, independent of the printer ----

namespace {
ir::Graph script(const std::string &text) { return fe::compile_script(SourceFile("t.xpr", text)); }
const ir::Node &output_node(const ir::Graph &g, const std::string &name) {
  for (const ir::Output &o : g.outputs)
    if (o.name == name) return g.node(o.value);
  throw std::runtime_error("no output " + name);
}
} // namespace

TEST(SemaGraph, InputsParamsOutputsInOrder) {
  ir::Graph g = script("input b: f32[n]\nparam s: f64\ninput a: f32[n, 2]\noutput x = a\n"
                       "output y = b * s\n");
  ASSERT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(g.node(g.inputs()[0]).name, "b");
  EXPECT_EQ(g.node(g.inputs()[1]).name, "a");
  EXPECT_EQ(ir::to_string(g.node(g.inputs()[1]).type), "f32[n, 2]");
  ASSERT_EQ(g.params().size(), 1u);
  EXPECT_EQ(ir::to_string(g.node(g.params()[0]).type), "f64[]");
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.outputs[0].name, "x");
  EXPECT_EQ(g.outputs[0].value, g.inputs()[1]);
  EXPECT_EQ(ir::to_string(output_node(g, "y").type), "f64[n]");
}

TEST(SemaGraph, HalfIsWidenedAndStoredBack) {
  ir::Graph g = script("input a: f16[n]\ninput b: bf16[n]\noutput y = a * b\noutput z = a + a\n");
  const ir::Node &y = output_node(g, "y");
  EXPECT_EQ(ir::to_string(y.type), "f32[n]"); // f16 * bf16 -> f32, nothing to round
  const ir::Node &z = output_node(g, "z");
  EXPECT_EQ(z.op, ir::Op::Cast);
  EXPECT_EQ(ir::to_string(z.type), "f16[n]");
  const ir::Node &add = g.node(z.operands[0]);
  EXPECT_EQ(add.op, ir::Op::Add);
  EXPECT_EQ(add.type.dtype, DType::F32);
  for (const ir::Node &n : g.nodes)
    if (n.op != ir::Op::Input && n.op != ir::Op::Cast) EXPECT_FALSE(is_half(n.type.dtype));
}

TEST(SemaGraph, ExpressionUsesOnlyReferencedDeclsInDeclOrder) {
  std::vector<fe::Decl> decls =
      fe::parse_decls(SourceFile("<decl>", "a: f32[n], b: f32[n], c: f32[n]"));
  ir::Graph g = fe::compile_expression(SourceFile("<expr>", "c - a"), decls);
  ASSERT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(g.node(g.inputs()[0]).name, "a");
  EXPECT_EQ(g.node(g.inputs()[1]).name, "c");
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.outputs[0].name, "result");
}

TEST(SemaGraph, WeakLiteralResultTypes) {
  auto type_of = [](const std::string &decls, const std::string &expr) {
    auto d = fe::parse_decls(SourceFile("<decl>", decls));
    ir::Graph g = fe::compile_expression(SourceFile("<expr>", expr), d);
    return ir::to_string(g.type(g.outputs[0].value));
  };
  EXPECT_EQ(type_of("", "1 + 2"), "i64[]");
  EXPECT_EQ(type_of("", "1 + 2.0"), "f64[]");
  EXPECT_EQ(type_of("", "1 / 2"), "f64[]");
  EXPECT_EQ(type_of("", "true & false"), "bool[]");
  EXPECT_EQ(type_of("x: f32[n]", "x * 2"), "f32[n]");
  EXPECT_EQ(type_of("x: f32[n]", "x * sqrt(2)"), "f32[n]"); // constant expressions stay weak
  EXPECT_EQ(type_of("x: f32[n]", "x * f64(2)"), "f64[n]");  // a cast makes a value strong
  EXPECT_EQ(type_of("k: i16[n]", "k * 2.5"), "f64[n]");
  EXPECT_EQ(type_of("k: i16[n]", "k < 2.5"), "bool[n]");
  EXPECT_EQ(type_of("k: u32[n]", "k + 4294967295"), "u32[n]");
  EXPECT_EQ(type_of("p: bool[n]", "p + 1"), "i64[n]");
  EXPECT_EQ(type_of("p: bool[n]", "p * 1.5"), "f64[n]");
  EXPECT_EQ(type_of("p: bool[n]", "p & true"), "bool[n]");
  EXPECT_EQ(type_of("h: f16[n]", "h * 2.5"), "f16[n]");
  EXPECT_EQ(type_of("h: bf16[n]", "h + 1"), "bf16[n]");
  EXPECT_EQ(type_of("h: bf16[n], k: i8[n]", "h + k"), "bf16[n]");
  EXPECT_EQ(type_of("k: i8[n]", "exp(k)"), "f16[n]");
  EXPECT_EQ(type_of("k: i32[n]", "k / 2"), "f64[n]");
  EXPECT_EQ(type_of("x: f32[n, m]", "argmin(x, axis=0)"), "i64[m]");
  EXPECT_EQ(type_of("x: u8[n, m]", "sum(x, axis=0, keepdims=true)"), "u64[1, m]");
  EXPECT_EQ(type_of("x: f32[n]", "sum(2)"), "i64[]");
}

TEST(SemaGraph, WeakLiteralConstantsTakeTheOperandDtype) {
  auto d = fe::parse_decls(SourceFile("<decl>", "h: f16[n], b: i8[n]"));
  ir::Graph g = fe::compile_expression(SourceFile("<expr>", "b * -128 + h * 0.1"), d);
  std::vector<const ir::Node *> consts;
  for (const ir::Node &n : g.nodes)
    if (n.op == ir::Op::Const) consts.push_back(&n);
  ASSERT_EQ(consts.size(), 2u);
  EXPECT_EQ(consts[0]->type.dtype, DType::I8);
  EXPECT_EQ(consts[0]->value.i, -128);
  EXPECT_EQ(consts[1]->type.dtype, DType::F32);   // f16's compute dtype
  EXPECT_EQ(consts[1]->value.f, 0.0999755859375); // 0.1 rounded to f16
}

TEST(SemaGraph, DeepChainIsALimitErrorNotACrash) {
  std::string expr = "x";
  for (int i = 0; i < 5000; ++i)
    expr += " + x";
  auto d = fe::parse_decls(SourceFile("<decl>", "x: f32[n]"));
  try {
    fe::compile_expression(SourceFile("<expr>", expr), d);
    FAIL() << "expected a limit error";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Limit);
  }
  std::string ok = "x";
  for (int i = 0; i < 1000; ++i)
    ok += " + x";
  ir::Graph g = fe::compile_expression(SourceFile("<expr>", ok), d);
  EXPECT_EQ(g.nodes.size(), 1001u);
}

TEST(SemaHelpers, EditDistanceAndSuggestions) {
  EXPECT_EQ(fe::edit_distance("axes", "axis"), 1);
  EXPECT_EQ(fe::edit_distance("exp", "epx"), 1); // a transposition is one edit
  EXPECT_EQ(fe::edit_distance("", "abc"), 3);
  EXPECT_EQ(fe::closest_name("sqr", {"sqrt", "exp", "sin"}), "sqrt");
  EXPECT_EQ(fe::closest_name("xyzzy", {"sqrt", "exp"}), "");
  EXPECT_EQ(fe::closest_name("c", {"a", "b"}), ""); // one-letter names: no noise
}
