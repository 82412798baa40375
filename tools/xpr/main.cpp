// tools/xpr/main.cpp — the xpr driver: compiles a script or an expression and prints one stage
// of the pipeline (--emit=ast|ir). Exit codes: 0 ok, 1 user error, 2 usage error, 3 internal.
#include "compiler/ir/Graph.h"
#include "frontend/Frontend.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace {

enum ExitCode { kOk = 0, kUserError = 1, kUsageError = 2, kInternalError = 3 };

/// The --emit ladder: each stage runs the pipeline up to that point and prints it. Only stages
/// the pipeline really produces are listed; later ones (fused, mlir, llvm, asm, ...) join here.
enum class Stage { Ast, Ir };

const std::map<std::string, Stage> &stage_names() {
  static const std::map<std::string, Stage> names = {{"ast", Stage::Ast}, {"ir", Stage::Ir}};
  return names;
}

/// What to compile: a script file, or an expression with declarations for its free names.
struct Job {
  std::string name; // file name or "<expr>", as diagnostics show it
  std::string text;
  bool expression_form = false;
  std::vector<std::string> decl_texts; // one --decl each
};

std::vector<xpr::fe::Decl> parse_all_decls(const std::vector<std::string> &texts) {
  std::vector<xpr::fe::Decl> all;
  for (const std::string &t : texts) {
    xpr::SourceFile src("<decl>", t);
    for (xpr::fe::Decl &d : xpr::fe::parse_decls(src))
      all.push_back(std::move(d));
  }
  return all;
}

/// Runs the pipeline up to `stage`; returns the text to print. Throws xpr::Error.
std::string emit(const Job &job, Stage stage) {
  xpr::SourceFile src(job.name, job.text);
  switch (stage) {
  case Stage::Ast: {
    xpr::fe::Module m = xpr::fe::parse_module(src, job.expression_form);
    return xpr::fe::dump(m, src);
  }
  case Stage::Ir: {
    xpr::ir::Graph g = job.expression_form
                           ? xpr::fe::compile_expression(src, parse_all_decls(job.decl_texts))
                           : xpr::fe::compile_script(src);
    return xpr::ir::print(g);
  }
  }
  throw xpr::Error(xpr::ErrorKind::Internal, "unhandled --emit stage");
}

int run_job(const Job &job, Stage stage) {
  try {
    std::string out = emit(job, stage);
    std::cout << out;
    if (!out.empty() && out.back() != '\n') std::cout << '\n';
    return kOk;
  } catch (const xpr::Error &e) {
    std::cerr << e.what() << '\n';
    return e.kind() == xpr::ErrorKind::Internal ? kInternalError : kUserError;
  } catch (const std::exception &e) {
    std::cerr << "xpr: internal error: " << e.what()
              << "\nnote: this is a bug in xpr; please "
                 "report it\n";
    return kInternalError;
  }
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"xpr: a JIT compiler for array expressions", "xpr"};
  std::string emit_name, file, expr;
  std::vector<std::string> decls;
  std::vector<std::string> stage_list;
  for (const auto &[name, _] : stage_names())
    stage_list.push_back(name);

  app.add_option("--emit", emit_name, "pipeline stage to print: ast | ir")
      ->check(CLI::IsMember(stage_list))
      ->required();
  auto *file_opt =
      app.add_option("file", file, "script to compile (.xpr)")->check(CLI::ExistingFile);
  auto *expr_opt = app.add_option("-e,--expr", expr, "compile this expression instead of a file");
  app.add_option("--decl", decls, "declare free names of -e, e.g. 'a: f32[n], b: f32[n]'")
      ->needs(expr_opt);
  expr_opt->excludes(file_opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }

  Job job;
  if (expr_opt->count()) {
    job.name = "<expr>";
    job.text = expr;
    job.expression_form = true;
    job.decl_texts = decls;
  } else if (file_opt->count()) {
    std::ifstream in(file, std::ios::binary);
    if (!in.is_open()) {
      std::cerr << "xpr: cannot read " << file << '\n';
      return kUserError;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    job.name = file;
    job.text = ss.str();
  } else {
    std::cerr << "xpr: nothing to compile: give a script FILE or -e EXPR\n"
              << "Run with --help for more information.\n";
    return kUsageError;
  }
  return run_job(job, stage_names().at(emit_name));
}
