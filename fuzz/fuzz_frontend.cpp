// fuzz/fuzz_frontend.cpp — lexer, parser and sema (both forms) on arbitrary bytes.
//
// Each input is tried as: an expression, a script (parse only, then parse + sema), and an
// expression under declarations. For the last, the first line is read as a declaration list
// (the tests/sema/data/*.expr format: "a: f32[n], b: f64[n]\nEXPR"); if it is not one, the whole
// input is compiled against a fixed set of declarations. Properties checked:
//  - every failure is an xpr::Error of a user kind with a message and no raw control bytes;
//  - a graph sema accepts survives print → ir::parse → verify → print unchanged (the frontend's
//    output and the IR's textual form agree).
#include "FuzzCommon.h"

#include "compiler/ir/Graph.h"
#include "frontend/Frontend.h"
#include "frontend/Parser.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace xpr;

namespace {

// Small limits keep each execution fast; the limit checks themselves are exercised just the same
// (tests/robustness covers the defaults).
fe::Limits fuzz_limits() {
  fe::Limits l;
  l.max_source_bytes = 1u << 16;
  l.max_nodes = 20'000;
  return l;
}

const std::vector<fe::Decl> &default_decls() {
  static const std::vector<fe::Decl> decls = [] {
    SourceFile src("<decls>", "a: f32[n], b: f32[n], c: f32[n], x: f64[n, m], y: f64[m], "
                              "i: i32[n], j: i64[], u: u8[n], p: bool[n], h: f16[n], "
                              "g: bf16[1, n], s: f32[]");
    return fe::parse_decls(src);
  }();
  return decls;
}

void round_trip(const ir::Graph &g) {
  std::string p1 = ir::print(g);
  ir::Graph g2;
  try {
    g2 = ir::parse(p1);
    ir::verify(g2);
  } catch (const Error &e) {
    fuzz::finding("sema's graph does not reparse/verify from its printed form",
                  p1 + "\n--- error ---\n" + e.what());
  }
  std::string p2 = ir::print(g2);
  if (p1 != p2) fuzz::finding("IR print/parse round trip differs", p1 + "\n--- vs ---\n" + p2);
}

template <class F> void attempt(std::string_view stage, F &&f) {
  try {
    f();
  } catch (const Error &e) {
    fuzz::check_user_error(e, stage);
  }
  // Any other exception propagates: libFuzzer reports it as a crash (std::terminate).
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  const fe::Limits limits = fuzz_limits();
  SourceFile src("fuzz.xpr", text);

  attempt("parse expression", [&] { (void)fe::parse_module(src, true, limits); });
  attempt("parse script", [&] {
    fe::Module m = fe::parse_module(src, false, limits);
    (void)fe::dump(m, src);
  });
  attempt("compile script", [&] { round_trip(fe::compile_script(src, limits)); });

  std::size_t nl = text.find('\n');
  bool used_own_decls = false;
  if (nl != std::string::npos) {
    SourceFile decl_src("fuzz.decl", text.substr(0, nl));
    std::vector<fe::Decl> decls;
    try {
      decls = fe::parse_decls(decl_src);
      used_own_decls = true;
    } catch (const Error &e) {
      fuzz::check_user_error(e, "parse decls");
    }
    if (used_own_decls) {
      SourceFile expr_src("fuzz.expr", text.substr(nl + 1));
      attempt("compile expression (own decls)",
              [&] { round_trip(fe::compile_expression(expr_src, decls, limits)); });
    }
  }
  if (!used_own_decls)
    attempt("compile expression",
            [&] { round_trip(fe::compile_expression(src, default_decls(), limits)); });
  return 0;
}
