// tools/xpr/Print.cpp — a port of NumPy's arrayprint (FloatingFormat, IntegerFormat,
// BoolFormat, _formatArray, array_repr) for the default print options.
#include "tools/xpr/Print.h"

#include "support/Half.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace xpr::print {

namespace {

/// A finite float's shortest round-trip decimal: value = (neg ? -1 : 1) * d[0].d[1..] * 10^exp.
struct Digits {
  bool neg = false;
  std::string d; // no leading or trailing zeros, except "0" for zero
  int exp = 0;
};

Digits parse_sci(std::string_view s) {
  Digits r;
  std::size_t i = 0;
  if (s[i] == '-') {
    r.neg = true;
    ++i;
  }
  for (; i < s.size() && s[i] != 'e'; ++i)
    if (s[i] != '.') r.d += s[i];
  r.exp = std::atoi(std::string(s.substr(i + 1)).c_str());
  while (r.d.size() > 1 && r.d.back() == '0') r.d.pop_back();
  return r;
}

std::string sci(double v, int precision) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, precision);
  return std::string(buf, res.ptr);
}

/// Does the decimal string `s` round to the same `t` value as `v`?
bool round_trips(const std::string &s, double v, DType t) {
  const double back = std::strtod(s.c_str(), nullptr);
  if (t == DType::F16) return half::f64_to_f16(back) == half::f64_to_f16(v);
  return half::f64_to_bf16(back) == half::f64_to_bf16(v);
}

Digits shortest_digits(double v, DType t) {
  char buf[64];
  if (t == DType::F64) {
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    return parse_sci(std::string_view(buf, res.ptr));
  }
  if (t == DType::F32) {
    auto res =
        std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), std::chars_format::scientific);
    return parse_sci(std::string_view(buf, res.ptr));
  }
  // Halves: the fewest significant digits that read back as the same half.
  for (int p = 0; p < 17; ++p) {
    std::string s = sci(v, p);
    if (round_trips(s, v, t)) return parse_sci(s);
  }
  return parse_sci(sci(v, 17));
}

/// Integer and fraction parts of a positional rendering, unique digits capped at `precision`.
std::pair<std::string, std::string> positional(double v, DType t, int precision) {
  Digits g = shortest_digits(v, t);
  const int frac_needed = std::max(0, static_cast<int>(g.d.size()) - 1 - g.exp);
  std::string ip, fp;
  if (frac_needed > precision) {
    // More digits than the cap: round the exact binary value, then drop trailing zeros.
    char buf[400];
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
    std::string s(buf, res.ptr);
    const std::size_t dot = s.find('.');
    ip = s.substr(0, dot);
    fp = dot == std::string::npos ? "" : s.substr(dot + 1);
    while (!fp.empty() && fp.back() == '0') fp.pop_back();
    return {ip, fp};
  }
  if (g.exp >= 0) {
    const auto n_int = static_cast<std::size_t>(g.exp) + 1;
    ip = g.d.substr(0, std::min(n_int, g.d.size()));
    if (g.d.size() < n_int) ip.append(n_int - g.d.size(), '0');
    fp = g.d.size() > n_int ? g.d.substr(n_int) : "";
  } else {
    ip = "0";
    fp = std::string(static_cast<std::size_t>(-g.exp - 1), '0') + g.d;
    if (g.d == "0") fp.clear();
  }
  if (g.neg) ip = "-" + ip;
  return {ip, fp};
}

struct SciParts {
  std::string ip, fp;
  int exp = 0;
};

SciParts scientific(double v, DType t, int precision) {
  Digits g = shortest_digits(v, t);
  if (static_cast<int>(g.d.size()) - 1 > precision) g = parse_sci(sci(v, precision));
  SciParts p;
  p.ip = (g.neg ? "-" : "") + g.d.substr(0, 1);
  p.fp = g.d.size() > 1 ? g.d.substr(1) : "";
  p.exp = g.exp;
  return p;
}

std::string exp_text(int e, int digits) {
  return fmt::format("{}{:0{}d}", e < 0 ? '-' : '+', std::abs(e), digits);
}

int exp_digits(int e) { return std::max(2, static_cast<int>(std::to_string(std::abs(e)).size())); }

/// Reads element `off` (in elements from data()) of dtype `t` as a double.
double load_float(const void *p, DType t) {
  switch (t) {
  case DType::F16: return half::f16_to_f64(*static_cast<const std::uint16_t *>(p));
  case DType::BF16: return half::bf16_to_f64(*static_cast<const std::uint16_t *>(p));
  case DType::F32: return *static_cast<const float *>(p);
  default: return *static_cast<const double *>(p);
  }
}

std::int64_t load_int(const void *p, DType t) {
  switch (t) {
  case DType::I8: return *static_cast<const std::int8_t *>(p);
  case DType::I16: return *static_cast<const std::int16_t *>(p);
  case DType::I32: return *static_cast<const std::int32_t *>(p);
  case DType::I64: return *static_cast<const std::int64_t *>(p);
  case DType::U8: return *static_cast<const std::uint8_t *>(p);
  case DType::U16: return *static_cast<const std::uint16_t *>(p);
  case DType::U32: return *static_cast<const std::uint32_t *>(p);
  default: return 0;
  }
}

std::string int_text(const void *p, DType t) {
  if (t == DType::U64) return std::to_string(*static_cast<const std::uint64_t *>(p));
  return std::to_string(load_int(p, t));
}

/// The element formatter of one array: NumPy's FloatingFormat / IntegerFormat / BoolFormat,
/// filled from the elements that will be printed.
class Formatter {
public:
  Formatter(const Array &a, const std::vector<const void *> &shown, int precision)
      : t_(a.dtype()), precision_(precision), zero_d_(a.rank() == 0) {
    if (is_float(t_)) fill_float(shown);
    else if (!is_bool(t_))
      for (const void *p : shown) width_ = std::max(width_, int_text(p, t_).size());
  }

  std::string operator()(const void *p) const {
    if (is_bool(t_)) {
      const bool b = *static_cast<const unsigned char *>(p) != 0;
      return b ? (zero_d_ ? "True" : " True") : "False";
    }
    if (!is_float(t_)) {
      std::string s = int_text(p, t_);
      return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
    }
    const double v = load_float(p, t_);
    if (!std::isfinite(v)) {
      const std::string s = std::isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf");
      const int w = pad_left_ + pad_right_ + 1;
      return std::string(static_cast<std::size_t>(std::max(0, w - static_cast<int>(s.size()))), ' ') + s;
    }
    std::string ip, fp, tail;
    if (exp_format_) {
      SciParts sp = scientific(v, t_, precision_);
      if (static_cast<int>(sp.fp.size()) < frac_digits_) {
        // NumPy's min_digits: the further digits are those of the exact binary value, not zeros.
        const Digits g = parse_sci(sci(v, frac_digits_));
        sp.ip = (g.neg ? "-" : "") + g.d.substr(0, 1);
        sp.fp = g.d.size() > 1 ? g.d.substr(1) : "";
        sp.exp = g.exp;
      }
      ip = sp.ip;
      fp = sp.fp;
      fp.append(static_cast<std::size_t>(std::max(0, frac_digits_ - static_cast<int>(fp.size()))), '0');
      tail = "e" + exp_text(sp.exp, exp_size_);
    } else {
      std::tie(ip, fp) = positional(v, t_, precision_);
    }
    std::string s(static_cast<std::size_t>(std::max(0, pad_left_ - static_cast<int>(ip.size()))), ' ');
    s += ip + "." + fp + tail;
    if (!exp_format_)
      s.append(static_cast<std::size_t>(std::max(0, pad_right_ - static_cast<int>(fp.size()))), ' ');
    return s;
  }

private:
  void fill_float(const std::vector<const void *> &shown) {
    std::vector<double> finite;
    bool any_nonfinite = false, neginf = false;
    for (const void *p : shown) {
      const double v = load_float(p, t_);
      if (std::isfinite(v)) finite.push_back(v);
      else {
        any_nonfinite = true;
        neginf = neginf || (std::isinf(v) && v < 0);
      }
    }
    double maxv = 0, minv = INFINITY;
    bool any_nonzero = false;
    for (double v : finite) {
      if (v == 0) continue;
      any_nonzero = true;
      maxv = std::max(maxv, std::fabs(v));
      minv = std::min(minv, std::fabs(v));
    }
    // NumPy compares in the array's own dtype; the ratio test overflows to inf harmlessly.
    if (any_nonzero && (maxv >= 1e8 || minv < 0.0001 || maxv / minv > 1000.0)) exp_format_ = true;
    if (finite.empty()) {
      pad_left_ = pad_right_ = 0;
    } else if (exp_format_) {
      int maxfrac = 0, maxexp = 2;
      for (double v : finite) {
        SciParts sp = scientific(v, t_, precision_);
        pad_left_ = std::max(pad_left_, static_cast<int>(sp.ip.size()));
        maxfrac = std::max(maxfrac, static_cast<int>(sp.fp.size()));
        maxexp = std::max(maxexp, exp_digits(sp.exp));
      }
      frac_digits_ = maxfrac;
      exp_size_ = maxexp;
      pad_right_ = exp_size_ + 2 + frac_digits_;
    } else {
      for (double v : finite) {
        auto [ip, fp] = positional(v, t_, precision_);
        pad_left_ = std::max(pad_left_, static_cast<int>(ip.size()));
        pad_right_ = std::max(pad_right_, static_cast<int>(fp.size()));
      }
    }
    if (any_nonfinite) {
      const int offset = pad_right_ + 1;
      pad_left_ = std::max({pad_left_, 3 - offset, 3 + (neginf ? 1 : 0) - offset});
    }
  }

  DType t_;
  int precision_;
  bool zero_d_;
  std::size_t width_ = 0; // integers
  bool exp_format_ = false;
  int pad_left_ = 0, pad_right_ = 0, frac_digits_ = 0, exp_size_ = 2;
};

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void extend_line(std::string &s, std::string &line, const std::string &word, std::size_t width,
                 const std::string &next_prefix) {
  bool wrap = line.size() + word.size() > width;
  if (line.size() <= next_prefix.size()) wrap = false; // wrapping would not help
  if (wrap) {
    s += rstrip(line) + "\n";
    line = next_prefix;
  }
  line += word;
}

class Printer {
public:
  Printer(const Array &a, const Options &o) : a_(a), o_(o) {
    summarize_ = a.size() > o.threshold;
    std::vector<std::int64_t> idx;
    std::vector<const void *> shown;
    collect(idx, shown);
    fmt_.emplace(a, shown, o.precision);
  }

  std::string format(const std::string &prefix_indent, int width) {
    std::vector<std::int64_t> idx;
    return recurse(idx, prefix_indent, width);
  }

private:
  const void *ptr(const std::vector<std::int64_t> &idx) const {
    std::int64_t off = 0;
    for (std::size_t i = 0; i < idx.size(); ++i) off += idx[i] * a_.strides()[i];
    return static_cast<const char *>(a_.data()) + off * dtype_size(a_.dtype());
  }

  bool summarized_axis(std::int64_t n) const { return summarize_ && 2 * o_.edgeitems < n; }

  void collect(std::vector<std::int64_t> &idx, std::vector<const void *> &out) const {
    if (idx.size() == static_cast<std::size_t>(a_.rank())) {
      out.push_back(ptr(idx));
      return;
    }
    const std::int64_t n = a_.shape()[idx.size()];
    idx.push_back(0);
    for (std::int64_t i = 0; i < n; ++i) {
      if (summarized_axis(n) && i == o_.edgeitems) i = n - o_.edgeitems;
      idx.back() = i;
      collect(idx, out);
    }
    idx.pop_back();
  }

  std::string recurse(std::vector<std::int64_t> &idx, const std::string &hanging, int width) {
    const std::size_t axis = idx.size();
    const int axes_left = a_.rank() - static_cast<int>(axis);
    if (axes_left == 0) return (*fmt_)(ptr(idx));
    const std::string next_hanging = hanging + " ";
    const int next_width = width - 1;
    const std::int64_t n = a_.shape()[axis];
    const bool summary = summarized_axis(n);
    const std::int64_t leading = summary ? o_.edgeitems : 0;
    const std::int64_t trailing = summary ? o_.edgeitems : n;
    auto sub = [&](std::int64_t i) {
      idx.push_back(i);
      std::string r = recurse(idx, next_hanging, next_width);
      idx.pop_back();
      return r;
    };
    std::string s;
    if (axes_left == 1) {
      const auto elem_width = static_cast<std::size_t>(width - 1); // room for ',' or ']'
      std::string line = hanging;
      for (std::int64_t i = 0; i < leading; ++i) {
        extend_line(s, line, sub(i), elem_width, hanging);
        line += ", ";
      }
      if (summary) {
        extend_line(s, line, "...", elem_width, hanging);
        line += ", ";
      }
      for (std::int64_t i = trailing; i > 1; --i) {
        extend_line(s, line, sub(n - i), elem_width, hanging);
        line += ", ";
      }
      extend_line(s, line, sub(n - 1), elem_width, hanging);
      s += line;
    } else {
      const std::string sep = "," + std::string(static_cast<std::size_t>(axes_left - 1), '\n');
      for (std::int64_t i = 0; i < leading; ++i) s += hanging + sub(i) + sep;
      if (summary) s += hanging + "..." + sep;
      for (std::int64_t i = trailing; i > 1; --i) s += hanging + sub(n - i) + sep;
      s += hanging + sub(n - 1);
    }
    return "[" + s.substr(hanging.size()) + "]";
  }

  const Array &a_;
  const Options &o_;
  bool summarize_ = false;
  std::optional<Formatter> fmt_;
};

std::string shape_tuple(const std::vector<std::int64_t> &shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

} // namespace

std::string numpy_dtype_name(DType t) {
  switch (t) {
  case DType::Bool: return "bool";
  case DType::I8: return "int8";
  case DType::I16: return "int16";
  case DType::I32: return "int32";
  case DType::I64: return "int64";
  case DType::U8: return "uint8";
  case DType::U16: return "uint16";
  case DType::U32: return "uint32";
  case DType::U64: return "uint64";
  case DType::F16: return "float16";
  case DType::BF16: return "bfloat16";
  case DType::F32: return "float32";
  case DType::F64: return "float64";
  }
  return "?";
}

std::string type_text(DType t, const std::vector<std::int64_t> &shape) {
  std::string s = std::string(dtype_name(t)) + "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string shortest(double v, DType t) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  auto [ip, fp] = positional(v, t, 17);
  return ip + "." + fp;
}

std::string repr(const Array &a, const Options &o) {
  if (!a.valid()) throw Error(ErrorKind::Internal, "repr of an invalid array");
  const std::string prefix = "array(";
  std::string body;
  if (a.size() == 0) {
    body = "[]";
  } else {
    Printer p(a, o);
    // The first line's indent is taken by "array(" and '['; ")" must fit after the last line.
    body = p.format(std::string(prefix.size() + 1, ' '), o.linewidth - 1);
  }
  std::vector<std::string> extras;
  const bool implied = a.dtype() == DType::F64 || a.dtype() == DType::I64 || a.dtype() == DType::Bool;
  if ((a.size() == 0 && !(a.rank() == 1)) || a.size() > o.threshold)
    extras.push_back("shape=" + shape_tuple(a.shape()));
  if (!implied || a.size() == 0) extras.push_back("dtype=" + numpy_dtype_name(a.dtype()));
  if (extras.empty()) return prefix + body + ")";
  std::string arr = prefix + body + ",";
  std::string extra;
  for (std::size_t i = 0; i < extras.size(); ++i) extra += (i ? ", " : "") + extras[i];
  extra += ")";
  const std::size_t nl = arr.rfind('\n');
  const std::size_t last_len = nl == std::string::npos ? arr.size() : arr.size() - (nl + 1);
  const std::string spacer = last_len + extra.size() + 1 > static_cast<std::size_t>(o.linewidth)
                                 ? "\n" + std::string(prefix.size(), ' ')
                                 : " ";
  return arr + spacer + extra;
}

} // namespace xpr::print
