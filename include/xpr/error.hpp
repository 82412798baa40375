// xpr/error.hpp — the one exception type xpr throws, with a kind and a source location.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace xpr {

enum class ErrorKind : std::uint8_t {
  Syntax,   ///< the text does not parse
  Name,     ///< an unknown or duplicate name
  Type,     ///< a dtype rule is broken
  Shape,    ///< shapes do not broadcast, or a rank/axis is wrong
  Limit,    ///< a resource limit (source size, nesting, rank, element count) was hit
  Runtime,  ///< bad arguments at run time: missing input, shape mismatch, I/O
  Internal, ///< a bug in xpr itself
};

std::string_view error_kind_name(ErrorKind k);

/// A position in a source text. line and col are 1-based; 0 means "no location".
struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t col = 0;
};

/// Every failure xpr reports is an Error. `what()` is the full rendered diagnostic
/// (`file:line:col: error: message`, the source line, a caret, and notes), ready to print.
/// `message()` is the first message alone. The library never prints; callers decide.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, std::string message, SourceLocation loc = {},
        std::string rendered = {});

  ErrorKind kind() const noexcept { return kind_; }
  const std::string &message() const noexcept { return message_; }
  const SourceLocation &location() const noexcept { return loc_; }

private:
  ErrorKind kind_;
  std::string message_;
  SourceLocation loc_;
};

} // namespace xpr
