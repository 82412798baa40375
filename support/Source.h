// support/Source.h — source texts, byte ranges in them, and diagnostics that render with a caret.
#pragma once

#include <xpr/error.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xpr {

/// A half-open byte range [begin, end) into one SourceFile.
struct SourceRange {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  static SourceRange merge(SourceRange a, SourceRange b) {
    return {a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
  }
};

/// One source text and its name ("<expr>", "<repl>:3", "bs.xpr").
class SourceFile {
public:
  SourceFile(std::string name, std::string text);
  const std::string &name() const { return name_; }
  const std::string &text() const { return text_; }
  /// 1-based line and column (columns count bytes) of a byte offset.
  std::pair<std::uint32_t, std::uint32_t> line_col(std::uint32_t offset) const;
  /// The text of the line containing `offset`, without its newline.
  std::string_view line_text(std::uint32_t offset) const;
  SourceLocation location(std::uint32_t offset) const;

private:
  std::string name_, text_;
  std::vector<std::uint32_t> line_starts_;
};

struct Note {
  SourceRange range;
  bool has_range = false;
  std::string message;
};

struct Diagnostic {
  ErrorKind kind = ErrorKind::Syntax;
  SourceRange range;
  std::string message;
  std::vector<Note> notes;
};

/// Collects diagnostics for one source. Several errors per run where recovery is cheap;
/// `check()` throws one xpr::Error carrying all of them, rendered.
class Diagnostics {
public:
  explicit Diagnostics(const SourceFile &src) : src_(src) {}
  Diagnostic &error(ErrorKind kind, SourceRange range, std::string message);
  bool has_errors() const { return !diags_.empty(); }
  const std::vector<Diagnostic> &all() const { return diags_; }
  /// Throws if any error was reported: one xpr::Error whose kind, message and location are
  /// the first error's and whose what() is every diagnostic rendered, joined by '\n' (no
  /// trailing newline). Rendering format (golden tests depend on it), clang style:
  ///   file:line:col: error: message
  ///     <source line>                   (indented by two spaces)
  ///     ^~~~                            ('^' under range.begin, '~' under the rest of the
  ///                                      range, clipped at the end of that line)
  ///   file:line:col: note: message      (notes with a range also get line + caret)
  ///   note: message                     (notes without a range)
  /// Columns count bytes from 1. In the printed line, tabs are kept (and copied into the
  /// caret line so the caret stays aligned), other control bytes and invalid UTF-8 print as
  /// '?', a valid multi-byte UTF-8 character takes one caret column. A line longer than 120
  /// columns is cut to a 120-column window around the caret, with "..." marking each cut.
  /// When kMaxErrors errors were reported, a last line "note: too many errors; stopping
  /// after 20" follows.
  void check() const;
  /// Renders one diagnostic as above.
  std::string render(const Diagnostic &d) const;
  /// Gives up after this many errors (prevents cascades from hostile input).
  static constexpr std::size_t kMaxErrors = 20;
  bool too_many() const { return diags_.size() >= kMaxErrors; }
  const SourceFile &source() const { return src_; }

private:
  const SourceFile &src_;
  std::vector<Diagnostic> diags_;
};

/// Throws immediately: a user error at `range` with one message (and optional notes).
[[noreturn]] void fail(const SourceFile &src, ErrorKind kind, SourceRange range,
                       std::string message, std::vector<Note> notes = {});

} // namespace xpr
