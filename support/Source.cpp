// support/Source.cpp — line/column lookup and clang-style caret rendering of diagnostics.
#include "support/Source.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace xpr {

SourceFile::SourceFile(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(static_cast<std::uint32_t>(i + 1));
}

std::pair<std::uint32_t, std::uint32_t> SourceFile::line_col(std::uint32_t offset) const {
  if (offset > text_.size()) offset = static_cast<std::uint32_t>(text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  auto line = static_cast<std::uint32_t>(it - line_starts_.begin()); // 1-based
  return {line, offset - line_starts_[line - 1] + 1};
}

std::string_view SourceFile::line_text(std::uint32_t offset) const {
  auto [line, col] = line_col(offset);
  std::size_t begin = line_starts_[line - 1];
  std::size_t end = line < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end; // CRLF files: the '\r' is not shown
  return std::string_view(text_).substr(begin, end - begin);
}

SourceLocation SourceFile::location(std::uint32_t offset) const {
  auto [line, col] = line_col(offset);
  return {name_, line, col};
}

namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

/// One printed column of a source line and the byte offset (within the line) it starts at.
struct Cell {
  std::size_t byte;
  std::string text;
};

std::vector<Cell> layout(std::string_view line) {
  std::vector<Cell> cells;
  for (std::size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      cells.push_back({i, "\t"});
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      cells.push_back({i, "?"});
      ++i;
    } else if (std::size_t n = utf8_length(line, i); n == 0) {
      cells.push_back({i, "?"});
      ++i;
    } else {
      cells.push_back({i, std::string(line.substr(i, n))});
      i += n;
    }
  }
  return cells;
}

constexpr std::size_t kMaxWidth = 120, kLeftContext = 40;
static_assert(kMaxWidth > kLeftContext);

/// The quoted source line and the caret line under `range` (which starts on that line).
void render_snippet(const SourceFile &src, SourceRange range, std::string &out) {
  std::string_view line = src.line_text(range.begin);
  std::uint32_t line_begin = range.begin - (src.line_col(range.begin).second - 1);
  std::size_t b = range.begin - line_begin;
  std::size_t e = range.end > range.begin ? range.end - line_begin : b;
  // Lay out only a slice around the caret, so a 10 MB line costs no more than a short one.
  // The slice holds at least kLeftContext cells before `b` and kMaxWidth after it (a cell
  // is at most 4 bytes) and starts on a character boundary.
  std::size_t s0 = b > 4 * kLeftContext ? b - 4 * kLeftContext : 0;
  for (int k = 0;
       k < 3 && s0 > 0 && s0 < line.size() && (static_cast<unsigned char>(line[s0]) & 0xC0) == 0x80;
       ++k)
    ++s0;
  std::size_t s1 = std::min(line.size(), std::max(b, s0) + 4 * kMaxWidth);
  bool more_left = s0 > 0, more_right = s1 < line.size();
  line = line.substr(s0, s1 - s0);
  b = b >= s0 ? b - s0 : 0;
  e = e >= s0 ? e - s0 : 0;
  auto cells = layout(line);
  // Cell index of the cell holding byte `b`; the first cell at or after `e` ends the range.
  auto cell_at = [&](std::size_t byte) -> std::size_t {
    if (byte >= line.size()) return cells.size();
    auto it = std::upper_bound(cells.begin(), cells.end(), byte,
                               [](std::size_t v, const Cell &c) { return v < c.byte; });
    return std::size_t(it - cells.begin()) - 1; // cells[0].byte == 0 <= byte
  };
  std::size_t cb = cell_at(b);
  std::size_t ce =
      std::size_t(std::lower_bound(cells.begin(), cells.end(), e,
                                   [](const Cell &c, std::size_t v) { return c.byte < v; }) -
                  cells.begin());

  std::size_t first = 0, last = cells.size();
  if (cells.size() > kMaxWidth) {
    first = cb > kLeftContext ? cb - kLeftContext : 0;
    first = std::min(first, cells.size() - kMaxWidth);
    last = first + kMaxWidth;
  }
  std::string text = "  ", carets = "  ";
  if (first > 0 || more_left) text += "...", carets += "   ";
  for (std::size_t i = first; i < last; ++i) {
    text += cells[i].text;
    if (i < cb) carets += cells[i].text == "\t" ? '\t' : ' ';
  }
  if (last < cells.size() || more_right) text += "...";
  carets += '^';
  // The range is clipped at the line end, and at the window's end.
  for (std::size_t i = cb + 1; i < std::min(ce, last); ++i)
    carets += '~';
  // No trailing blanks: an empty source line prints as an empty line.
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  out += '\n';
  out += text;
  out += '\n';
  out += carets;
}

/// A message as printed: control bytes other than tab and newline become '?', as in source
/// lines. Messages quote source text (a chained comparison's suggested rewrite, a name), and a
/// hostile source must not put a carriage return or an escape sequence on the user's terminal.
std::string printable(std::string_view message) {
  std::string out(message);
  for (char &c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) c = '?';
  }
  return out;
}

std::string header(const SourceFile &src, std::uint32_t offset, std::string_view what,
                   std::string_view message) {
  auto [line, col] = src.line_col(offset);
  return fmt::format("{}:{}:{}: {}: {}", src.name(), line, col, what, printable(message));
}

} // namespace

Diagnostic &Diagnostics::error(ErrorKind kind, SourceRange range, std::string message) {
  diags_.push_back(Diagnostic{kind, range, std::move(message), {}});
  return diags_.back();
}

std::string Diagnostics::render(const Diagnostic &d) const {
  std::string out = header(src_, d.range.begin, "error", d.message);
  render_snippet(src_, d.range, out);
  for (const Note &n : d.notes) {
    out += '\n';
    if (n.has_range) {
      out += header(src_, n.range.begin, "note", n.message);
      render_snippet(src_, n.range, out);
    } else {
      out += "note: " + printable(n.message);
    }
  }
  return out;
}

void Diagnostics::check() const {
  if (diags_.empty()) return;
  std::string all;
  for (const Diagnostic &d : diags_) {
    if (!all.empty()) all += '\n';
    all += render(d);
  }
  if (too_many()) all += fmt::format("\nnote: too many errors; stopping after {}", kMaxErrors);
  const Diagnostic &first = diags_.front();
  throw Error(first.kind, printable(first.message), src_.location(first.range.begin),
              std::move(all));
}

void fail(const SourceFile &src, ErrorKind kind, SourceRange range, std::string message,
          std::vector<Note> notes) {
  Diagnostics diags(src);
  diags.error(kind, range, std::move(message)).notes = std::move(notes);
  diags.check();
  throw Error(ErrorKind::Internal, "fail() did not throw"); // unreachable: check() threw
}

} // namespace xpr
