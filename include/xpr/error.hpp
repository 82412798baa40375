// xpr/error.hpp — the one exception type xpr throws, with a kind and a source location.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace xpr {

/// What went wrong. Every kind but Internal is the caller's to fix; Internal is a bug in xpr.
enum class ErrorKind : std::uint8_t {
  Syntax,   ///< the text does not parse
  Name,     ///< an unknown or duplicate name
  Type,     ///< a dtype rule is broken
  Shape,    ///< shapes do not broadcast, or a rank/axis is wrong
  Limit,    ///< a resource limit (source size, nesting, rank, element count) was hit
  Runtime,  ///< bad arguments at run time: missing input, shape mismatch, I/O
  Internal, ///< a bug in xpr itself
};

/// The lower-case name of a kind, as diagnostics spell it: "syntax", "name", ..., "internal".
std::string_view error_kind_name(ErrorKind k);

/// A position in a source text. line and col are 1-based; 0 means "no location".
struct SourceLocation {
  std::string file;       ///< the source's name: the filename given to compile(), or "<expr>"
  std::uint32_t line = 0; ///< 1-based line; 0 when the error has no place in the source
  std::uint32_t col = 0;  ///< 1-based column, counted in bytes
};

/// Every failure xpr reports is an Error. `what()` is the full rendered diagnostic
/// (`file:line:col: error: message`, the source line, a caret, and notes), ready to print.
/// `message()` is the first message alone. The library never prints; callers decide.
class Error : public std::runtime_error {
public:
  /// An error of `kind` with its first `message`; `rendered` is the full diagnostic that
  /// what() returns (when empty, what() is `message`).
  Error(ErrorKind kind, std::string message, SourceLocation loc = {},
        std::string rendered = {});

  /// What went wrong.
  ErrorKind kind() const noexcept { return kind_; }
  /// The first message alone, without location, source line or notes.
  const std::string &message() const noexcept { return message_; }
  /// Where in the source the error is; line 0 for errors with no place (most Runtime errors).
  const SourceLocation &location() const noexcept { return loc_; }

private:
  ErrorKind kind_;
  std::string message_;
  SourceLocation loc_;
};

} // namespace xpr
