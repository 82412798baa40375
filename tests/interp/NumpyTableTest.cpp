// tests/interp/NumpyTableTest.cpp — every elementwise op and cast on edge values, against the
// table generated once with NumPy (tests/interp/gen/gen_op_table.py; documented overrides inline).
#include "Helpers.h"

#include "support/Half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using namespace xpr;
using namespace xpr::test;

namespace {

struct Row {
  std::vector<std::string> args;
  std::string expected, note;
  int line = 0;
};
struct Group {
  std::string op;
  std::vector<DType> in;
  DType out;
  std::vector<Row> rows;
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> r;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      r.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  r.push_back(cur);
  return r;
}

DType dt(const std::string &s) {
  auto d = dtype_from_name(s);
  if (!d) throw std::runtime_error("bad dtype " + s);
  return *d;
}

std::map<std::string, Group> load_table() {
  std::ifstream f(std::string(XPR_TEST_DATA_DIR) + "/data/op_table.csv");
  if (!f) throw std::runtime_error("cannot open op_table.csv");
  std::map<std::string, Group> groups;
  std::string line;
  int ln = 0;
  while (std::getline(f, line)) {
    ++ln;
    if (line.empty() || line[0] == '#' || line.rfind("op,", 0) == 0) continue;
    auto c = split(line, ',');
    if (c.size() != 8) throw std::runtime_error("bad row " + std::to_string(ln));
    const std::string key = c[0] + " " + c[1] + " -> " + c[2];
    Group &g = groups[key];
    g.op = c[0];
    g.in.clear();
    for (auto &t : split(c[1], '|'))
      g.in.push_back(dt(t));
    g.out = dt(c[2]);
    Row r;
    for (std::size_t i = 0; i < g.in.size(); ++i)
      r.args.push_back(c[3 + i]);
    r.expected = c[6];
    r.note = c[7];
    r.line = ln;
    g.rows.push_back(std::move(r));
  }
  return groups;
}

/// Writes the textual value `s` as element k of a contiguous array of dtype t (independent of the
/// interpreter's own conversions; the half encodings are exact for the table's values).
void put(Array &a, std::int64_t k, const std::string &s) {
  char *p = static_cast<char *>(a.data()) + k * dtype_size(a.dtype());
  auto w = [&](auto v) { std::memcpy(p, &v, sizeof v); };
  switch (a.dtype()) {
  case DType::Bool:
    w(static_cast<std::uint8_t>(s == "1"));
    break;
  case DType::I8:
    w(static_cast<std::int8_t>(std::stoll(s)));
    break;
  case DType::I16:
    w(static_cast<std::int16_t>(std::stoll(s)));
    break;
  case DType::I32:
    w(static_cast<std::int32_t>(std::stoll(s)));
    break;
  case DType::I64:
    w(static_cast<std::int64_t>(std::stoll(s)));
    break;
  case DType::U8:
    w(static_cast<std::uint8_t>(std::stoull(s)));
    break;
  case DType::U16:
    w(static_cast<std::uint16_t>(std::stoull(s)));
    break;
  case DType::U32:
    w(static_cast<std::uint32_t>(std::stoull(s)));
    break;
  case DType::U64:
    w(static_cast<std::uint64_t>(std::stoull(s)));
    break;
  case DType::F16:
    w(half::f64_to_f16(std::strtod(s.c_str(), nullptr)));
    break;
  case DType::BF16:
    w(half::f64_to_bf16(std::strtod(s.c_str(), nullptr)));
    break;
  case DType::F32:
    w(static_cast<float>(std::strtod(s.c_str(), nullptr)));
    break;
  case DType::F64:
    w(std::strtod(s.c_str(), nullptr));
    break;
  }
}

/// Element k as text in the table's notation, or as a double for float dtypes.
std::string get_int(const Array &a, std::int64_t k) {
  const char *p = static_cast<const char *>(a.data()) + k * dtype_size(a.dtype());
  auto r = [&](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (a.dtype()) {
  case DType::Bool:
    return r(std::uint8_t{}) ? "1" : "0";
  case DType::I8:
    return std::to_string(r(std::int8_t{}));
  case DType::I16:
    return std::to_string(r(std::int16_t{}));
  case DType::I32:
    return std::to_string(r(std::int32_t{}));
  case DType::I64:
    return std::to_string(r(std::int64_t{}));
  case DType::U8:
    return std::to_string(r(std::uint8_t{}));
  case DType::U16:
    return std::to_string(r(std::uint16_t{}));
  case DType::U32:
    return std::to_string(r(std::uint32_t{}));
  case DType::U64:
    return std::to_string(r(std::uint64_t{}));
  default:
    return "?";
  }
}
double get_float(const Array &a, std::int64_t k) {
  const char *p = static_cast<const char *>(a.data()) + k * dtype_size(a.dtype());
  std::uint16_t h;
  float f;
  double d;
  switch (a.dtype()) {
  case DType::F16:
    std::memcpy(&h, p, 2);
    return half::f16_to_f32(h);
  case DType::BF16:
    std::memcpy(&h, p, 2);
    return half::bf16_to_f32(h);
  case DType::F32:
    std::memcpy(&f, p, 4);
    return f;
  default:
    std::memcpy(&d, p, 8);
    return d;
  }
}

/// Distance in units in the last place of dtype t between two finite or infinite values.
std::int64_t ulp_distance(double x, double y, DType t) {
  auto ord = [&](double v) -> std::int64_t {
    std::int64_t b;
    if (t == DType::F64)
      b = std::bit_cast<std::int64_t>(v);
    else if (t == DType::F32)
      b = std::bit_cast<std::int32_t>(static_cast<float>(v));
    else if (t == DType::F16)
      b = static_cast<std::int16_t>(half::f64_to_f16(v));
    else
      b = static_cast<std::int16_t>(half::f64_to_bf16(v));
    const std::int64_t sign_min = t == DType::F64   ? INT64_MIN
                                  : t == DType::F32 ? INT32_MIN
                                                    : INT16_MIN;
    return b < 0 ? sign_min - b : b;
  };
  const std::int64_t a = ord(x), b = ord(y);
  return a > b ? a - b : b - a;
}

/// Allowed error of a function, in ULP of its result dtype. Exact ops (arithmetic, sqrt,
/// rounding, casts, comparisons...) are absent: they must match bit for bit. The float functions
/// differ because the interpreter uses glibc (expf for f32) and NumPy 1.24 on this AVX-512 machine
/// uses SVML/its own SIMD kernels (documented ≤4 ULP) — so the bound is theirs plus ours.
int tolerance(const std::string &op, DType out) {
  static const std::map<std::string, int> ulps = {
      {"cbrt", 4},  {"exp", 4},   {"exp2", 4}, {"expm1", 4}, {"log", 4},  {"log2", 4},
      {"log10", 4}, {"log1p", 4}, {"sin", 4},  {"cos", 4},   {"tan", 4},  {"asin", 4},
      {"acos", 4},  {"atan", 4},  {"sinh", 4}, {"cosh", 4},  {"tanh", 4}, {"asinh", 4},
      {"acosh", 4}, {"atanh", 4}, {"erf", 4},  {"erfc", 4},  {"ncdf", 4}, {"atan2", 4},
      {"hypot", 2}, {"pow", 4},
  };
  auto it = ulps.find(op);
  if (it == ulps.end() || !is_float(out)) return 0;
  return is_half(out) ? 1 : it->second;
}

ir::Op op_of(const std::string &name) {
  ir::Op o;
  if (!ir::op_from_name(name, o)) throw std::runtime_error("unknown op " + name);
  return o;
}

} // namespace

TEST(NumpyTable, EveryOpEveryDtype) {
  auto groups = load_table();
  ASSERT_GT(groups.size(), 300u); // the table covers ~every op × dtype
  std::map<std::string, int> ops_seen;
  std::size_t checked = 0;
  for (auto &[key, grp] : groups) {
    SCOPED_TRACE(key);
    const std::int64_t n = static_cast<std::int64_t>(grp.rows.size());
    ir::Graph g;
    std::vector<ir::ValueId> ins;
    std::map<std::string, Array> arrays;
    const char *names[] = {"a", "b", "c"};
    for (std::size_t i = 0; i < grp.in.size(); ++i) {
      ins.push_back(input(g, names[i], type(grp.in[i], {S("n")})));
      Array arr = Array::empty(grp.in[i], {n});
      for (std::int64_t k = 0; k < n; ++k)
        put(arr, k, grp.rows[static_cast<std::size_t>(k)].args[i]);
      arrays[names[i]] = arr;
    }
    output(g, op(g, op_of(grp.op), type(grp.out, {S("n")}), ins));
    auto res = ir::interpret(g, arrays, {});
    ASSERT_EQ(res.size(), 1u);
    ASSERT_EQ(res[0].dtype(), grp.out);
    ASSERT_EQ(res[0].shape(), std::vector<std::int64_t>{n});
    const int tol = tolerance(grp.op, grp.out);
    ++ops_seen[grp.op];
    for (std::int64_t k = 0; k < n; ++k) {
      const Row &row = grp.rows[static_cast<std::size_t>(k)];
      std::string args;
      for (auto &a : row.args)
        args += a + " ";
      SCOPED_TRACE("line " + std::to_string(row.line) + ": args " + args + row.note);
      ++checked;
      if (!is_float(grp.out)) {
        EXPECT_EQ(get_int(res[0], k), row.expected);
        continue;
      }
      const double got = get_float(res[0], k);
      const double want = std::strtod(row.expected.c_str(), nullptr);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << "got " << got;
      } else if (tol == 0 || std::isinf(want)) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(want))
            << "got " << got << " want " << want;
      } else {
        EXPECT_LE(ulp_distance(got, want, grp.out), tol) << "got " << got << " want " << want;
      }
    }
  }
  // Every non-leaf, non-reduction op of Ops.def appears in the table.
  for (int i = 0; i < ir::kNumOps; ++i) {
    const ir::Op o = static_cast<ir::Op>(i);
    if (ir::op_kind(o) == ir::OpKind::Elementwise || ir::op_kind(o) == ir::OpKind::Cast)
      EXPECT_TRUE(ops_seen.count(std::string(ir::op_name(o)))) << ir::op_name(o) << " untested";
  }
  EXPECT_GT(checked, 30000u);
}
