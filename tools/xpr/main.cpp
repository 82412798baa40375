// tools/xpr/main.cpp — the xpr command: the REPL (on a terminal, or reading stdin), `xpr run`
// for scripts over .npy files, `-e` to evaluate one expression, and the --emit ladder.
// Exit codes: 0 ok, 1 user error, 2 usage error, 3 internal error.
#include "frontend/Frontend.h"
#include "tools/xpr/Emit.h"
#include "tools/xpr/Npy.h"
#include "tools/xpr/Print.h"
#include "tools/xpr/Repl.h"
#include "tools/xpr/Session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace {

using xpr::tool::Session;

enum ExitCode { kOk = 0, kUserError = 1, kUsageError = 2, kInternalError = 3 };

/// Colour only on a terminal, and never with NO_COLOR set to anything non-empty (no-color.org).
bool want_color(int fd) {
  const char *nc = std::getenv("NO_COLOR");
  if (nc && *nc) return false;
  const char *term = std::getenv("TERM");
  if (term && std::string(term) == "dumb") return false;
  return isatty(fd) != 0;
}

int report(const xpr::Error &e) {
  std::string text = e.what();
  if (e.kind() == xpr::ErrorKind::Internal) {
    std::cerr << "xpr: internal error: " << text << "\nnote: this is a bug in xpr; please report it\n";
    return kInternalError;
  }
  if (text.find("error:") == std::string::npos) text = "error: " + text;
  std::cerr << text << '\n';
  return kUserError;
}

int report_internal(const std::exception &e) {
  std::cerr << "xpr: internal error: " << e.what() << "\nnote: this is a bug in xpr; please report it\n";
  return kInternalError;
}

struct Binding {
  std::string name, value;
};

/// NAME=VALUE → {NAME, VALUE}; a usage error (exit 2) when malformed.
std::optional<Binding> parse_binding(const std::string &s, const char *opt) {
  const std::size_t eq = s.find('=');
  bool ok = eq != std::string::npos && eq > 0 && eq + 1 < s.size();
  if (ok) {
    ok = std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_';
    for (std::size_t i = 0; ok && i < eq; ++i)
      ok = std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_';
  }
  if (!ok) {
    std::cerr << fmt::format("xpr: {} expects NAME=VALUE, got '{}'\n", opt, s);
    return std::nullopt;
  }
  return Binding{s.substr(0, eq), s.substr(eq + 1)};
}

std::optional<std::vector<Binding>> parse_bindings(const std::vector<std::string> &v, const char *opt) {
  std::vector<Binding> out;
  for (const auto &s : v) {
    auto b = parse_binding(s, opt);
    if (!b) return std::nullopt;
    for (const auto &o : out)
      if (o.name == b->name) {
        std::cerr << fmt::format("xpr: {} names '{}' twice\n", opt, b->name);
        return std::nullopt;
      }
    out.push_back(*b);
  }
  return out;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw xpr::Error(xpr::ErrorKind::Runtime, fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string names_of(const std::vector<xpr::ValueInfo> &v) {
  std::string s;
  for (const auto &i : v) s += (s.empty() ? "" : ", ") + i.name + ": " + i.type;
  return s.empty() ? "none" : s;
}

/// `xpr run SCRIPT --in NAME=FILE.npy --param NAME=VALUE --out NAME=FILE.npy`.
int run_script(const std::string &file, const std::vector<Binding> &ins,
               const std::vector<Binding> &params, const std::vector<Binding> &outs,
               xpr::Options opts) {
  xpr::Context ctx(opts);
  const xpr::Program prog = ctx.compile(read_file(file), file);
  auto find = [](const std::vector<xpr::ValueInfo> &v, const std::string &n) {
    for (const auto &i : v)
      if (i.name == n) return true;
    return false;
  };
  for (const auto &b : ins)
    if (!find(prog.inputs(), b.name))
      throw xpr::Error(xpr::ErrorKind::Name,
                       fmt::format("--in {}: {} has no input '{}' (inputs: {})", b.name, file,
                                   b.name, names_of(prog.inputs())));
  for (const auto &b : params)
    if (!find(prog.params(), b.name))
      throw xpr::Error(xpr::ErrorKind::Name,
                       fmt::format("--param {}: {} has no param '{}' (params: {})", b.name, file,
                                   b.name, names_of(prog.params())));
  for (const auto &b : outs)
    if (!find(prog.outputs(), b.name))
      throw xpr::Error(xpr::ErrorKind::Name,
                       fmt::format("--out {}: {} has no output '{}' (outputs: {})", b.name, file,
                                   b.name, names_of(prog.outputs())));
  for (const auto &i : prog.inputs()) {
    bool given = false;
    for (const auto &b : ins) given = given || b.name == i.name;
    if (!given)
      throw xpr::Error(xpr::ErrorKind::Name,
                       fmt::format("input '{}: {}' of {} is not given: add --in {}=FILE.npy",
                                   i.name, i.type, file, i.name));
  }
  for (const auto &p : prog.params()) {
    bool given = false;
    for (const auto &b : params) given = given || b.name == p.name;
    if (!given)
      throw xpr::Error(xpr::ErrorKind::Name,
                       fmt::format("param '{}: {}' of {} is not given: add --param {}=VALUE",
                                   p.name, p.type, file, p.name));
  }
  xpr::Inputs inputs;
  for (const auto &b : ins) {
    xpr::Array a = xpr::npy::load(b.value);
    for (const auto &i : prog.inputs())
      if (i.name == b.name && i.dtype != a.dtype())
        throw xpr::Error(xpr::ErrorKind::Type,
                         fmt::format("--in {}={}: the script declares {}: {}, the file holds {} "
                                     "(no implicit conversion; cast in the script or convert the file)",
                                     b.name, b.value, i.name, i.type,
                                     xpr::print::type_text(a.dtype(), a.shape())));
    inputs.emplace(b.name, a);
  }
  xpr::Params ps;
  for (const auto &b : params) {
    auto v = xpr::tool::parse_number(b.value);
    if (!v)
      throw xpr::Error(xpr::ErrorKind::Type,
                       fmt::format("--param {}={}: not a number (write 0.05, 3, -1e-3, true)", b.name,
                                   b.value));
    ps.emplace(b.name, *v);
  }
  const xpr::Outputs result = prog.run(inputs, ps);
  for (const auto &o : prog.outputs()) {
    const xpr::Array &a = result.at(o.name);
    bool saved = false;
    for (const auto &b : outs)
      if (b.name == o.name) {
        xpr::npy::save(b.value, a);
        saved = true;
      }
    if (!saved) std::cout << o.name << " = " << xpr::print::repr(a) << '\n';
  }
  return kOk;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"xpr: a JIT compiler for array expressions.\n"
               "  xpr                       the REPL (reads statements from stdin when it is not a terminal)\n"
               "  xpr -e EXPR --in a=a.npy  evaluate one expression and print it\n"
               "  xpr run FILE.xpr --in NAME=FILE.npy --param NAME=VALUE --out NAME=FILE.npy\n"
               "  xpr --emit=STAGE FILE.xpr | -e EXPR --decl 'a: f32[n]'   print a lowering stage",
               "xpr"};
  std::string emit_name, file, expr, precision = "accurate";
  std::vector<std::string> decls, in_opts;
  bool echo = false, explain_cache = false;
  int threads = 0;
  std::string target = "cpu";
  std::string stage_help = "pipeline stage to print:";
  for (const auto &n : xpr::tool::emit_stage_names()) stage_help += " " + n;

  auto *emit_opt = app.add_option("--emit", emit_name, stage_help)
                       ->check(CLI::IsMember(xpr::tool::emit_stage_names()));
  auto *file_opt =
      app.add_option("file", file, "script to compile (.xpr), with --emit")->check(CLI::ExistingFile);
  auto *expr_opt = app.add_option("-e,--expr", expr, "evaluate (or, with --emit, compile) this expression");
  auto *decl_opt =
      app.add_option("--decl", decls, "declare free names of -e for --emit, e.g. 'a: f32[n], b: f32[n]'")
          ->needs(expr_opt);
  auto *in_opt = app.add_option("--in", in_opts, "NAME=FILE.npy: a variable for -e or the REPL");
  in_opt->excludes(decl_opt);
  expr_opt->excludes(file_opt);
  app.add_flag("--echo", echo, "REPL on stdin: print each statement after a prompt (transcripts)");
  app.add_flag("--explain-cache", explain_cache,
               "compile FILE.xpr and say where each kernel came from (memory, disk, compiled), "
               "why the cache missed, and the time per stage");
  app.add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::Range(0, 4096));
  app.add_option("--precision", precision, "accurate | fast")->check(CLI::IsMember({"accurate", "fast"}));
  app.add_option("--target", target, "where code runs: cpu | cuda | cuda:N (docs/gpu.md)");

  CLI::App *run = app.add_subcommand("run", "run a script over .npy files");
  std::string run_file;
  std::vector<std::string> run_in, run_param, run_out;
  run->add_option("script", run_file, "the script (.xpr)")->required()->check(CLI::ExistingFile);
  run->add_option("--in", run_in, "NAME=FILE.npy: bind a script input");
  run->add_option("--param", run_param, "NAME=VALUE: bind a script param");
  run->add_option("--out", run_out, "NAME=FILE.npy: write an output (others are printed)");
  run->add_option("--target", target, "where code runs: cpu | cuda | cuda:N (docs/gpu.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }

  xpr::Options opts;
  opts.threads = threads;
  opts.precision = precision == "fast" ? xpr::Precision::Fast : xpr::Precision::Accurate;

  try {
    opts.target = xpr::Target::parse(target);
    if (run->parsed()) {
      auto ins = parse_bindings(run_in, "--in");
      auto params = parse_bindings(run_param, "--param");
      auto outs = parse_bindings(run_out, "--out");
      if (!ins || !params || !outs) return kUsageError;
      return run_script(run_file, *ins, *params, *outs, opts);
    }

    auto ins = parse_bindings(in_opts, "--in");
    if (!ins) return kUsageError;

    if (emit_opt->count()) {
      const auto stage = *xpr::tool::emit_stage_from_name(emit_name);
      std::string out;
      if (expr_opt->count()) {
        std::vector<xpr::fe::Decl> all;
        for (const std::string &t : decls) {
          xpr::SourceFile src("<decl>", t);
          for (xpr::fe::Decl &d : xpr::fe::parse_decls(src)) all.push_back(std::move(d));
        }
        // --in: declarations from the arrays, as the REPL and Context::eval make them.
        std::map<std::int64_t, std::string> sym_of_size;
        for (const auto &b : *ins) {
          const xpr::Array a = xpr::npy::load(b.value);
          xpr::fe::Decl d;
          d.name = b.name;
          d.type.dtype = a.dtype();
          for (std::int64_t n : a.shape()) {
            if (n == 1) {
              d.type.dims.push_back(xpr::ir::Dim::fixed(1));
              continue;
            }
            auto it = sym_of_size.find(n);
            if (it == sym_of_size.end())
              it = sym_of_size.emplace(n, fmt::format("d{}", sym_of_size.size())).first;
            d.type.dims.push_back(xpr::ir::Dim::symbol(it->second));
          }
          all.push_back(std::move(d));
        }
        xpr::SourceFile src("<expr>", expr);
        out = xpr::tool::emit(src, true, all, stage, opts.precision);
      } else if (file_opt->count()) {
        xpr::SourceFile src(file, read_file(file));
        out = xpr::tool::emit(src, false, {}, stage, opts.precision);
      } else {
        std::cerr << "xpr: nothing to compile: give a script FILE or -e EXPR\n"
                  << "Run with --help for more information.\n";
        return kUsageError;
      }
      std::cout << out;
      if (!out.empty() && out.back() != '\n') std::cout << '\n';
      return kOk;
    }

    if (explain_cache) { // docs/cache.md
      if (!file_opt->count()) {
        std::cerr << "xpr: --explain-cache needs a script FILE\n";
        return kUsageError;
      }
      xpr::Context ctx(opts);
      const xpr::Program p = ctx.compile(read_file(file), file);
      const xpr::StageTimings t = p.timings();
      std::cout << p.explain_cache()
                << fmt::format("time: {:.3f} ms = parse {:.3f} + passes {:.3f} + MLIR {:.3f} + "
                               "lowering {:.3f} + LLVM IR {:.3f} + machine code {:.3f} + load "
                               "{:.3f} + disk read {:.3f} + disk write {:.3f}\n",
                               t.total_ms(), t.parse_ms, t.passes_ms, t.mlir_build_ms,
                               t.mlir_lower_ms, t.llvm_opt_ms, t.machine_code_ms, t.load_ms,
                               t.disk_read_ms, t.disk_write_ms);
      return kOk;
    }

    if (file_opt->count()) {
      std::cerr << fmt::format("xpr: nothing to do with {}: give --emit=STAGE to print a stage, "
                               "or run it with `xpr run {}`\nRun with --help for more information.\n",
                               file, file);
      return kUsageError;
    }

    const bool terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !expr_opt->count();
    xpr::tool::SessionIo io{std::cout, terminal ? std::cout : std::cerr,
                            terminal ? want_color(STDOUT_FILENO) : want_color(STDERR_FILENO),
                            expr_opt->count() ? "<expr>" : "<repl>"};
    Session session(io, opts);
    for (const auto &b : *ins) session.set_var(b.name, xpr::npy::load(b.value));

    if (expr_opt->count()) {
      const Session::Status s = session.execute(expr);
      return s == Session::Status::Ok              ? kOk
             : s == Session::Status::InternalError ? kInternalError
                                                   : kUserError;
    }
    if (terminal) return xpr::tool::run_terminal(session, io.color);
    return xpr::tool::run_stream(session, std::cin, std::cout, echo);
  } catch (const xpr::Error &e) {
    return report(e);
  } catch (const std::exception &e) {
    return report_internal(e);
  }
}
