// ParserTest.cpp — precedence, associativity, statements, declarations and AST dump goldens.
#include "frontend/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace xpr;
using namespace xpr::fe;

namespace {

std::string expr(const std::string &text) {
  SourceFile src("<expr>", text);
  try {
    Module m = parse_module(src, /*expression_form=*/true);
    std::string d = dump(m, src);
    if (!d.empty() && d.back() == '\n') d.pop_back();
    return d;
  } catch (const Error &e) {
    return std::string("ERROR: ") + e.what();
  }
}

std::string script(const std::string &text) {
  SourceFile src("s.xpr", text);
  try {
    return dump(parse_module(src, /*expression_form=*/false), src);
  } catch (const Error &e) {
    return std::string("ERROR: ") + e.what();
  }
}

} // namespace

TEST(Parser, Atoms) {
  EXPECT_EQ(expr("x"), "(name x)");
  EXPECT_EQ(expr("1_000"), "1_000");
  EXPECT_EQ(expr("0x1F"), "0x1F");
  EXPECT_EQ(expr(".5"), ".5");
  EXPECT_EQ(expr("true"), "true");
  EXPECT_EQ(expr("false"), "false");
  EXPECT_EQ(expr("((x))"), "(name x)");
}

// One row per precedence level, each against its neighbours, lowest first.
TEST(Parser, PrecedenceTable) {
  EXPECT_EQ(expr("a | b < c | d"), "(lt (or (name a) (name b)) (or (name c) (name d)))");
  EXPECT_EQ(expr("a == b ^ c"), "(eq (name a) (xor (name b) (name c)))");
  EXPECT_EQ(expr("a | b ^ c"), "(or (name a) (xor (name b) (name c)))");
  EXPECT_EQ(expr("a ^ b & c"), "(xor (name a) (and (name b) (name c)))");
  EXPECT_EQ(expr("a & b << c"), "(and (name a) (shl (name b) (name c)))");
  EXPECT_EQ(expr("a << b + c"), "(shl (name a) (add (name b) (name c)))");
  EXPECT_EQ(expr("a >> b - c"), "(shr (name a) (sub (name b) (name c)))");
  EXPECT_EQ(expr("a + b * c"), "(add (name a) (mul (name b) (name c)))");
  EXPECT_EQ(expr("a - b / c"), "(sub (name a) (div (name b) (name c)))");
  EXPECT_EQ(expr("a + b // c"), "(add (name a) (floordiv (name b) (name c)))");
  EXPECT_EQ(expr("a + b % c"), "(add (name a) (mod (name b) (name c)))");
  EXPECT_EQ(expr("a * -b"), "(mul (name a) (neg (name b)))");
  EXPECT_EQ(expr("-a * b"), "(mul (neg (name a)) (name b))");
  EXPECT_EQ(expr("~a & b"), "(and (invert (name a)) (name b))");
  EXPECT_EQ(expr("-a ** b"), "(neg (pow (name a) (name b)))");
  EXPECT_EQ(expr("a ** -b"), "(pow (name a) (neg (name b)))");
  EXPECT_EQ(expr("a ** -b ** c"), "(pow (name a) (neg (pow (name b) (name c))))");
  EXPECT_EQ(expr("a * b ** c"), "(mul (name a) (pow (name b) (name c)))");
  EXPECT_EQ(expr("f(a) ** 2"), "(pow (call f (name a)) 2)");
  EXPECT_EQ(expr("a != b"), "(ne (name a) (name b))");
  EXPECT_EQ(expr("a <= b"), "(le (name a) (name b))");
  EXPECT_EQ(expr("a > b"), "(gt (name a) (name b))");
  EXPECT_EQ(expr("a >= b"), "(ge (name a) (name b))");
  EXPECT_EQ(expr("(a < b) & (b < c)"), "(and (lt (name a) (name b)) (lt (name b) (name c)))");
}

TEST(Parser, Associativity) {
  EXPECT_EQ(expr("a - b - c"), "(sub (sub (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a / b * c // d % e"),
            "(mod (floordiv (mul (div (name a) (name b)) (name c)) (name d)) (name e))");
  EXPECT_EQ(expr("a << b >> c"), "(shr (shl (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a | b | c"), "(or (or (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a ** b ** c"), "(pow (name a) (pow (name b) (name c)))");
  EXPECT_EQ(expr("- - ~a"), "(neg (neg (invert (name a))))");
  EXPECT_EQ(expr("+a"), "(pos (name a))");
  EXPECT_EQ(expr("a - (b - c)"), "(sub (name a) (sub (name b) (name c)))");
}

TEST(Parser, Calls) {
  EXPECT_EQ(expr("f()"), "(call f)");
  EXPECT_EQ(expr("where(a > b, a * a, b - c)"),
            "(call where (gt (name a) (name b)) (mul (name a) (name a)) (sub (name b) (name c)))");
  EXPECT_EQ(expr("x - max(x, axis=1, keepdims=true)"),
            "(sub (name x) (call max (name x) (kw axis 1) (kw keepdims true)))");
  EXPECT_EQ(expr("sum(x, axis=(0, 1))"), "(call sum (name x) (kw axis (tuple 0 1)))");
  EXPECT_EQ(expr("sum(x, axis=(0,))"), "(call sum (name x) (kw axis (tuple 0)))");
  EXPECT_EQ(expr("sum(x, axis=(1))"), "(call sum (name x) (kw axis 1))");
  EXPECT_EQ(expr("sum(x, axis=-1)"), "(call sum (name x) (kw axis (neg 1)))");
  EXPECT_EQ(expr("f(a, b,)"), "(call f (name a) (name b))");
  EXPECT_EQ(expr("f32(x)"), "(call f32 (name x))");
  EXPECT_EQ(expr("f(g(h(x)))"), "(call f (call g (call h (name x))))");
  EXPECT_EQ(expr("f(a == b)"), "(call f (eq (name a) (name b)))");
}

TEST(Parser, NewlinesInsideBracketsAndAroundExpression) {
  EXPECT_EQ(expr("\n# leading comment\n  f(a,\n    b) # trailing\n\n"),
            "(call f (name a) (name b))");
  EXPECT_EQ(expr("(a\n+\nb)"), "(add (name a) (name b))");
  EXPECT_EQ(script("let x = (a +\n  b)  # spans lines\noutput y = x\n"),
            "(let x (add (name a) (name b)))\n(output y (name x))\n");
}

TEST(Parser, Ranges) {
  SourceFile src("<expr>", "(a + b) * f(c, axis=1)");
  Module m = parse_module(src, true);
  ASSERT_TRUE(m.expr);
  EXPECT_EQ(m.expr->range.begin, 0u);
  EXPECT_EQ(m.expr->range.end, 22u);
  const Binary *mul = m.expr->as<Binary>();
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul->lhs->range.begin, 0u); // the parentheses belong to the operand
  EXPECT_EQ(mul->lhs->range.end, 7u);
  const Call *call = mul->rhs->as<Call>();
  ASSERT_TRUE(call);
  EXPECT_EQ(call->callee_range.begin, 10u);
  EXPECT_EQ(call->callee_range.end, 11u);
  ASSERT_EQ(call->kwargs.size(), 1u);
  EXPECT_EQ(call->kwargs[0].name_range.begin, 15u);
  EXPECT_EQ(call->kwargs[0].name_range.end, 19u);
}

TEST(Parser, LiteralValues) {
  SourceFile src("<expr>", "f(18446744073709551615, 2.5e-3, 0x10, true)");
  Module m = parse_module(src, true);
  const Call *c = m.expr->as<Call>();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->args.size(), 4u);
  const NumberLit *a = c->args[0]->as<NumberLit>();
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_float);
  EXPECT_EQ(a->uvalue, 18446744073709551615u);
  const NumberLit *b = c->args[1]->as<NumberLit>();
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_float);
  EXPECT_EQ(b->fvalue, 2.5e-3);
  EXPECT_EQ(b->text, "2.5e-3");
  EXPECT_EQ(c->args[2]->as<NumberLit>()->uvalue, 16u);
  EXPECT_TRUE(c->args[3]->as<BoolLit>()->value);
}

TEST(Parser, EveryStatementKind) {
  EXPECT_EQ(script("input S: f32[n]\n"
                   "input M: f64[n, 3]\n"
                   "input s0: i32[]\n"
                   "input s1: u8\n"
                   "input B: bool[2, m, 0]\n"
                   "param r: f32\n"
                   "param q: bf16[]\n"
                   "let x = S * r\n"
                   "output y = x + 1\n"),
            "(input S f32[n])\n"
            "(input M f64[n, 3])\n"
            "(input s0 i32[])\n"
            "(input s1 u8[])\n"
            "(input B bool[2, m, 0])\n"
            "(param r f32)\n"
            "(param q bf16)\n"
            "(let x (mul (name S) (name r)))\n"
            "(output y (add (name x) 1))\n");
}

TEST(Parser, StatementFields) {
  SourceFile src("s.xpr", "input A: f32[n, 4]\nlet b = A\n");
  Module m = parse_module(src, false);
  ASSERT_EQ(m.stmts.size(), 2u);
  EXPECT_FALSE(m.expr);
  const Stmt &in = m.stmts[0];
  EXPECT_EQ(in.kind, StmtKind::Input);
  EXPECT_EQ(in.name, "A");
  EXPECT_EQ(in.name_range.begin, 6u);
  EXPECT_EQ(in.range.begin, 0u);
  EXPECT_EQ(in.range.end, 18u);
  ASSERT_TRUE(in.type);
  EXPECT_EQ(in.type->dtype, DType::F32);
  ASSERT_EQ(in.type->dims.size(), 2u);
  EXPECT_EQ(in.type->dims[0].symbol, "n");
  EXPECT_FALSE(in.type->dims[0].size);
  EXPECT_EQ(in.type->dims[1].size, 4);
  EXPECT_EQ(in.type->range.begin, 9u);
  EXPECT_EQ(m.stmts[1].kind, StmtKind::Let);
  EXPECT_EQ(m.stmts[1].value->as<NameRef>()->name, "A");
}

TEST(Parser, BlackScholesGolden) {
  EXPECT_EQ(script("input S: f32[n]        # symbolic dims\n"
                   "input K: f32[n]\n"
                   "input T: f32[n]\n"
                   "param r: f32           # a runtime scalar\n"
                   "param v: f32\n"
                   "\n"
                   "let sqrtT = sqrt(T)\n"
                   "let d1 = (log(S / K) + (r + 0.5 * v * v) * T) / (v * sqrtT)\n"
                   "let d2 = d1 - v * sqrtT\n"
                   "output call = S * ncdf(d1) - K * exp(-r * T) * ncdf(d2)\n"
                   "output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)"),
            "(input S f32[n])\n"
            "(input K f32[n])\n"
            "(input T f32[n])\n"
            "(param r f32)\n"
            "(param v f32)\n"
            "(let sqrtT (call sqrt (name T)))\n"
            "(let d1 (div (add (call log (div (name S) (name K))) (mul (add (name r) (mul (mul "
            "0.5 (name v)) (name v))) (name T))) (mul (name v) (name sqrtT))))\n"
            "(let d2 (sub (name d1) (mul (name v) (name sqrtT))))\n"
            "(output call (sub (mul (name S) (call ncdf (name d1))) (mul (mul (name K) (call exp "
            "(mul (neg (name r)) (name T)))) (call ncdf (name d2)))))\n"
            "(output put (sub (mul (mul (name K) (call exp (mul (neg (name r)) (name T)))) (call "
            "ncdf (neg (name d2)))) (mul (name S) (call ncdf (neg (name d1))))))\n");
}

TEST(Parser, EmptyAndBlankScripts) {
  EXPECT_EQ(script(""), "");
  EXPECT_EQ(script("\n\n# nothing here\n   \n"), "");
  EXPECT_EQ(script("let a = 1\r\nlet b = 2\r\n"), "(let a 1)\n(let b 2)\n");
}

TEST(Parser, DeclarationList) {
  SourceFile src("<decl>", "a: f32[n], b: f64[n, 3], s: i64, t: bool[]");
  auto decls = parse_decl_list(src);
  ASSERT_EQ(decls.size(), 4u);
  EXPECT_EQ(decls[0].first, "a");
  EXPECT_EQ(decls[0].second.dtype, DType::F32);
  ASSERT_EQ(decls[0].second.dims.size(), 1u);
  EXPECT_EQ(decls[0].second.dims[0].symbol, "n");
  EXPECT_EQ(decls[1].first, "b");
  EXPECT_EQ(decls[1].second.dtype, DType::F64);
  ASSERT_EQ(decls[1].second.dims.size(), 2u);
  EXPECT_EQ(decls[1].second.dims[1].size, 3);
  EXPECT_EQ(decls[2].second.dtype, DType::I64);
  EXPECT_TRUE(decls[2].second.dims.empty());
  EXPECT_EQ(decls[3].second.dtype, DType::Bool);
  EXPECT_TRUE(decls[3].second.dims.empty());

  auto ranged = parse_decl_list_ranged(src);
  ASSERT_EQ(ranged.size(), 4u);
  EXPECT_EQ(ranged[1].name_range.begin, 11u);
  EXPECT_EQ(ranged[1].name_range.end, 12u);

  EXPECT_TRUE(parse_decl_list(SourceFile("<decl>", "")).empty());
  EXPECT_EQ(parse_decl_list(SourceFile("<decl>", "x: f32,\ny: f16[k],")).size(), 2u);
}

TEST(Parser, DeclarationListErrors) {
  try {
    parse_decl_list(SourceFile("<decl>", "a: f32[n] b: f64"));
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Syntax);
    EXPECT_EQ(std::string(e.what()),
              "<decl>:1:11: error: expected ',' or end of input after the declaration, found 'b'\n"
              "  a: f32[n] b: f64\n"
              "            ^");
  }
  try {
    parse_decl_list(SourceFile("<decl>", "a: float32"));
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()),
              "<decl>:1:4: error: unknown dtype 'float32'\n"
              "  a: float32\n"
              "     ^~~~~~~\n"
              "note: valid dtypes: bool, i8, i16, i32, i64, u8, u16, u32, u64, f16, bf16, f32, "
              "f64");
  }
}
