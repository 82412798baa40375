// tools/xpr/Session.h — the REPL's state and its statement language (assignments, constructors,
// :commands), independent of any terminal so tests can drive it line by line.
#pragma once

#include "frontend/Frontend.h"
#include "tools/xpr/Random.h"

#include <xpr/xpr.hpp>

#include <atomic>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::tool {

/// A number as the language writes literals (`10_000_000`, `0x1F`, `-2.5e-3`, `true`), keeping
/// whether it was an integer; nothing if `text` is not one.
std::optional<Scalar> parse_number(std::string text);

/// Set by the SIGINT handler while a statement runs; long loops poll it and give up.
extern std::atomic<bool> g_interrupt;

/// Where a Session writes. Results go to `out`, diagnostics to `err`; `color` adds ANSI colour
/// to diagnostics (the caller decides: a terminal, and NO_COLOR unset).
struct SessionIo {
  std::ostream &out;
  std::ostream &err;
  bool color = false;
  std::string source_name = "<repl>"; ///< the file name diagnostics show
};

class Session {
public:
  enum class Status { Ok, UserError, InternalError, Interrupted, Quit };

  explicit Session(SessionIo io, Options options = {});

  /// Runs one line: a statement, an expression (its value is printed), or a :command.
  /// Never throws: errors are printed to io.err and reported in the status.
  Status execute(std::string_view line);

  /// Tab completion: the byte offset where the word being completed starts, and the candidates
  /// for it (sorted, unique): :commands at the start of a line, --emit stages after `:emit`,
  /// otherwise variables, functions, constructors and dtype names.
  struct Completion {
    std::size_t start = 0;
    std::vector<std::string> candidates;
  };
  Completion complete(std::string_view line, std::size_t cursor) const;

  /// Variables by name. Each owns its data (reshape() copies).
  struct Var {
    Array value;
  };
  const std::map<std::string, Var> &vars() const { return vars_; }
  void set_var(const std::string &name, Array value);

  Context &context() { return ctx_; }
  const Options &options() const { return options_; }
  rnd::Generator &rng() { return rng_; }

  /// The names the language reserves for functions, constructors and commands (for completion).
  static const std::vector<std::string> &function_names();
  static const std::vector<std::string> &constructor_names();
  static const std::vector<std::string> &command_names();

private:
  struct Span {
    std::size_t b = 0, e = 0;
  };
  struct Arg {
    std::string key; ///< "dtype" for dtype=..., empty for a positional argument
    Span span;       ///< the value's text
  };

  void run(std::string_view line); // throws
  void command(const std::string &line);
  Array value_of(const std::string &line, Span s);
  Array eval_expr(const std::string &line, Span s);
  ir::Graph check_expr(const std::string &line, Span s, bool symbolic_dims,
                       std::vector<fe::Decl> *decls_out = nullptr) const;
  Array construct(const std::string &line, const std::string &fn, Span args_span, Span whole);
  void statement_call(const std::string &line, const std::string &fn, Span args_span, Span whole);
  std::vector<Arg> split_args(const std::string &line, Span s) const;
  Scalar scalar_arg(const std::string &line, const Arg &a);
  std::int64_t int_arg(const std::string &line, const Arg &a);
  std::vector<std::int64_t> shape_args(const std::string &line, const std::vector<Arg> &args,
                                       std::size_t first, std::size_t last);
  DType dtype_arg(const std::string &line, const Arg &a) const;
  std::string string_arg(const std::string &line, const Arg &a) const;
  [[noreturn]] void user_error(const std::string &line, Span s, ErrorKind kind,
                               const std::string &msg, const std::string &note = {}) const;
  std::map<std::string, Array> inputs_for(const ir::Graph &g) const;

  void cmd_vars();
  void cmd_type(const std::string &line, Span s);
  void cmd_emit(const std::string &line, Span s);
  void cmd_time(const std::string &line, Span s);
  void cmd_load(const std::string &path);
  void print_error(const Error &e);

  SessionIo io_;
  Options options_;
  Context ctx_;
  rnd::Generator rng_;
  std::map<std::string, Var> vars_;
};

} // namespace xpr::tool
