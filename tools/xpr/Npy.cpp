// tools/xpr/Npy.cpp — the .npy reader and writer: a strict parser of the header's dict literal,
// checked size arithmetic, byte-order and Fortran-order conversion.
#include "tools/xpr/Npy.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace xpr::npy {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

[[noreturn]] void fail(std::string msg) { throw Error(ErrorKind::Runtime, std::move(msg)); }

std::string shape_text(const std::vector<std::int64_t> &shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

/// A printable excerpt of hostile text for an error message.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (s.size() > 40) out += "...";
  return out;
}

/// The header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` — exactly the
/// Python literal subset NumPy writes (single- or double-quoted strings without escapes, True,
/// False, tuples or lists of non-negative integers, an optional trailing comma).
class DictParser {
public:
  explicit DictParser(std::string_view s) : s_(s) {}

  struct Value {
    enum class Kind { Str, Bool, Ints, Other } kind = Kind::Other;
    std::string str;
    bool b = false;
    std::vector<std::int64_t> ints;
  };

  std::vector<std::pair<std::string, Value>> parse() {
    std::vector<std::pair<std::string, Value>> items;
    ws();
    expect('{', "the header must start with '{'");
    for (;;) {
      ws();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') error("expected a quoted key or '}'");
      std::string key = str();
      ws();
      expect(':', "expected ':' after a key");
      ws();
      Value v = value();
      for (const auto &[k, _] : items)
        if (k == key) fail(fmt::format("header has the key '{}' twice", excerpt(key)));
      items.emplace_back(std::move(key), std::move(v));
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') error("expected ',' or '}' after a value");
    }
    ++i_; // '}'
    ws();
    if (i_ != s_.size()) error("unexpected text after the closing '}'");
    return items;
  }

private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  [[noreturn]] void error(std::string_view what) const {
    fail(fmt::format("malformed header: {} at byte {} of the header (\"{}\")", what, i_,
                     excerpt(s_.substr(std::min(i_, s_.size())))));
  }
  void expect(char c, std::string_view what) {
    if (peek() != c) error(what);
    ++i_;
  }
  std::string str() {
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') error("escape sequences are not supported in strings");
      out += s_[i_++];
    }
    if (i_ >= s_.size()) error("unterminated string");
    ++i_;
    return out;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    const std::size_t j = i_ + w.size();
    if (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_'))
      return false;
    i_ = j;
    return true;
  }
  std::int64_t integer() {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) {
      if (peek() == '-') fail("malformed header: negative dimension in 'shape'");
      error("expected a non-negative integer");
    }
    std::int64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const int d = s_[i_++] - '0';
      if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10)
        fail("malformed header: a dimension in 'shape' does not fit in 64 bits");
      v = v * 10 + d;
    }
    if (peek() == 'L' || peek() == 'l') ++i_; // Python 2 longs, as old NumPy wrote them
    return v;
  }
  Value value() {
    Value v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = Value::Kind::Str;
      v.str = str();
    } else if (word("True")) {
      v.kind = Value::Kind::Bool;
      v.b = true;
    } else if (word("False")) {
      v.kind = Value::Kind::Bool;
    } else if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      ++i_;
      v.kind = Value::Kind::Ints;
      for (;;) {
        ws();
        if (peek() == close) break;
        if (v.ints.size() > static_cast<std::size_t>(kMaxRank))
          fail(fmt::format("shape has more than {} dimensions (the most xpr supports)", kMaxRank));
        if (peek() == '(' || peek() == '[' || peek() == '\'' || peek() == '"') {
          // A nested list: a structured dtype's descr. Skip it; the caller names the problem.
          v.kind = Value::Kind::Other;
          skip_nested();
          continue;
        }
        v.ints.push_back(integer());
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() != close) error(fmt::format("expected ',' or '{}' in a tuple", close));
      }
      ++i_;
    } else {
      error("expected a string, True, False or a tuple");
    }
    return v;
  }
  void skip_nested() {
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\'' || c == '"') {
        str();
        continue;
      }
      ++i_;
      if (c == '(' || c == '[') ++depth;
      if (c == ')' || c == ']') {
        if (--depth == 0) return;
      }
      if (depth > 64) error("nesting too deep");
    }
    error("unterminated tuple");
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

struct DescrInfo {
  DType dtype;
  bool big_endian;
};

DescrInfo parse_descr(const std::string &d) {
  auto bad = [&](std::string_view why) -> DescrInfo {
    fail(fmt::format("unsupported dtype '{}' in the header: {}", excerpt(d), why));
  };
  if (d.size() < 2) return bad("not a NumPy type string");
  std::size_t i = 0;
  char order = '|';
  if (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=') order = d[i++];
  const char kind = d[i++];
  std::size_t size = 0;
  if (i >= d.size()) return bad("no item size");
  for (; i < d.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(d[i])) || size > 1000)
      return bad("not a NumPy type string");
    size = size * 10 + static_cast<std::size_t>(d[i] - '0');
  }
  std::optional<DType> t;
  switch (kind) {
  case 'b':
    if (size == 1) t = DType::Bool;
    break;
  case 'i':
    t = size == 1 ? std::optional(DType::I8)
        : size == 2 ? std::optional(DType::I16)
        : size == 4 ? std::optional(DType::I32)
        : size == 8 ? std::optional(DType::I64)
                    : std::nullopt;
    break;
  case 'u':
    t = size == 1 ? std::optional(DType::U8)
        : size == 2 ? std::optional(DType::U16)
        : size == 4 ? std::optional(DType::U32)
        : size == 8 ? std::optional(DType::U64)
                    : std::nullopt;
    break;
  case 'f':
    t = size == 2 ? std::optional(DType::F16)
        : size == 4 ? std::optional(DType::F32)
        : size == 8 ? std::optional(DType::F64)
                    : std::nullopt;
    break;
  case 'c': return bad("complex numbers are not an xpr dtype");
  case 'O': return bad("Python objects cannot be loaded");
  case 'U':
  case 'S':
  case 'a': return bad("strings are not an xpr dtype");
  case 'M':
  case 'm': return bad("dates and times are not an xpr dtype");
  case 'V': return bad("raw bytes (void) are not an xpr dtype");
  default: return bad("not a NumPy type string");
  }
  if (!t) return bad(fmt::format("no xpr dtype has this kind and a {}-byte size", size));
  const bool big = size > 1 && (order == '>' || (order == '=' && std::endian::native == std::endian::big));
  return {*t, big};
}

std::uint32_t read_le(std::string_view b, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

/// Byte-swaps `n` items of `size` bytes in place.
void swap_bytes(void *data, std::int64_t n, int size) {
  auto *p = static_cast<unsigned char *>(data);
  for (std::int64_t k = 0; k < n; ++k, p += size)
    for (int i = 0; i < size / 2; ++i) std::swap(p[i], p[size - 1 - i]);
}

/// Turns freshly read data into the array the header describes: byte order, bool canonical form,
/// Fortran order (the data was read as a C array of the reversed shape).
Array finish(Array raw, const Header &h) {
  const std::int64_t n = raw.size();
  const int esize = dtype_size(h.dtype);
  if (h.big_endian && std::endian::native == std::endian::little) swap_bytes(raw.data(), n, esize);
  if (!h.big_endian && std::endian::native == std::endian::big) swap_bytes(raw.data(), n, esize);
  if (h.dtype == DType::Bool) {
    // Any nonzero byte is True to NumPy; kernels assume 0 or 1.
    auto *p = static_cast<unsigned char *>(raw.data());
    for (std::int64_t k = 0; k < n; ++k) p[k] = p[k] != 0;
  }
  if (!h.fortran_order || h.shape.size() <= 1) return raw;
  std::vector<std::int64_t> strides(h.shape.size());
  std::int64_t s = 1;
  for (std::size_t i = 0; i < h.shape.size(); ++i) {
    strides[i] = s;
    s *= h.shape[i] == 0 ? 1 : h.shape[i];
  }
  Array f = Array::view(raw.data(), h.dtype, h.shape, strides);
  return f.contiguous_copy();
}

/// The shape the raw data is read into: Fortran data is a C array of the reversed shape.
std::vector<std::int64_t> storage_shape(const Header &h) {
  std::vector<std::int64_t> s = h.shape;
  if (h.fortran_order) std::reverse(s.begin(), s.end());
  return s;
}

} // namespace

std::string descr_of(DType t) {
  switch (t) {
  case DType::Bool: return "|b1";
  case DType::I8: return "|i1";
  case DType::I16: return "<i2";
  case DType::I32: return "<i4";
  case DType::I64: return "<i8";
  case DType::U8: return "|u1";
  case DType::U16: return "<u2";
  case DType::U32: return "<u4";
  case DType::U64: return "<u8";
  case DType::F16: return "<f2";
  case DType::F32: return "<f4";
  case DType::F64: return "<f8";
  case DType::BF16:
    fail("bf16 has no NumPy dtype; save f32(x) (exact) or save its bits with a cast to u16 in "
         "your own code");
  }
  throw Error(ErrorKind::Internal, "descr_of: unknown dtype");
}

Header parse_header(std::string_view b) {
  Header h;
  if (b.size() < kMagicLen || b.substr(0, kMagicLen) != std::string_view(kMagic, kMagicLen))
    fail("not a .npy file (it does not start with \\x93NUMPY)");
  if (b.size() < kMagicLen + 2) fail("file is truncated inside the format version");
  h.major = static_cast<unsigned char>(b[6]);
  h.minor = static_cast<unsigned char>(b[7]);
  if (h.major < 1 || h.major > 3 || h.minor != 0)
    fail(fmt::format("unsupported .npy format version {}.{} (this reader knows 1.0, 2.0, 3.0)",
                     h.major, h.minor));
  const int len_bytes = h.major == 1 ? 2 : 4;
  const std::size_t prefix = kMagicLen + 2 + static_cast<std::size_t>(len_bytes);
  if (b.size() < prefix) fail("file is truncated inside the header length");
  const std::uint32_t hlen = read_le(b, kMagicLen + 2, len_bytes);
  if (hlen > kMaxHeaderBytes)
    fail(fmt::format("header length {} exceeds the limit of {} bytes", hlen, kMaxHeaderBytes));
  if (b.size() - prefix < hlen)
    fail(fmt::format("file is truncated: the header length says {} bytes, only {} follow", hlen,
                     b.size() - prefix));
  std::string_view text = b.substr(prefix, hlen);
  if (h.major < 3) {
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80)
        fail(fmt::format("malformed header: a version {}.0 header must be ASCII", h.major));
  }
  if (text.empty() || text.back() != '\n') fail("malformed header: it does not end with a newline");
  h.data_offset = prefix + hlen;

  std::optional<DescrInfo> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::int64_t>> shape;
  for (auto &[key, v] : DictParser(text).parse()) {
    using K = DictParser::Value::Kind;
    if (key == "descr") {
      if (v.kind != K::Str) fail("structured dtypes (a list as 'descr') are not supported");
      descr = parse_descr(v.str);
    } else if (key == "fortran_order") {
      if (v.kind != K::Bool) fail("malformed header: 'fortran_order' must be True or False");
      fortran = v.b;
    } else if (key == "shape") {
      if (v.kind != K::Ints) fail("malformed header: 'shape' must be a tuple of integers");
      shape = std::move(v.ints);
    } else {
      fail(fmt::format("malformed header: unknown key '{}'", excerpt(key)));
    }
  }
  if (!descr) fail("malformed header: the key 'descr' is missing");
  if (!fortran) fail("malformed header: the key 'fortran_order' is missing");
  if (!shape) fail("malformed header: the key 'shape' is missing");
  if (shape->size() > static_cast<std::size_t>(kMaxRank))
    fail(fmt::format("shape {} has {} dimensions; xpr supports at most {}", shape_text(*shape),
                     shape->size(), kMaxRank));
  h.dtype = descr->dtype;
  h.big_endian = descr->big_endian;
  h.fortran_order = *fortran;
  h.shape = std::move(*shape);

  std::uint64_t bytes = static_cast<std::uint64_t>(dtype_size(h.dtype));
  bool zero = false;
  for (std::int64_t d : h.shape) zero = zero || d == 0;
  if (zero) {
    bytes = 0;
  } else {
    for (std::int64_t d : h.shape) {
      if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes) ||
          bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(fmt::format("shape {} of {} is too large: its byte size overflows 64 bits",
                         shape_text(h.shape), dtype_name(h.dtype)));
    }
  }
  h.data_bytes = bytes;
  return h;
}

Array decode(std::string_view bytes) {
  const Header h = parse_header(bytes);
  const std::uint64_t have = bytes.size() - h.data_offset;
  if (have < h.data_bytes)
    fail(fmt::format("data is truncated: shape {} of {} needs {} bytes, the file has {}",
                     shape_text(h.shape), dtype_name(h.dtype), h.data_bytes, have));
  if (have > h.data_bytes)
    fail(fmt::format("file has {} bytes after the data of shape {} of {} (size mismatch)",
                     have - h.data_bytes, shape_text(h.shape), dtype_name(h.dtype)));
  Array raw = Array::empty(h.dtype, storage_shape(h));
  if (h.data_bytes) std::memcpy(raw.data(), bytes.data() + h.data_offset, h.data_bytes);
  return finish(std::move(raw), h);
}

std::string encode(const Array &a) {
  const std::string descr = descr_of(a.dtype());
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 descr, a.rank() == 0 ? std::string("()") : shape_text(a.shape()));
  // NumPy pads with spaces so the data starts at a multiple of 64 bytes, then ends with '\n'.
  std::size_t total = kMagicLen + 2 + 2 + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  const Array c = a.is_contiguous() ? a : a.contiguous_copy();
  const std::size_t nbytes =
      static_cast<std::size_t>(c.size()) * static_cast<std::size_t>(dtype_size(c.dtype()));
  const std::size_t at = out.size();
  out.resize(at + nbytes);
  if (nbytes) std::memcpy(out.data() + at, c.data(), nbytes);
  if (std::endian::native == std::endian::big)
    swap_bytes(out.data() + at, c.size(), dtype_size(c.dtype()));
  return out;
}

Array load(const std::string &path) {
  try {
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) fail(std::strerror(errno));
    struct Closer {
      std::FILE *f;
      ~Closer() { std::fclose(f); }
    } closer{f};
    struct stat st {};
    if (fstat(fileno(f), &st) != 0) fail(std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("it is a directory");
    // The header: read the prefix, then exactly the length it announces (bounded above).
    std::string head(12, '\0');
    const std::size_t got = std::fread(head.data(), 1, head.size(), f);
    head.resize(got);
    std::size_t need = head.size();
    if (got >= 8 && head.compare(0, kMagicLen, kMagic, kMagicLen) == 0) {
      const int major = static_cast<unsigned char>(head[6]);
      const int len_bytes = major == 1 ? 2 : 4;
      if (got >= static_cast<std::size_t>(8 + len_bytes)) {
        const std::uint32_t hlen = read_le(head, 8, len_bytes);
        need = 8 + static_cast<std::size_t>(len_bytes) +
               std::min<std::size_t>(hlen, kMaxHeaderBytes + 1);
      }
    }
    if (need > head.size()) {
      const std::size_t old = head.size();
      head.resize(need);
      head.resize(old + std::fread(head.data() + old, 1, need - old, f));
    }
    const Header h = parse_header(head);
    const std::uint64_t file_size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (S_ISREG(st.st_mode)) {
      const std::uint64_t have = file_size - h.data_offset;
      if (file_size < h.data_offset || have < h.data_bytes)
        fail(fmt::format("data is truncated: shape {} of {} needs {} bytes, the file has {}",
                         shape_text(h.shape), dtype_name(h.dtype), h.data_bytes,
                         file_size < h.data_offset ? 0 : have));
      if (have > h.data_bytes)
        fail(fmt::format("file has {} bytes after the data of shape {} of {} (size mismatch)",
                         have - h.data_bytes, shape_text(h.shape), dtype_name(h.dtype)));
    }
    Array raw = Array::empty(h.dtype, storage_shape(h));
    if (std::fseek(f, static_cast<long>(h.data_offset), SEEK_SET) != 0) fail(std::strerror(errno));
    const std::size_t read = h.data_bytes ? std::fread(raw.data(), 1, h.data_bytes, f) : 0;
    if (read != h.data_bytes)
      fail(fmt::format("data is truncated: shape {} of {} needs {} bytes, the file has {}",
                       shape_text(h.shape), dtype_name(h.dtype), h.data_bytes, read));
    if (!S_ISREG(st.st_mode) && std::fgetc(f) != EOF)
      fail(fmt::format("file has bytes after the data of shape {} of {} (size mismatch)",
                       shape_text(h.shape), dtype_name(h.dtype)));
    return finish(std::move(raw), h);
  } catch (const Error &e) {
    throw Error(e.kind() == ErrorKind::Limit ? ErrorKind::Limit : ErrorKind::Runtime,
                fmt::format("cannot load '{}': {}", path, e.message()));
  }
}

void save(const std::string &path, const Array &a) {
  try {
    const std::string bytes = encode(a);
    std::random_device rd;
    const std::string tmp = fmt::format("{}.tmp{:08x}", path, rd());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) fail(std::strerror(errno));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) {
        const int e = errno;
        std::remove(tmp.c_str());
        fail(std::strerror(e));
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      const int e = errno;
      std::remove(tmp.c_str());
      fail(std::strerror(e));
    }
  } catch (const Error &e) {
    throw Error(ErrorKind::Runtime, fmt::format("cannot save '{}': {}", path, e.message()));
  }
}

} // namespace xpr::npy
