// support/Error.cpp — xpr::Error: one exception type with a kind, a message and a location.
#include <xpr/error.hpp>

namespace xpr {

std::string_view error_kind_name(ErrorKind k) {
  switch (k) {
  case ErrorKind::Syntax: return "syntax";
  case ErrorKind::Name: return "name";
  case ErrorKind::Type: return "type";
  case ErrorKind::Shape: return "shape";
  case ErrorKind::Limit: return "limit";
  case ErrorKind::Runtime: return "runtime";
  case ErrorKind::Internal: return "internal";
  }
  return "unknown";
}

static std::string default_render(ErrorKind kind, const std::string &message,
                                  const SourceLocation &loc) {
  std::string out;
  if (!loc.file.empty()) {
    out += loc.file;
    if (loc.line) out += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
    out += ": ";
  }
  out += kind == ErrorKind::Internal ? "internal error: " : "error: ";
  out += message;
  if (kind == ErrorKind::Internal) out += "\nnote: this is a bug in xpr; please report it";
  return out;
}

Error::Error(ErrorKind kind, std::string message, SourceLocation loc, std::string rendered)
    : std::runtime_error(rendered.empty() ? default_render(kind, message, loc) : rendered),
      kind_(kind), message_(std::move(message)), loc_(std::move(loc)) {}

} // namespace xpr
