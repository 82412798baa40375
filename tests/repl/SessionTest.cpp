// tests/repl/SessionTest.cpp — REPL statements driven line by line: what each prints, the caret
// diagnostics under the typed line, constructors, :commands, scripts, and completion.
#include "tools/xpr/Npy.h"
#include "tools/xpr/Session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace xpr;
using tool::Session;

namespace {

struct Repl {
  std::ostringstream out, err;
  Session s{tool::SessionIo{out, err, false, "<repl>"}};
  Session::Status run(const std::string &line) { return s.execute(line); }
  /// Runs `line` and returns stdout followed by stderr, then clears both.
  std::string operator()(const std::string &line) {
    run(line);
    std::string r = out.str() + err.str();
    out.str("");
    err.str("");
    return r;
  }
};

} // namespace

TEST(Session, AssignEvaluatePrint) {
  Repl r;
  EXPECT_EQ(r("a = arange(5)"), "");
  EXPECT_EQ(r("a * 2 + 1"), "array([1, 3, 5, 7, 9])\n");
  EXPECT_EQ(r("b = a / 2"), "");
  EXPECT_EQ(r("b"), "array([0. , 0.5, 1. , 1.5, 2. ])\n");
  EXPECT_EQ(r("sum(a)"), "array(10)\n");
  EXPECT_EQ(r("a == 2"), "array([False, False,  True, False, False])\n");
  EXPECT_EQ(r("1 + 2"), "array(3)\n");
  EXPECT_EQ(r("  # a comment"), "");
  EXPECT_EQ(r(""), "");
  EXPECT_EQ(r("a = a * 10"), ""); // rebinding a name from itself
  EXPECT_EQ(r("a"), "array([ 0, 10, 20, 30, 40])\n");
}

TEST(Session, Constructors) {
  Repl r;
  EXPECT_EQ(r("zeros(2, 3, dtype=f32)"), "array([[0., 0., 0.],\n       [0., 0., 0.]], dtype=float32)\n");
  EXPECT_EQ(r("ones((2,), dtype=\"int8\")"), "array([1, 1], dtype=int8)\n");
  EXPECT_EQ(r("full((2, 2), 7)"), "array([[7, 7],\n       [7, 7]])\n");
  EXPECT_EQ(r("full(3, 2.5, dtype=f16)"), "array([2.5, 2.5, 2.5], dtype=float16)\n");
  EXPECT_EQ(r("full(2, true)"), "array([ True,  True])\n");
  EXPECT_EQ(r("arange(2, 11, 3)"), "array([2, 5, 8])\n");
  EXPECT_EQ(r("arange(5, 0, -2)"), "array([5, 3, 1])\n");
  EXPECT_EQ(r("arange(0.5, 2)"), "array([0.5, 1.5])\n");
  EXPECT_EQ(r("arange(3, dtype=u8)"), "array([0, 1, 2], dtype=uint8)\n");
  EXPECT_EQ(r("linspace(0, 1, 5)"), "array([0.  , 0.25, 0.5 , 0.75, 1.  ])\n");
  EXPECT_EQ(r("linspace(0, 1, num=3, dtype=f32)"), "array([0. , 0.5, 1. ], dtype=float32)\n");
  EXPECT_EQ(r("reshape(arange(6), (2, -1))"), "array([[0, 1, 2],\n       [3, 4, 5]])\n");
  EXPECT_EQ(r("reshape(arange(6), 3, 2)"), "array([[0, 1],\n       [2, 3],\n       [4, 5]])\n");
  EXPECT_EQ(r("zeros(())"), "array(0.)\n");
  const std::string nested = r("rand(3) * 2");
  EXPECT_NE(nested.find("note: rand() makes a variable and cannot be part of an expression: "
                        "write `t = rand(...)` first, then use t"),
            std::string::npos)
      << nested;
}

TEST(Session, RandomIsReproducible) {
  Repl r;
  r("seed(42)");
  const std::string first = r("rand(3)");
  EXPECT_EQ(first, "array([0.75515553, 0.63903139, 0.7521452 ])\n");
  r("seed(42)");
  EXPECT_EQ(r("rand(3)"), first);
  r("seed(42)");
  EXPECT_EQ(r("randn(2)"), "array([1.29382042, 0.70498827])\n");
  r("seed(7)");
  EXPECT_NE(r("rand(3)"), first);
  EXPECT_EQ(r("x = rand(1000, dtype=f32)"), "");
  EXPECT_EQ(r("all(x >= 0) & all(x < 1)"), "array(True)\n");
}

TEST(Session, ErrorsShowTheTypedLineWithACaret) {
  Repl r;
  r("a = zeros(4, dtype=f32)");
  r("b = zeros(3, dtype=f32)");
  EXPECT_EQ(r.run("c = a + b"), Session::Status::UserError);
  EXPECT_EQ(r.err.str(),
            "<repl>:1:7: error: cannot broadcast the operands of '+': f32[4] and f32[3]\n"
            "  c = a + b\n"
            "        ^\n"
            "<repl>:1:5: note: 'a' is f32[4]\n"
            "  c = a + b\n"
            "      ^\n"
            "<repl>:1:9: note: 'b' is f32[3]\n"
            "  c = a + b\n"
            "          ^\n"
            "note: 4 and 3 cannot broadcast: fixed sizes must be equal or 1\n");
  r.err.str("");
  EXPECT_EQ(r("1 +* 2"), "<repl>:1:4: error: expected an expression, found '*'\n  1 +* 2\n     ^\n");
  EXPECT_EQ(r("nope + 1"), "<repl>:1:1: error: unknown name 'nope'\n  nope + 1\n  ^~~~\n");
  EXPECT_EQ(r("zeros(-1)"), "<repl>:1:7: error: negative dimension -1\n  zeros(-1)\n        ^~\n");
  EXPECT_EQ(r("rand(3, dtype=i32)"), "<repl>:1:1: error: rand() makes floats; i32 is not a float dtype\n  rand(3, dtype=i32)\n  ^~~~~~~~~~~~~~~~~~\n");
  EXPECT_EQ(r("ones(2, dtype=f128)"), "<repl>:1:15: error: unknown dtype 'f128'\n  ones(2, dtype=f128)\n                ^~~~\nnote: dtypes: bool i8 i16 i32 i64 u8 u16 u32 u64 f16 bf16 f32 f64 (or NumPy's names)\n");
  EXPECT_EQ(r("reshape(arange(6), (4, -1))"), "<repl>:1:1: error: cannot reshape an array of size 6 into shape [4, -1]\n  reshape(arange(6), (4, -1))\n  ^~~~~~~~~~~~~~~~~~~~~~~~~~~\n");
  EXPECT_EQ(r("arange(1, 2, 0)"), "<repl>:1:14: error: arange() step must not be 0\n  arange(1, 2, 0)\n               ^\n");
  EXPECT_EQ(r("let = 3"), "<repl>:1:1: error: 'let' is a keyword and cannot name a variable\n  let = 3\n  ^~~\n");
  EXPECT_EQ(r("x = load(\"/no/such.npy\")"), "<repl>:1:10: error: cannot load '/no/such.npy': No such file or directory\n  x = load(\"/no/such.npy\")\n           ^~~~~~~~~~~~~~\n");
  // The session goes on after every error.
  EXPECT_EQ(r("a + 1"), "array([1., 1., 1., 1.], dtype=float32)\n");
}

TEST(Session, Commands) {
  Repl r;
  EXPECT_EQ(r(":vars"), "no variables yet; try  a = rand(1_000_000)\n");
  r("alpha = zeros(1000, 3, dtype=f32)");
  r("n = 7");
  EXPECT_EQ(r(":vars"), "alpha  f32[1000, 3]  12.0 kB\nn      i64[]         8 B\n");
  EXPECT_EQ(r(":type alpha * 2.5"), "f32[1000, 3]\n");
  EXPECT_EQ(r(":type sum(alpha, axis=0) + n"), "f64[3]\n"); // n is a strong i64
  EXPECT_EQ(r(":type sum(alpha, axis=0) + 7"), "f32[3]\n"); // a literal is weak
  EXPECT_EQ(r(":type alpha / n"), "f64[1000, 3]\n");
  EXPECT_EQ(r(":threads 1"), "threads: 1\n");
  EXPECT_EQ(r(":threads"), "threads: 1\n");
  EXPECT_EQ(r(":threads -3"), "<repl>:1:10: error: expected a thread count from 0 (all cores) to 4096, got '-3'\n  :threads -3\n           ^~\n");
  EXPECT_EQ(r(":precision fast"), "precision: fast\n");
  EXPECT_EQ(r("sum(alpha + 1)"), "array(3000., dtype=float32)\n");
  EXPECT_EQ(r(":precision accurate"), "precision: accurate\n");
  EXPECT_EQ(r(":target cpu"), "target: cpu (1 threads)\n");
  { // docs/gpu.md: the GPU where one is usable, else an error saying why (no driver, no GPU)
    const std::string t = r(":target cuda");
    EXPECT_TRUE(t.rfind("<repl>:1:9: error: no CUDA ", 0) == 0 || t.rfind("target: cuda:0 (", 0) == 0) << t;
    EXPECT_EQ(r(":target cpu"), "target: cpu (1 threads)\n");
  }
  EXPECT_NE(r(":emit ptx alpha").find(".entry k0("), std::string::npos);
  EXPECT_EQ(r(":emit nope alpha"), "<repl>:1:7: error: unknown stage 'nope'\n  :emit nope alpha\n        ^~~~\nnote: stages: ast ir opt fused mlir mlir-llvm llvm asm ptx\n");
  EXPECT_EQ(r(":bogus"), "<repl>:1:1: error: unknown command ':bogus'\n  :bogus\n  ^~~~~~\nnote: commands: :help :vars :type :emit :time :threads :precision :target :load :quit\n");
  EXPECT_EQ(r.run(":quit"), Session::Status::Quit);
  EXPECT_NE(r(":help").find(":emit STAGE EXPR"), std::string::npos);
}

TEST(Session, EmitStages) {
  Repl r;
  r("a = zeros(8, dtype=f32)");
  r("b = zeros(8, dtype=f32)");
  EXPECT_EQ(r(":emit ir a * b + 1"),
            "graph {\n  %0 = input \"a\" : f32[d0]\n  %1 = input \"b\" : f32[d0]\n  %2 = mul %0, %1 : f32[d0]\n"
            "  %3 = const 1.0 : f32[]\n  %4 = add %2, %3 : f32[d0]\n  output \"result\" = %4\n}\n");
  const std::string fused = r(":emit fused a * b + exp(a)");
  EXPECT_NE(fused.find("# 1 kernel(s), 0 reduction(s), 0 intermediate buffer(s)"), std::string::npos) << fused;
  const std::string mlir = r(":emit mlir a * b");
  EXPECT_NE(mlir.find("func.func"), std::string::npos) << mlir;
  const std::string llvm = r(":emit llvm a * b");
  EXPECT_NE(llvm.find("define"), std::string::npos) << llvm;
  const std::string asm_ = r(":emit asm a * b");
  EXPECT_NE(asm_.find("ret"), std::string::npos) << asm_;
  EXPECT_NE(r(":emit ast a+1").find("add"), std::string::npos);
}

TEST(Session, TimeReportsStages) {
  Repl r;
  r("a = zeros(100000, dtype=f32)");
  const std::string t = r(":time a * 2 + 1");
  for (const char *w : {"result      f32[100000]", "compile", "frontend", "passes", "1 kernel, 0 reductions, 0 intermediate buffers",
                        "mlir", "lower", "llvm", "codegen", "first call", "run", "GB/s", "800.0 kB moved"})
    EXPECT_NE(t.find(w), std::string::npos) << w << "\n" << t;
}

TEST(Session, SaveLoadAndScripts) {
  const auto dir = std::filesystem::temp_directory_path() / ("xpr_session_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Repl r;
  const std::string p = (dir / "x.npy").string();
  r("x = arange(4, dtype=f32)");
  EXPECT_EQ(r("save(\"" + p + "\", x * 2)"), "");
  EXPECT_EQ(r("y = load('" + p + "')"), "");
  EXPECT_EQ(r("y"), "array([0., 2., 4., 6.], dtype=float32)\n");
  EXPECT_EQ(r("save(\"" + p + "\", zeros(2, dtype=bf16))"),
            "<repl>:1:6: error: cannot save '" + p + "': bf16 has no NumPy dtype; save f32(x) (exact) or save its bits with a cast to u16 in your own code\n"
            "  save(\"" + p + "\", zeros(2, dtype=bf16))\n       ^" + std::string(p.size() + 1, '~') + "\n");

  const std::string script = (dir / "s.xpr").string();
  {
    std::ofstream f(script);
    f << "input x: f32[n]\nparam k: f32\noutput twice = x * k\noutput total = sum(x)\n";
  }
  EXPECT_EQ(r(":load " + script), "error: script param 'k: f32[]' has no variable of that name; define it first, e.g. k = 0.5\n");
  r("k = 3");
  EXPECT_EQ(r(":load " + script), "twice: f32[4], total: f32[]\n");
  EXPECT_EQ(r("twice"), "array([0., 3., 6., 9.], dtype=float32)\n");
  EXPECT_EQ(r("total"), "array(6., dtype=float32)\n");
  r("x = arange(4)");
  EXPECT_EQ(r(":load " + script), "error: script input 'x' is f32[n] but the variable x is i64[4]; convert it, e.g. x = f32(x)\n");
  EXPECT_EQ(r(":load " + (dir / "none.xpr").string()), "error: cannot read script '" + (dir / "none.xpr").string() + "'\n");
  std::filesystem::remove_all(dir);
}

TEST(Session, Completion) {
  Repl r;
  r("alpha = zeros(1)");
  r("alps = zeros(1)");
  auto c = r.s.complete("1 + al", 6);
  EXPECT_EQ(c.start, 4u);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"all", "alpha", "alps"}));
  c = r.s.complete("ex", 2);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"exp", "exp2", "expm1"}));
  c = r.s.complete(":t", 2);
  EXPECT_EQ(c.start, 0u);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{":target", ":threads", ":time", ":type"}));
  c = r.s.complete(":emit f", 7);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"fused"}));
  c = r.s.complete(":emit fused alp", 15);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"alpha", "alps"}));
  c = r.s.complete("lins", 4);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"linspace"}));
}
