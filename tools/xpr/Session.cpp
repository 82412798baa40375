// tools/xpr/Session.cpp — REPL statements: assignments, constructors, load/save, :commands, and
// expressions compiled through the JIT, with caret diagnostics placed under the typed line.
#include "tools/xpr/Session.h"

#include "support/Half.h"
#include "support/Source.h"
#include "tools/xpr/Emit.h"
#include "tools/xpr/Npy.h"
#include "tools/xpr/Print.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

namespace xpr::tool {

std::atomic<bool> g_interrupt{false};

namespace {

struct Interrupted {};

void poll_interrupt() {
  if (g_interrupt.load(std::memory_order_relaxed)) throw Interrupted{};
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

/// Narrows [b, e) of `line` to exclude surrounding whitespace.
void trim_span(const std::string &line, std::size_t &b, std::size_t &e) {
  while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
}

/// `line` with everything outside [b, e) blanked, so the front end's columns are the typed ones.
std::string padded(const std::string &line, std::size_t b, std::size_t e) {
  std::string s(line.size(), ' ');
  for (std::size_t i = b; i < e; ++i) s[i] = line[i];
  return s;
}

/// The index of the parenthesis closing the one at `open`, or npos. Skips strings.
std::size_t matching(const std::string &s, std::size_t open, std::size_t end) {
  int depth = 0;
  for (std::size_t i = open; i < end; ++i) {
    const char c = s[i];
    if (c == '"' || c == '\'') {
      const std::size_t q = s.find(c, i + 1);
      if (q == std::string::npos || q >= end) return std::string::npos;
      i = q;
      continue;
    }
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') {
      if (--depth == 0) return i;
    }
  }
  return std::string::npos;
}

const std::set<std::string> &keywords() {
  static const std::set<std::string> k = {"input", "param", "let", "output", "true", "false"};
  return k;
}

std::string human_bytes(double b) {
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{} B", static_cast<long long>(b));
}

std::int64_t nbytes(const Array &a) { return a.size() * dtype_size(a.dtype()); }

/// Stores `v` into an element of dtype `t` by the language's cast rules (docs/semantics.md):
/// float → int saturates and NaN → 0; → bool is v != 0; halves round once.
void put_double(void *p, DType t, double v) {
  auto sat = [&](auto lo, auto hi) {
    using T = decltype(lo);
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(lo)) return lo;
    if (v >= static_cast<double>(hi)) return hi;
    return static_cast<T>(v);
  };
  switch (t) {
  case DType::Bool: *static_cast<std::uint8_t *>(p) = v != 0; break;
  case DType::I8: *static_cast<std::int8_t *>(p) = sat(std::int8_t(-128), std::int8_t(127)); break;
  case DType::I16: *static_cast<std::int16_t *>(p) = sat(std::numeric_limits<std::int16_t>::min(), std::numeric_limits<std::int16_t>::max()); break;
  case DType::I32: *static_cast<std::int32_t *>(p) = sat(std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()); break;
  case DType::I64: {
    std::int64_t r;
    if (std::isnan(v)) r = 0;
    else if (v >= 9223372036854775808.0) r = std::numeric_limits<std::int64_t>::max();
    else if (v < -9223372036854775808.0) r = std::numeric_limits<std::int64_t>::min();
    else r = static_cast<std::int64_t>(v);
    *static_cast<std::int64_t *>(p) = r;
    break;
  }
  case DType::U8: *static_cast<std::uint8_t *>(p) = sat(std::uint8_t(0), std::uint8_t(255)); break;
  case DType::U16: *static_cast<std::uint16_t *>(p) = sat(std::uint16_t(0), std::numeric_limits<std::uint16_t>::max()); break;
  case DType::U32: *static_cast<std::uint32_t *>(p) = sat(std::uint32_t(0), std::numeric_limits<std::uint32_t>::max()); break;
  case DType::U64: {
    std::uint64_t r;
    if (std::isnan(v) || v <= 0) r = 0;
    else if (v >= 18446744073709551616.0) r = std::numeric_limits<std::uint64_t>::max();
    else r = static_cast<std::uint64_t>(v);
    *static_cast<std::uint64_t *>(p) = r;
    break;
  }
  case DType::F16: *static_cast<std::uint16_t *>(p) = half::f64_to_f16(v); break;
  case DType::BF16: *static_cast<std::uint16_t *>(p) = half::f64_to_bf16(v); break;
  case DType::F32: *static_cast<float *>(p) = static_cast<float>(v); break;
  case DType::F64: *static_cast<double *>(p) = v; break;
  }
}

/// Stores an integer by the cast rules: int → int wraps, int → float rounds to nearest.
void put_int(void *p, DType t, std::int64_t v) {
  switch (t) {
  case DType::Bool: *static_cast<std::uint8_t *>(p) = v != 0; break;
  case DType::I8: *static_cast<std::int8_t *>(p) = static_cast<std::int8_t>(v); break;
  case DType::I16: *static_cast<std::int16_t *>(p) = static_cast<std::int16_t>(v); break;
  case DType::I32: *static_cast<std::int32_t *>(p) = static_cast<std::int32_t>(v); break;
  case DType::I64: *static_cast<std::int64_t *>(p) = v; break;
  case DType::U8: *static_cast<std::uint8_t *>(p) = static_cast<std::uint8_t>(v); break;
  case DType::U16: *static_cast<std::uint16_t *>(p) = static_cast<std::uint16_t>(v); break;
  case DType::U32: *static_cast<std::uint32_t *>(p) = static_cast<std::uint32_t>(v); break;
  case DType::U64: *static_cast<std::uint64_t *>(p) = static_cast<std::uint64_t>(v); break;
  case DType::F16: *static_cast<std::uint16_t *>(p) = half::i64_to_f16(v); break;
  case DType::BF16: *static_cast<std::uint16_t *>(p) = half::i64_to_bf16(v); break;
  case DType::F32: *static_cast<float *>(p) = static_cast<float>(v); break;
  case DType::F64: *static_cast<double *>(p) = static_cast<double>(v); break;
  }
}

void put_scalar(void *p, DType t, const Scalar &s) {
  switch (s.kind()) {
  case Scalar::Kind::Float: put_double(p, t, s.as_double()); break;
  case Scalar::Kind::Int: put_int(p, t, s.as_int()); break;
  case Scalar::Kind::Bool: put_int(p, t, s.as_bool() ? 1 : 0); break;
  case Scalar::Kind::UInt:
    if (is_float(t) && !is_half(t)) put_double(p, t, static_cast<double>(s.as_uint()));
    else if (t == DType::F16) *static_cast<std::uint16_t *>(p) = half::u64_to_f16(s.as_uint());
    else if (t == DType::BF16) *static_cast<std::uint16_t *>(p) = half::u64_to_bf16(s.as_uint());
    else put_int(p, t, static_cast<std::int64_t>(s.as_uint()));
    break;
  }
}

/// The single element of a size-1 array as a Scalar of the matching kind.
Scalar scalar_of(const Array &a) {
  const void *p = a.data();
  switch (a.dtype()) {
  case DType::Bool: return Scalar(*static_cast<const std::uint8_t *>(p) != 0);
  case DType::I8: return Scalar(static_cast<long long>(*static_cast<const std::int8_t *>(p)));
  case DType::I16: return Scalar(static_cast<long long>(*static_cast<const std::int16_t *>(p)));
  case DType::I32: return Scalar(static_cast<long long>(*static_cast<const std::int32_t *>(p)));
  case DType::I64: return Scalar(static_cast<long long>(*static_cast<const std::int64_t *>(p)));
  case DType::U8: return Scalar(static_cast<long long>(*static_cast<const std::uint8_t *>(p)));
  case DType::U16: return Scalar(static_cast<long long>(*static_cast<const std::uint16_t *>(p)));
  case DType::U32: return Scalar(static_cast<long long>(*static_cast<const std::uint32_t *>(p)));
  case DType::U64: return Scalar(static_cast<unsigned long long>(*static_cast<const std::uint64_t *>(p)));
  case DType::F16: return Scalar(half::f16_to_f64(*static_cast<const std::uint16_t *>(p)));
  case DType::BF16: return Scalar(half::bf16_to_f64(*static_cast<const std::uint16_t *>(p)));
  case DType::F32: return Scalar(static_cast<double>(*static_cast<const float *>(p)));
  case DType::F64: return Scalar(*static_cast<const double *>(p));
  }
  return Scalar();
}

std::string colorize(const std::string &text, bool color) {
  if (!color) return text;
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    std::size_t at;
    if ((at = line.find(" error: ")) != std::string::npos || line.rfind("error: ", 0) == 0) {
      const std::size_t p = at == std::string::npos ? 0 : at + 1;
      line = "\033[1m" + line.substr(0, p) + "\033[31merror:\033[0;1m" + line.substr(p + 6) + "\033[0m";
    } else if ((at = line.find(" note: ")) != std::string::npos || line.rfind("note: ", 0) == 0) {
      const std::size_t p = at == std::string::npos ? 0 : at + 1;
      line = line.substr(0, p) + "\033[1;36mnote:\033[0m" + line.substr(p + 5);
    } else if (line.find_first_not_of(" \t^~") == std::string::npos &&
               line.find('^') != std::string::npos) {
      line = "\033[1;32m" + line + "\033[0m";
    }
    out += line + "\n";
  }
  if (!text.empty() && text.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

constexpr const char *kHelp = R"(xpr — every expression is compiled (fused, vectorized, multithreaded) and run.

Statements
  EXPR                        evaluate and print, e.g.  a * exp(-b) + 1,  sum(a, axis=0)
  NAME = EXPR                 evaluate and keep as a variable
  NAME = zeros(3, 4)          constructors: zeros ones full arange linspace rand randn reshape load
  seed(42)                    reseed rand/randn (mt19937_64; the same values on every platform)
  save("b.npy", EXPR)         write a NumPy .npy file;  NAME = load("a.npy")  reads one
Constructor forms (dtype= takes f32, float32, ...; default f64)
  zeros(SHAPE) ones(SHAPE) rand(SHAPE) randn(SHAPE)     SHAPE: 3, 4  or  (3, 4)
  full(SHAPE, VALUE)  arange([START,] STOP[, STEP])  linspace(START, STOP[, NUM=50])
  reshape(X, SHAPE)   (one dim may be -1)
Commands
  :help                       this text
  :vars                       variables with their types and sizes
  :type EXPR                  dtype and shape of EXPR, without running it
  :emit STAGE EXPR            print a lowering stage: ast ir opt fused mlir mlir-llvm llvm asm ptx
  :time EXPR                  compile time per stage, run time and GB/s
  :threads [N]                worker threads (0 = all cores)
  :precision [accurate|fast]  math accuracy of transcendental functions
  :target [cpu|cuda|cuda:N]   where code runs (cuda: an NVIDIA GPU, through its driver)
  :load FILE.xpr              run a script: inputs and params come from variables of the same
                              name, outputs become variables
  :quit                       leave (or Ctrl-D)
Keys: Tab completes names and commands, Up/Down walk the history, Ctrl-C abandons the line.)";

} // namespace

/// A literal number as typed (`10_000_000`, `0x1F`, `-2.5e-3`), or nothing if `t` is not one.
std::optional<Scalar> parse_number(std::string t) {
  if (t == "true") return Scalar(true);
  if (t == "false") return Scalar(false);
  bool neg = false;
  std::size_t i = 0;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    i = 1;
  }
  std::string body;
  for (std::size_t k = i; k < t.size(); ++k) {
    if (t[k] == '_') {
      if (k == i || k + 1 == t.size() || !std::isxdigit(static_cast<unsigned char>(t[k - 1])) ||
          !std::isxdigit(static_cast<unsigned char>(t[k + 1])))
        return std::nullopt;
      continue;
    }
    body += t[k];
  }
  if (body.empty()) return std::nullopt;
  const bool hex = body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
  const bool is_int = hex || std::all_of(body.begin(), body.end(),
                                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (is_int) {
    std::uint64_t u = 0;
    const char *b = body.data() + (hex ? 2 : 0), *e = body.data() + body.size();
    auto r = std::from_chars(b, e, u, hex ? 16 : 10);
    if (r.ec != std::errc() || r.ptr != e) return std::nullopt;
    if (neg) {
      if (u > 9223372036854775808ull) return std::nullopt;
      return Scalar(static_cast<long long>(0 - u));
    }
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Scalar(static_cast<unsigned long long>(u));
    return Scalar(static_cast<long long>(u));
  }
  double d = 0;
  auto r = std::from_chars(body.data(), body.data() + body.size(), d);
  if (r.ec != std::errc() || r.ptr != body.data() + body.size()) return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(body[0])) && body[0] != '.') return std::nullopt;
  return Scalar(neg ? -d : d);
}

// ---- tables ----

const std::vector<std::string> &Session::function_names() {
  static const std::vector<std::string> names = {
      "abs",     "sign",     "sqrt",   "rsqrt",  "cbrt",    "exp",     "exp2",    "expm1",
      "log",     "log2",     "log10",  "log1p",  "sin",     "cos",     "tan",     "asin",
      "acos",    "atan",     "atan2",  "sinh",   "cosh",    "tanh",    "asinh",   "acosh",
      "atanh",   "erf",      "erfc",   "ncdf",   "pow",     "hypot",   "floor",   "ceil",
      "round",   "trunc",    "fmod",   "minimum", "maximum", "clip",   "fma",     "isnan",
      "isinf",   "isfinite", "signbit", "copysign", "where", "sum",    "prod",    "min",
      "max",     "mean",     "any",    "all",    "argmin",  "argmax",  "bool",    "i8",
      "i16",     "i32",      "i64",    "u8",     "u16",     "u32",     "u64",     "f16",
      "bf16",    "f32",      "f64",    "pi",     "inf",     "nan",     "true",    "false"};
  return names;
}

const std::vector<std::string> &Session::constructor_names() {
  static const std::vector<std::string> names = {"zeros", "ones",  "full",    "arange", "linspace",
                                                 "rand",  "randn", "reshape", "load"};
  return names;
}

const std::vector<std::string> &Session::command_names() {
  static const std::vector<std::string> names = {":help",      ":vars",   ":type",  ":emit",
                                                 ":time",      ":threads", ":precision",
                                                 ":target",    ":load",   ":quit"};
  return names;
}

// ---- session ----

Session::Session(SessionIo io, Options options)
    : io_(std::move(io)), options_(options), ctx_(options) {}

void Session::set_var(const std::string &name, Array value) { vars_[name] = Var{std::move(value)}; }

Session::Status Session::execute(std::string_view line_in) {
  g_interrupt.store(false);
  std::string line(line_in);
  try {
    const std::string t = trim(line);
    if (t == ":quit" || t == ":q" || t == ":exit") return Status::Quit;
    run(line);
    io_.out.flush();
    if (g_interrupt.load()) throw Interrupted{};
    return Status::Ok;
  } catch (const Interrupted &) {
    io_.out.flush();
    io_.err << "interrupted\n";
    io_.err.flush();
    return Status::Interrupted;
  } catch (const Error &e) {
    print_error(e);
    return e.kind() == ErrorKind::Internal ? Status::InternalError : Status::UserError;
  } catch (const std::bad_alloc &) {
    print_error(Error(ErrorKind::Limit, "out of memory"));
    return Status::UserError;
  } catch (const std::exception &e) {
    print_error(Error(ErrorKind::Internal, e.what()));
    return Status::InternalError;
  }
}

void Session::print_error(const Error &e) {
  io_.out.flush();
  std::string text = e.what();
  if (e.kind() == ErrorKind::Internal) {
    if (text.find("internal") == std::string::npos) text = "internal error: " + text;
    text += "\nnote: this is a bug in xpr; please report it";
  } else if (text.find("error:") == std::string::npos) {
    text = "error: " + text;
  }
  io_.err << colorize(text, io_.color) << "\n";
  io_.err.flush();
}

void Session::user_error(const std::string &line, Span s, ErrorKind kind, const std::string &msg,
                         const std::string &note) const {
  SourceFile src(io_.source_name, line);
  Diagnostics d(src);
  Diagnostic &diag = d.error(kind, SourceRange{static_cast<std::uint32_t>(s.b),
                                               static_cast<std::uint32_t>(std::max(s.e, s.b + 1))},
                             msg);
  if (!note.empty()) diag.notes.push_back(Note{{}, false, note});
  d.check();
  throw Error(ErrorKind::Internal, "user_error: no error was raised");
}

void Session::run(std::string_view line_view) {
  const std::string line(line_view);
  std::size_t b = 0, e = line.size();
  trim_span(line, b, e);
  if (b == e || line[b] == '#') return;
  if (line[b] == ':') return command(line);

  // NAME = EXPR (but not NAME == EXPR)
  std::size_t i = b;
  if (is_ident_start(line[i])) {
    while (i < e && is_ident_char(line[i])) ++i;
    const std::string name = line.substr(b, i - b);
    std::size_t j = i;
    while (j < e && std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j < e && line[j] == '=' && (j + 1 >= e || line[j + 1] != '=')) {
      if (keywords().count(name))
        user_error(line, {b, i}, ErrorKind::Syntax,
                   fmt::format("'{}' is a keyword and cannot name a variable", name));
      std::size_t rb = j + 1, re = e;
      trim_span(line, rb, re);
      if (rb == re) user_error(line, {j, j + 1}, ErrorKind::Syntax, "expected an expression after '='");
      Array v = value_of(line, {rb, re});
      poll_interrupt();
      vars_[name] = Var{v};
      return;
    }
    // seed(...) and save(...) are statements.
    if (j < e && line[j] == '(' && (name == "seed" || name == "save")) {
      const std::size_t close = matching(line, j, e);
      if (close != std::string::npos && close + 1 == e)
        return statement_call(line, name, {j + 1, close}, {b, e});
    }
  }
  Array v = value_of(line, {b, e});
  poll_interrupt();
  io_.out << print::repr(v) << "\n";
}

Array Session::value_of(const std::string &line, Span s) {
  std::size_t i = s.b;
  if (is_ident_start(line[i])) {
    while (i < s.e && is_ident_char(line[i])) ++i;
    const std::string fn = line.substr(s.b, i - s.b);
    std::size_t j = i;
    while (j < s.e && std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    const auto &ctors = constructor_names();
    if (j < s.e && line[j] == '(' && std::find(ctors.begin(), ctors.end(), fn) != ctors.end()) {
      const std::size_t close = matching(line, j, s.e);
      if (close != std::string::npos && close + 1 == s.e)
        return construct(line, fn, {j + 1, close}, s);
    }
  }
  return eval_expr(line, s);
}

ir::Graph Session::check_expr(const std::string &line, Span s, bool symbolic_dims,
                              std::vector<fe::Decl> *decls_out) const {
  // Every variable is declared; the graph's inputs are the ones the expression uses. Fixed dims
  // give the clearest shape errors ("f32[4] and f32[3]"); symbolic dims are what eval compiles.
  std::vector<fe::Decl> decls;
  std::map<std::int64_t, std::string> sym_of_size;
  for (const auto &[name, var] : vars_) {
    fe::Decl d;
    d.name = name;
    d.type.dtype = var.value.dtype();
    for (std::int64_t n : var.value.shape()) {
      if (!symbolic_dims || n == 1) {
        d.type.dims.push_back(ir::Dim::fixed(n));
        continue;
      }
      auto it = sym_of_size.find(n);
      if (it == sym_of_size.end())
        it = sym_of_size.emplace(n, fmt::format("d{}", sym_of_size.size())).first;
      d.type.dims.push_back(ir::Dim::symbol(it->second));
    }
    decls.push_back(std::move(d));
  }
  const std::string text = padded(line, s.b, s.e);
  SourceFile src(io_.source_name, text);
  try {
    ir::Graph g = fe::compile_expression(src, decls);
    if (decls_out) *decls_out = std::move(decls);
    return g;
  } catch (const Error &e) {
    // Show the line as typed (the front end saw it with the rest blanked out).
    const std::string seen = "  " + text, typed = "  " + line;
    std::string what;
    std::istringstream in(e.what());
    for (std::string l; std::getline(in, l);) what += (what.empty() ? "" : "\n") + (l == seen ? typed : l);
    // A constructor inside an expression is a common slip: say what to do instead.
    for (const auto &c : constructor_names())
      if (e.message() == fmt::format("unknown function '{}'", c))
        what += fmt::format("\nnote: {}() makes a variable and cannot be part of an expression: "
                            "write `t = {}(...)` first, then use t",
                            c, c);
    throw Error(e.kind(), e.message(), e.location(), what);
  }
}

std::map<std::string, Array> Session::inputs_for(const ir::Graph &g) const {
  std::map<std::string, Array> in;
  for (ir::ValueId v : g.inputs()) {
    const std::string &name = g.node(v).name;
    in.emplace(name, vars_.at(name).value);
  }
  return in;
}

Array Session::eval_expr(const std::string &line, Span s) {
  const ir::Graph g = check_expr(line, s, false);
  Array r = ctx_.eval(line.substr(s.b, s.e - s.b), inputs_for(g));
  return r;
}

std::vector<Session::Arg> Session::split_args(const std::string &line, Span s) const {
  std::vector<Arg> args;
  std::size_t start = s.b;
  int depth = 0;
  auto push = [&](std::size_t end) {
    std::size_t b = start, e = end;
    trim_span(line, b, e);
    if (b == e) {
      if (end == s.e && args.empty()) return; // f()
      user_error(line, {b, b + 1}, ErrorKind::Syntax, "expected an argument");
    }
    Arg a;
    std::size_t k = b;
    if (is_ident_start(line[k])) {
      while (k < e && is_ident_char(line[k])) ++k;
      std::size_t j = k;
      while (j < e && std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j < e && line[j] == '=' && (j + 1 >= e || line[j + 1] != '=')) {
        a.key = line.substr(b, k - b);
        b = j + 1;
        trim_span(line, b, e);
        if (b == e) user_error(line, {j, j + 1}, ErrorKind::Syntax, "expected a value after '='");
      }
    }
    a.span = {b, e};
    args.push_back(a);
  };
  for (std::size_t i = s.b; i < s.e; ++i) {
    const char c = line[i];
    if (c == '"' || c == '\'') {
      const std::size_t q = line.find(c, i + 1);
      if (q == std::string::npos || q >= s.e)
        user_error(line, {i, s.e}, ErrorKind::Syntax, "unterminated string");
      i = q;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if (c == ')' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 0) {
      push(i);
      start = i + 1;
    }
  }
  push(s.e);
  return args;
}

Scalar Session::scalar_arg(const std::string &line, const Arg &a) {
  const std::string text = line.substr(a.span.b, a.span.e - a.span.b);
  if (auto lit = parse_number(text)) return *lit;
  Array v = eval_expr(line, a.span);
  if (v.size() != 1)
    user_error(line, a.span, ErrorKind::Shape,
               fmt::format("expected a single number, got an array of type {}",
                           print::type_text(v.dtype(), v.shape())));
  return scalar_of(v);
}

std::int64_t Session::int_arg(const std::string &line, const Arg &a) {
  const Scalar s = scalar_arg(line, a);
  if (s.kind() == Scalar::Kind::Int) return s.as_int();
  if (s.kind() == Scalar::Kind::UInt)
    user_error(line, a.span, ErrorKind::Limit, fmt::format("{} is too large", s.as_uint()));
  user_error(line, a.span, ErrorKind::Type,
             fmt::format("expected an integer, got {}",
                         s.kind() == Scalar::Kind::Bool ? "a bool" : "a float"));
}

std::vector<std::int64_t> Session::shape_args(const std::string &line, const std::vector<Arg> &args,
                                              std::size_t first, std::size_t last) {
  std::vector<std::int64_t> shape;
  std::vector<Arg> parts;
  if (last - first == 1) {
    const Arg &a = args[first];
    const char c = line[a.span.b];
    if ((c == '(' || c == '[') && matching(line, a.span.b, a.span.e) == a.span.e - 1) {
      std::size_t b = a.span.b + 1, e = a.span.e - 1;
      trim_span(line, b, e);
      if (b < e && line[e - 1] == ',') { // (3,) is a one-element tuple
        --e;
        trim_span(line, b, e);
      }
      if (b < e) parts = split_args(line, {b, e});
    } else {
      parts.push_back(a);
    }
  } else {
    parts.assign(args.begin() + static_cast<std::ptrdiff_t>(first),
                 args.begin() + static_cast<std::ptrdiff_t>(last));
  }
  if (parts.size() > static_cast<std::size_t>(kMaxRank))
    user_error(line, {parts[0].span.b, parts.back().span.e}, ErrorKind::Limit,
               fmt::format("a shape has at most {} dimensions, got {}", kMaxRank, parts.size()));
  for (const Arg &p : parts) {
    if (!p.key.empty()) user_error(line, p.span, ErrorKind::Syntax, "expected a dimension size");
    shape.push_back(int_arg(line, p)); // negative sizes are checked by each caller
  }
  return shape;
}

DType Session::dtype_arg(const std::string &line, const Arg &a) const {
  std::string t = trim(line.substr(a.span.b, a.span.e - a.span.b));
  if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front())
    t = t.substr(1, t.size() - 2);
  if (t.rfind("np.", 0) == 0) t = t.substr(3);
  if (auto d = dtype_from_name(t)) return *d;
  for (int k = 0; k < kNumDTypes; ++k)
    if (print::numpy_dtype_name(static_cast<DType>(k)) == t) return static_cast<DType>(k);
  if (t == "float") return DType::F64;
  if (t == "int") return DType::I64;
  user_error(line, a.span, ErrorKind::Type, fmt::format("unknown dtype '{}'", t),
             "dtypes: bool i8 i16 i32 i64 u8 u16 u32 u64 f16 bf16 f32 f64 (or NumPy's names)");
}

std::string Session::string_arg(const std::string &line, const Arg &a) const {
  const std::string t = line.substr(a.span.b, a.span.e - a.span.b);
  if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front())
    return t.substr(1, t.size() - 2);
  user_error(line, a.span, ErrorKind::Type, "expected a quoted file name, like \"a.npy\"");
}

namespace {

/// Fills `a` element by element with f(k) (C order), polling for Ctrl-C.
template <class F> void fill(Array &a, F &&f) {
  const std::int64_t n = a.size();
  auto *p = static_cast<char *>(a.data());
  const int es = dtype_size(a.dtype());
  for (std::int64_t k = 0; k < n; ++k) {
    if ((k & 0xfffff) == 0) poll_interrupt();
    f(p + k * es, k);
  }
}

int uniform_bits(DType t) {
  switch (t) {
  case DType::F16: return 11;
  case DType::BF16: return 8;
  case DType::F32: return 24;
  default: return 53;
  }
}

} // namespace

Array Session::construct(const std::string &line, const std::string &fn, Span args_span,
                         Span whole) {
  std::vector<Arg> args = split_args(line, args_span);
  std::optional<DType> dtype;
  std::vector<Arg> pos;
  std::map<std::string, Arg> kw;
  for (const Arg &a : args) {
    if (a.key.empty()) {
      if (!kw.empty())
        user_error(line, a.span, ErrorKind::Syntax, "a positional argument follows a keyword argument");
      pos.push_back(a);
    } else if (a.key == "dtype") {
      dtype = dtype_arg(line, a);
    } else {
      kw[a.key] = a;
    }
  }
  auto no_kw_but = [&](std::set<std::string> allowed) {
    for (const auto &[k, a] : kw)
      if (!allowed.count(k))
        user_error(line, {a.span.b - 1 - k.size(), a.span.e}, ErrorKind::Name,
                   fmt::format("{}() has no keyword '{}'", fn, k));
  };
  auto want = [&](std::size_t lo, std::size_t hi, const char *usage) {
    if (pos.size() < lo || pos.size() > hi)
      user_error(line, whole, ErrorKind::Type,
                 fmt::format("{}() takes {} (got {} argument{})", fn, usage, pos.size(),
                             pos.size() == 1 ? "" : "s"));
  };

  if (fn == "zeros" || fn == "ones" || fn == "rand" || fn == "randn") {
    no_kw_but({});
    if (pos.empty())
      user_error(line, whole, ErrorKind::Type, fmt::format("{}() needs a shape, like {}(3, 4)", fn, fn));
    const auto shape = shape_args(line, pos, 0, pos.size());
    for (std::size_t k = 0; k < shape.size(); ++k)
      if (shape[k] < 0) user_error(line, pos[std::min(k, pos.size() - 1)].span, ErrorKind::Shape,
                                   fmt::format("negative dimension {}", shape[k]));
    const DType t = dtype.value_or(DType::F64);
    if ((fn == "rand" || fn == "randn") && !is_float(t))
      user_error(line, whole, ErrorKind::Type,
                 fmt::format("{}() makes floats; {} is not a float dtype", fn, dtype_name(t)));
    Array a = Array::empty(t, shape);
    if (fn == "ones") fill(a, [&](void *p, std::int64_t) { put_int(p, t, 1); });
    if (fn == "rand") {
      const int bits = uniform_bits(t);
      fill(a, [&](void *p, std::int64_t) { put_double(p, t, rng_.uniform(bits)); });
    }
    if (fn == "randn") fill(a, [&](void *p, std::int64_t) { put_double(p, t, rng_.normal()); });
    return a;
  }
  if (fn == "full") {
    no_kw_but({});
    want(2, 2, "a shape and a value: full((3, 4), 2.5)");
    const auto shape = shape_args(line, pos, 0, 1);
    for (auto d : shape)
      if (d < 0) user_error(line, pos[0].span, ErrorKind::Shape, fmt::format("negative dimension {}", d));
    const std::string vtext = trim(line.substr(pos[1].span.b, pos[1].span.e - pos[1].span.b));
    Scalar v;
    DType t = DType::F64;
    if (auto lit = parse_number(vtext)) {
      v = *lit;
      t = v.kind() == Scalar::Kind::Bool    ? DType::Bool
          : v.kind() == Scalar::Kind::Int   ? DType::I64
          : v.kind() == Scalar::Kind::UInt  ? DType::U64
                                            : DType::F64;
    } else {
      Array sv = eval_expr(line, pos[1].span);
      if (sv.size() != 1)
        user_error(line, pos[1].span, ErrorKind::Shape,
                   fmt::format("expected a single number, got an array of type {}",
                               print::type_text(sv.dtype(), sv.shape())));
      v = scalar_of(sv);
      t = sv.dtype();
    }
    t = dtype.value_or(t);
    Array a = Array::empty(t, shape);
    fill(a, [&](void *p, std::int64_t) { put_scalar(p, t, v); });
    return a;
  }
  if (fn == "arange") {
    no_kw_but({});
    want(1, 3, "arange(STOP), arange(START, STOP) or arange(START, STOP, STEP)");
    std::vector<Scalar> v;
    for (const Arg &a : pos) v.push_back(scalar_arg(line, a));
    bool all_int = true;
    for (const Scalar &s : v) all_int = all_int && s.kind() == Scalar::Kind::Int;
    const DType t = dtype.value_or(all_int ? DType::I64 : DType::F64);
    if (all_int) {
      const std::int64_t start = v.size() > 1 ? v[0].as_int() : 0;
      const std::int64_t stop = v.size() > 1 ? v[1].as_int() : v[0].as_int();
      const std::int64_t step = v.size() > 2 ? v[2].as_int() : 1;
      if (step == 0) user_error(line, pos[2].span, ErrorKind::Runtime, "arange() step must not be 0");
      // Length ceil((stop - start) / step), in 128 bits so no extreme input overflows.
      const __int128 span = static_cast<__int128>(stop) - start;
      __int128 n = span / step;
      if (span % step != 0 && ((span > 0) == (step > 0))) ++n;
      if (n < 0) n = 0;
      if (n > std::numeric_limits<std::int64_t>::max() / 16)
        user_error(line, whole, ErrorKind::Limit, "arange() would have too many elements");
      Array a = Array::empty(t, {static_cast<std::int64_t>(n)});
      fill(a, [&](void *p, std::int64_t k) {
        put_int(p, t, static_cast<std::int64_t>(static_cast<__int128>(start) + static_cast<__int128>(k) * step));
      });
      return a;
    }
    const double start = v.size() > 1 ? v[0].as_double() : 0.0;
    const double stop = v.size() > 1 ? v[1].as_double() : v[0].as_double();
    const double step = v.size() > 2 ? v[2].as_double() : 1.0;
    if (step == 0) user_error(line, pos[2].span, ErrorKind::Runtime, "arange() step must not be 0");
    const double nd = std::ceil((stop - start) / step);
    if (!std::isfinite(nd) || nd > 9.0e15)
      user_error(line, whole, ErrorKind::Limit, "arange() would have too many elements");
    const auto n = static_cast<std::int64_t>(std::max(0.0, nd));
    Array a = Array::empty(t, {n});
    fill(a, [&](void *p, std::int64_t k) { put_double(p, t, start + static_cast<double>(k) * step); });
    return a;
  }
  if (fn == "linspace") {
    no_kw_but({"num"});
    want(2, 3, "linspace(START, STOP) or linspace(START, STOP, NUM)");
    if (pos.size() == 3 && kw.count("num"))
      user_error(line, kw["num"].span, ErrorKind::Syntax, "num is given twice");
    const double start = scalar_arg(line, pos[0]).as_double();
    const double stop = scalar_arg(line, pos[1]).as_double();
    std::int64_t num = 50;
    if (pos.size() == 3) num = int_arg(line, pos[2]);
    if (kw.count("num")) num = int_arg(line, kw["num"]);
    if (num < 0) user_error(line, whole, ErrorKind::Runtime, fmt::format("linspace() num must be >= 0, got {}", num));
    const DType t = dtype.value_or(DType::F64);
    const double step = num > 1 ? (stop - start) / static_cast<double>(num - 1) : 0.0;
    Array a = Array::empty(t, {num});
    fill(a, [&](void *p, std::int64_t k) {
      put_double(p, t, k == num - 1 && num > 1 ? stop : start + static_cast<double>(k) * step);
    });
    return a;
  }
  if (fn == "reshape") {
    no_kw_but({});
    if (dtype) user_error(line, whole, ErrorKind::Name, "reshape() has no keyword 'dtype'");
    if (pos.size() < 2) user_error(line, whole, ErrorKind::Type, "reshape() takes an array and a shape: reshape(a, (3, 4))");
    Array x = value_of(line, pos[0].span);
    auto shape = shape_args(line, pos, 1, pos.size());
    int unknown = -1;
    std::int64_t known = 1;
    for (std::size_t k = 0; k < shape.size(); ++k) {
      if (shape[k] == -1) {
        if (unknown >= 0) user_error(line, whole, ErrorKind::Shape, "reshape(): only one dimension can be -1");
        unknown = static_cast<int>(k);
      } else if (shape[k] < 0) {
        user_error(line, whole, ErrorKind::Shape, fmt::format("reshape(): negative dimension {}", shape[k]));
      } else if (__builtin_mul_overflow(known, shape[k], &known)) {
        user_error(line, whole, ErrorKind::Limit, "reshape(): the shape has too many elements");
      }
    }
    if (unknown >= 0) {
      if (known == 0 || x.size() % known != 0)
        user_error(line, whole, ErrorKind::Shape,
                   fmt::format("cannot reshape an array of size {} into shape {}", x.size(),
                               print::type_text(x.dtype(), shape).substr(dtype_name(x.dtype()).size())));
      shape[static_cast<std::size_t>(unknown)] = x.size() / known;
      known = x.size();
    }
    if (known != x.size())
      user_error(line, whole, ErrorKind::Shape,
                 fmt::format("cannot reshape an array of size {} into shape {}", x.size(),
                             print::type_text(x.dtype(), shape).substr(dtype_name(x.dtype()).size())));
    Array base = x.is_contiguous() ? x : x.contiguous_copy();
    Array a = Array::empty(base.dtype(), shape);
    if (base.size()) std::memcpy(a.data(), base.data(), static_cast<std::size_t>(nbytes(base)));
    return a;
  }
  if (fn == "load") {
    no_kw_but({});
    if (dtype) user_error(line, whole, ErrorKind::Name, "load() has no keyword 'dtype'");
    want(1, 1, "one file name: load(\"a.npy\")");
    const std::string path = string_arg(line, pos[0]);
    try {
      return npy::load(path);
    } catch (const Error &e) {
      user_error(line, pos[0].span, e.kind(), e.message());
    }
  }
  throw Error(ErrorKind::Internal, fmt::format("construct: unhandled constructor {}", fn));
}

void Session::statement_call(const std::string &line, const std::string &fn, Span args_span,
                             Span whole) {
  std::vector<Arg> args = split_args(line, args_span);
  for (const Arg &a : args)
    if (!a.key.empty())
      user_error(line, a.span, ErrorKind::Name, fmt::format("{}() has no keyword '{}'", fn, a.key));
  if (fn == "seed") {
    if (args.size() != 1) user_error(line, whole, ErrorKind::Type, "seed() takes one integer: seed(42)");
    const Scalar s = scalar_arg(line, args[0]);
    if (s.kind() != Scalar::Kind::Int && s.kind() != Scalar::Kind::UInt)
      user_error(line, args[0].span, ErrorKind::Type, "seed() takes an integer");
    rng_.reseed(s.kind() == Scalar::Kind::UInt ? s.as_uint() : static_cast<std::uint64_t>(s.as_int()));
    return;
  }
  // save("file.npy", EXPR)
  if (args.size() != 2)
    user_error(line, whole, ErrorKind::Type, "save() takes a file name and a value: save(\"b.npy\", a)");
  const std::string path = string_arg(line, args[0]);
  Array v = value_of(line, args[1].span);
  poll_interrupt();
  try {
    npy::save(path, v);
  } catch (const Error &e) {
    user_error(line, args[0].span, e.kind(), e.message());
  }
}

// ---- commands ----

void Session::command(const std::string &line) {
  std::size_t b = 0, e = line.size();
  trim_span(line, b, e);
  std::size_t i = b + 1;
  while (i < e && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  const std::string cmd = line.substr(b, i - b);
  std::size_t ab = i, ae = e;
  trim_span(line, ab, ae);
  const std::string arg = line.substr(ab, ae - ab);
  auto need_expr = [&]() {
    if (ab == ae)
      user_error(line, {b, i}, ErrorKind::Syntax, fmt::format("{} needs an expression", cmd));
  };

  if (cmd == ":help" || cmd == ":h" || cmd == ":?") {
    io_.out << kHelp << "\n";
  } else if (cmd == ":vars") {
    cmd_vars();
  } else if (cmd == ":type" || cmd == ":t") {
    need_expr();
    cmd_type(line, {ab, ae});
  } else if (cmd == ":emit") {
    cmd_emit(line, {ab, ae});
  } else if (cmd == ":time") {
    need_expr();
    cmd_time(line, {ab, ae});
  } else if (cmd == ":threads") {
    if (!arg.empty()) {
      auto n = parse_number(arg);
      if (!n || n->kind() != Scalar::Kind::Int || n->as_int() < 0 || n->as_int() > 4096)
        user_error(line, {ab, ae}, ErrorKind::Runtime,
                   fmt::format("expected a thread count from 0 (all cores) to 4096, got '{}'", arg));
      ctx_.set_threads(static_cast<int>(n->as_int()));
      options_.threads = static_cast<int>(n->as_int());
    }
    io_.out << "threads: " << ctx_.threads() << "\n";
  } else if (cmd == ":precision") {
    if (!arg.empty()) {
      if (arg != "accurate" && arg != "fast")
        user_error(line, {ab, ae}, ErrorKind::Runtime,
                   fmt::format("unknown precision '{}': use accurate or fast", arg));
      const Precision p = arg == "fast" ? Precision::Fast : Precision::Accurate;
      if (p != options_.precision) {
        // Precision is fixed per Context (it is part of every compiled kernel): start a new one.
        options_.precision = p;
        options_.threads = ctx_.options().threads;
        ctx_ = Context(options_);
      }
    }
    io_.out << "precision: " << (options_.precision == Precision::Fast ? "fast" : "accurate") << "\n";
  } else if (cmd == ":target") {
    if (!arg.empty()) {
      Target t = Target::cpu();
      try {
        t = Target::parse(arg);
        if (!(t == options_.target)) {
          // The target is fixed per Context: start a new one (this throws, naming why, where the
          // target cannot be used, and the session keeps its current one).
          Options o = options_;
          o.target = t;
          o.threads = ctx_.options().threads;
          Context c(o);
          ctx_ = std::move(c);
          options_ = o;
        }
      } catch (const Error &e) {
        if (e.kind() == ErrorKind::Internal) throw;
        user_error(line, {ab, ae}, ErrorKind::Runtime, e.message());
      }
    }
    if (options_.target.kind() == Target::Kind::Cpu)
      io_.out << "target: cpu (" << ctx_.threads() << " threads)\n";
    else
      io_.out << "target: " << ctx_.target_description() << "\n";
  } else if (cmd == ":load") {
    if (arg.empty()) user_error(line, {b, i}, ErrorKind::Syntax, ":load needs a script file name");
    std::string path = arg;
    if (path.size() >= 2 && (path.front() == '"' || path.front() == '\'') && path.back() == path.front())
      path = path.substr(1, path.size() - 2);
    cmd_load(path);
  } else {
    std::string known;
    for (const auto &c : command_names()) known += (known.empty() ? "" : " ") + c;
    user_error(line, {b, i}, ErrorKind::Syntax, fmt::format("unknown command '{}'", cmd),
               "commands: " + known);
  }
}

void Session::cmd_vars() {
  if (vars_.empty()) {
    io_.out << "no variables yet; try  a = rand(1_000_000)\n";
    return;
  }
  std::size_t w = 4, tw = 4;
  for (const auto &[name, v] : vars_) {
    w = std::max(w, name.size());
    tw = std::max(tw, print::type_text(v.value.dtype(), v.value.shape()).size());
  }
  for (const auto &[name, v] : vars_)
    io_.out << fmt::format("{:<{}}  {:<{}}  {}\n", name, w,
                           print::type_text(v.value.dtype(), v.value.shape()), tw,
                           human_bytes(static_cast<double>(nbytes(v.value))));
}

void Session::cmd_type(const std::string &line, Span s) {
  const ir::Graph g = check_expr(line, s, false);
  io_.out << ir::to_string(g.type(g.outputs.at(0).value)) << "\n";
}

void Session::cmd_emit(const std::string &line, Span s) {
  std::size_t i = s.b;
  while (i < s.e && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  const std::string stage_name = line.substr(s.b, i - s.b);
  std::string names;
  for (const auto &n : emit_stage_names()) names += (names.empty() ? "" : " ") + n;
  if (stage_name.empty())
    user_error(line, {s.b, s.b + 1}, ErrorKind::Syntax, ":emit needs a stage and an expression",
               "stages: " + names);
  const auto stage = emit_stage_from_name(stage_name);
  if (!stage)
    user_error(line, {s.b, i}, ErrorKind::Syntax, fmt::format("unknown stage '{}'", stage_name),
               "stages: " + names);
  std::size_t eb = i, ee = s.e;
  trim_span(line, eb, ee);
  if (eb == ee)
    user_error(line, {s.b, i}, ErrorKind::Syntax, fmt::format(":emit {} needs an expression", stage_name));
  check_expr(line, {eb, ee}, false); // user errors with concrete shapes first
  if (*stage == EmitStage::Ast) {
    SourceFile src(io_.source_name, line.substr(eb, ee - eb));
    io_.out << emit(src, true, {}, EmitStage::Ast, options_.precision);
    return;
  }
  // What eval compiles: the same symbolic declarations, so the text is that of the cached kernel.
  const ir::Graph g = check_expr(line, {eb, ee}, true);
  // On a cuda target, PTX for its device; on the CPU for kDefaultPtxSm (docs/repl.md).
  const int sm = ctx_.target_sm();
  std::string text = emit_graph(g, *stage, options_.precision, sm ? sm : kDefaultPtxSm);
  io_.out << text;
  if (!text.empty() && text.back() != '\n') io_.out << "\n";
}

void Session::cmd_time(const std::string &line, Span s) {
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  check_expr(line, s, false);
  const auto t0 = clock::now();
  const ir::Graph g = check_expr(line, s, true);
  const auto t1 = clock::now();
  const CompileProfile p = profile_compile(g, options_.precision, ctx_.target_sm());
  const std::string expr = line.substr(s.b, s.e - s.b);
  const auto inputs = inputs_for(g);
  // First call: compiles through the kernel cache if needed, then runs.
  const auto f0 = clock::now();
  Array r = ctx_.eval(expr, inputs);
  const auto f1 = clock::now();
  poll_interrupt();
  double best = ms(f0, f1);
  int reps = 1;
  const auto start = clock::now();
  while (reps < 20 && ms(start, clock::now()) < 500) {
    const auto a = clock::now();
    r = ctx_.eval(expr, inputs);
    best = std::min(best, ms(a, clock::now()));
    ++reps;
    poll_interrupt();
  }
  double moved = static_cast<double>(nbytes(r));
  for (const auto &[name, a] : inputs) moved += static_cast<double>(nbytes(a));
  const double compile_total = ms(t0, t1) + p.passes_ms + p.mlir_build_ms + p.mlir_lower_ms +
                               p.llvm_opt_ms + p.codegen_ms;
  io_.out << fmt::format("result      {}\n", print::type_text(r.dtype(), r.shape()));
  io_.out << fmt::format("compile     {:9.3f} ms total\n", compile_total);
  io_.out << fmt::format("  frontend  {:9.3f} ms  parse, names, dtypes, shapes\n", ms(t0, t1));
  io_.out << fmt::format("  passes    {:9.3f} ms  fold, simplify, cse, dce, fusion: {} kernel{}, "
                         "{} reduction{}, {} intermediate buffer{}\n",
                         p.passes_ms, p.kernels, p.kernels == 1 ? "" : "s", p.reductions,
                         p.reductions == 1 ? "" : "s", p.intermediates,
                         p.intermediates == 1 ? "" : "s");
  if (p.gpu) {
    io_.out << fmt::format("  mlir      {:9.3f} ms  build the gpu module in MLIR, lower it to LLVM IR (NVVM)\n",
                           p.mlir_build_ms + p.mlir_lower_ms);
    io_.out << fmt::format("  llvm      {:9.3f} ms  link libdevice, LLVM -O2\n", p.llvm_opt_ms);
    io_.out << fmt::format("  ptx       {:9.3f} ms  NVPTX code generation for sm_{}\n",
                           p.codegen_ms, ctx_.target_sm());
    io_.out << fmt::format("first call  {:9.3f} ms  (kernel cache lookup or compile, the driver's JIT "
                           "of the PTX, transfers, then run)\n",
                           ms(f0, f1));
  } else {
    io_.out << fmt::format("  mlir      {:9.3f} ms  build the kernel in MLIR\n", p.mlir_build_ms);
    io_.out << fmt::format("  lower     {:9.3f} ms  MLIR to the LLVM dialect and LLVM IR\n", p.mlir_lower_ms);
    io_.out << fmt::format("  llvm      {:9.3f} ms  LLVM -O2\n", p.llvm_opt_ms);
    io_.out << fmt::format("  codegen   {:9.3f} ms  machine code and JIT link\n", p.codegen_ms);
    io_.out << fmt::format("first call  {:9.3f} ms  (kernel cache lookup or compile, then run)\n", ms(f0, f1));
  }
  const double gbs = best > 0 ? moved / (best * 1e-3) / 1e9 : 0;
  const std::string where =
      p.gpu ? fmt::format("on {}, inputs copied in and the result out", ctx_.target_description())
            : fmt::format("{} threads", ctx_.threads());
  io_.out << fmt::format("run         {:9.3f} ms  best of {}, {}, {} moved, {:.1f} GB/s\n", best,
                         reps, where, human_bytes(moved), gbs);
}

void Session::cmd_load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Runtime, fmt::format("cannot read script '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  Program prog = ctx_.compile(ss.str(), path);
  Inputs inputs;
  Params params;
  for (const ValueInfo &v : prog.inputs()) {
    auto it = vars_.find(v.name);
    if (it == vars_.end())
      throw Error(ErrorKind::Runtime,
                  fmt::format("script input '{}: {}' has no variable of that name; define it "
                              "first, e.g. {} = rand(1000, dtype={})",
                              v.name, v.type, v.name, dtype_name(v.dtype)));
    if (it->second.value.dtype() != v.dtype)
      throw Error(ErrorKind::Type,
                  fmt::format("script input '{}' is {} but the variable {} is {}; convert it, "
                              "e.g. {} = {}({})",
                              v.name, v.type, v.name,
                              print::type_text(it->second.value.dtype(), it->second.value.shape()),
                              v.name, dtype_name(v.dtype), v.name));
    inputs.emplace(v.name, it->second.value);
  }
  for (const ValueInfo &v : prog.params()) {
    auto it = vars_.find(v.name);
    if (it == vars_.end())
      throw Error(ErrorKind::Runtime,
                  fmt::format("script param '{}: {}' has no variable of that name; define it "
                              "first, e.g. {} = 0.5",
                              v.name, v.type, v.name));
    if (it->second.value.size() != 1)
      throw Error(ErrorKind::Shape,
                  fmt::format("script param '{}' is a scalar but the variable {} is {}", v.name,
                              v.name,
                              print::type_text(it->second.value.dtype(), it->second.value.shape())));
    params.emplace(v.name, scalar_of(it->second.value));
  }
  Outputs outs = prog.run(inputs, params);
  poll_interrupt();
  std::string summary;
  for (const ValueInfo &v : prog.outputs()) {
    const Array &a = outs.at(v.name);
    vars_[v.name] = Var{a};
    summary += fmt::format("{}{}: {}", summary.empty() ? "" : ", ", v.name,
                           print::type_text(a.dtype(), a.shape()));
  }
  io_.out << summary << "\n";
}

// ---- completion ----

Session::Completion Session::complete(std::string_view line, std::size_t cursor) const {
  Completion c;
  cursor = std::min(cursor, line.size());
  std::size_t start = cursor;
  while (start > 0 && is_ident_char(line[start - 1])) --start;
  std::size_t first = 0;
  while (first < line.size() && std::isspace(static_cast<unsigned char>(line[first]))) ++first;
  std::vector<std::string> pool;
  if (start > 0 && line[start - 1] == ':' && start - 1 == first) {
    --start; // a command
    pool = command_names();
  } else if (start == first && start < line.size() && line[start] == ':') {
    pool = command_names();
  } else {
    // After ":emit ", the first word is a stage.
    const std::string_view head = line.substr(first);
    if (head.rfind(":emit", 0) == 0) {
      std::size_t k = first + 5;
      while (k < line.size() && std::isspace(static_cast<unsigned char>(line[k]))) ++k;
      if (k == start) {
        for (std::size_t j = start; j < cursor; ++j)
          if (line[j] == '-') return c;
        pool = emit_stage_names();
      }
    }
    if (pool.empty()) {
      for (const auto &[name, _] : vars_) pool.push_back(name);
      for (const auto &f : function_names()) pool.push_back(f);
      for (const auto &f : constructor_names()) pool.push_back(f);
      pool.push_back("seed");
      pool.push_back("save");
    }
  }
  const std::string_view word = line.substr(start, cursor - start);
  std::set<std::string> out;
  for (const auto &p : pool)
    if (p.size() >= word.size() && std::string_view(p).substr(0, word.size()) == word) out.insert(p);
  c.start = start;
  c.candidates.assign(out.begin(), out.end());
  return c;
}

} // namespace xpr::tool
