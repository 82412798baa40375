// tests/aot/AotTest.cpp — xprc and libxpr_rt against the JIT: bit-for-bit results (in process,
// through objects xpr_add_kernels linked into this test, and through C/C++ programs built with
// plain cc/c++), the runtime's error codes, linking without LLVM, and xprc's diagnostics.
#include <unistd.h>
#include "mix.h"
#include "scale.h"

#include <xpr/xpr.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a shell command; returns its exit status and its stdout+stderr.
std::pair<int, std::string> sh(const std::string &cmd) {
  std::string out;
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::uint16_t f16_bits(float f) {
  // Values used here are exact in f16: build the bits from the f32 pattern (no rounding needed).
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  const int e = static_cast<int>((b >> 23) & 0xff) - 127 + 15;
  if ((b & 0x7fffffffu) == 0) return static_cast<std::uint16_t>(sign);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(e) << 10) | ((b >> 13) & 0x3ffu));
}

template <class T> bool same_bits(const std::vector<T> &a, const std::vector<T> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// ---- in process: mix.xpr and scale.xpr, compiled by xprc at build time ----

struct MixData {
  std::int64_t m = 0, n = 0;
  std::vector<float> a, b;
  std::vector<std::uint16_t> h;
  double c = 1.5;
  float p = 0.75f;
  std::int8_t q = 7;
  bool flag = true;
  float hp = 0.5f;
  MixData(std::int64_t m_, std::int64_t n_) : m(m_), n(n_), a(m_ * n_), b(n_), h(m_ * n_) {
    std::uint32_t s = 99;
    auto next = [&] {
      s = s * 1664525u + 1013904223u;
      return static_cast<float>(s >> 8) / 16777216.0f;
    };
    for (auto &x : a) x = 6.0f * next() - 3.0f;
    for (auto &x : b) x = 2.0f * next() - 1.0f;
    for (auto &x : h) x = f16_bits(static_cast<float>(static_cast<int>(next() * 64) - 32) / 8.0f);
  }
};

struct MixOut {
  std::vector<float> y;
  std::vector<std::int32_t> u;
  double d = 0;
};

MixOut jit_mix(const MixData &D) {
  xpr::Options opts;
  opts.threads = 2;
  xpr::Context ctx(opts);
  xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/mix.xpr"));
  auto &a = const_cast<MixData &>(D);
  xpr::Outputs out = prog.run(
      {{"a", xpr::view(a.a.data(), xpr::f32, {D.m, D.n})},
       {"b", xpr::view(a.b.data(), xpr::f32, {D.n})},
       {"h", xpr::view(a.h.data(), xpr::f16, {D.m, D.n})},
       {"c", xpr::view(&a.c, xpr::f64, {})}},
      {{"p", D.p}, {"q", static_cast<int>(D.q)}, {"flag", D.flag}, {"hp", D.hp}});
  MixOut r;
  const xpr::Array &y = out.at("y"), &u = out.at("u"), &d = out.at("d");
  r.y.assign(y.data_as<float>(), y.data_as<float>() + y.size());
  r.u.assign(u.data_as<std::int32_t>(), u.data_as<std::int32_t>() + u.size());
  r.d = *d.data_as<double>();
  return r;
}

TEST(AotInProcess, ContiguousMatchesJitBitForBit) {
  MixData D(123, 517); // 63591 elements: above libxpr_rt's serial threshold
  MixOut J = jit_mix(D);
  MixOut A{std::vector<float>(D.a.size()), std::vector<std::int32_t>(D.a.size()), 0};
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, A.y.data(), nullptr, A.u.data(), nullptr, &A.d,
                nullptr),
            XPR_RT_OK)
      << xpr_rt_last_error();
  EXPECT_TRUE(same_bits(A.y, J.y));
  EXPECT_TRUE(same_bits(A.u, J.u));
  EXPECT_EQ(std::memcmp(&A.d, &J.d, sizeof(double)), 0);
  EXPECT_EQ(A.d, 1.5 * 2.0 + 7.0);
  // flag = false takes the other branch of where(): a param of dtype bool reaches the kernel.
  MixData E = D;
  E.flag = false;
  MixOut J2 = jit_mix(E);
  ASSERT_EQ(mix(E.m, E.n, E.a.data(), nullptr, E.b.data(), nullptr, E.h.data(), nullptr, &E.c,
                nullptr, E.p, E.q, E.flag, E.hp, A.y.data(), nullptr, A.u.data(), nullptr, &A.d,
                nullptr),
            XPR_RT_OK);
  EXPECT_TRUE(same_bits(A.y, J2.y));
  EXPECT_FALSE(same_bits(J.y, J2.y));
}

TEST(AotInProcess, StridedAndNegativeStridesMatchJit) {
  MixData D(37, 301);
  MixOut J = jit_mix(D);
  // a stored transposed (column-major), b reversed through a negative stride, outputs strided.
  std::vector<float> at(D.a.size());
  for (std::int64_t i = 0; i < D.m; ++i)
    for (std::int64_t j = 0; j < D.n; ++j) at[j * D.m + i] = D.a[i * D.n + j];
  std::vector<float> brev(D.b.rbegin(), D.b.rend());
  const std::int64_t a_st[2] = {1, D.m}, b_st[1] = {-1}, y_st[2] = {1, D.m};
  std::vector<float> yt(D.a.size());
  std::vector<std::int32_t> u(D.a.size());
  double d = 0;
  ASSERT_EQ(mix(D.m, D.n, at.data(), a_st, brev.data() + D.n - 1, b_st, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, yt.data(), y_st, u.data(), nullptr, &d, nullptr),
            XPR_RT_OK)
      << xpr_rt_last_error();
  std::vector<float> y(D.a.size());
  for (std::int64_t i = 0; i < D.m; ++i)
    for (std::int64_t j = 0; j < D.n; ++j) y[i * D.n + j] = yt[j * D.m + i];
  EXPECT_TRUE(same_bits(y, J.y));
  EXPECT_TRUE(same_bits(u, J.u));
}

TEST(AotInProcess, ThreadCountsAndRangesGiveTheSameBits) {
  MixData D(200, 333);
  std::vector<float> y1(D.a.size()), y2(D.a.size()), y3(D.a.size());
  std::vector<std::int32_t> u1(D.a.size()), u2(D.a.size()), u3(D.a.size());
  double d1 = 0, d2 = 0, d3 = 0;
  const int before = xpr_rt_threads();
  xpr_rt_set_threads(1);
  EXPECT_EQ(xpr_rt_threads(), 1);
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, y1.data(), nullptr, u1.data(), nullptr, &d1, nullptr),
            XPR_RT_OK);
  xpr_rt_set_threads(3);
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, y2.data(), nullptr, u2.data(), nullptr, &d2, nullptr),
            XPR_RT_OK);
  xpr_rt_set_threads(before);
  // Two loops: [m, n] then the rank-0 one, so the work is m*n + 1.
  const std::int64_t work = mix_work(D.m, D.n);
  EXPECT_EQ(work, D.m * D.n + 1);
  for (std::int64_t lo = 0; lo < work; lo += 4097)
    ASSERT_EQ(mix_range(lo, std::min(work, lo + 4097), D.m, D.n, D.a.data(), nullptr, D.b.data(),
                        nullptr, D.h.data(), nullptr, &D.c, nullptr, D.p, D.q, D.flag, D.hp,
                        y3.data(), nullptr, u3.data(), nullptr, &d3, nullptr),
              XPR_RT_OK);
  EXPECT_TRUE(same_bits(y1, y2));
  EXPECT_TRUE(same_bits(y1, y3));
  EXPECT_TRUE(same_bits(u1, u3));
  EXPECT_EQ(d1, d3);
  EXPECT_EQ(d1, d2);
}

TEST(AotInProcess, EmptyArraysAreFine) {
  float dummy = 0;
  EXPECT_EQ(scale(0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr), XPR_RT_OK);
  EXPECT_EQ(scale_work(0), 0);
  EXPECT_EQ(scale_range(0, 0, 0, &dummy, nullptr, &dummy, nullptr, &dummy, nullptr), XPR_RT_OK);
}

TEST(AotInProcess, ErrorCodesAndMessages) {
  std::vector<float> a(8, 1.0f), b(8, 2.0f), out(8);
  EXPECT_EQ(scale(8, nullptr, nullptr, b.data(), nullptr, out.data(), nullptr), XPR_RT_ENULL);
  EXPECT_STREQ(xpr_rt_last_error(), "input 'a' has 8 elements but its pointer is NULL");
  EXPECT_EQ(scale(-2, a.data(), nullptr, b.data(), nullptr, out.data(), nullptr), XPR_RT_ESHAPE);
  EXPECT_STREQ(xpr_rt_last_error(), "size n = -2: sizes must be >= 0");
  EXPECT_EQ(scale_work(-2), -1);
  float f = 0;
  double d = 0;
  std::uint16_t h = 0;
  const std::int64_t big = INT64_C(1) << 40;
  EXPECT_EQ(mix(big, big, &f, nullptr, &f, nullptr, &h, nullptr, &d, nullptr, 0.0f, 1, true, 0.0f,
                &f, nullptr, nullptr, nullptr, &d, nullptr),
            XPR_RT_ESHAPE);
  EXPECT_STREQ(xpr_rt_last_error(), "input 'a': the element count overflows");
}

TEST(AotInProcess, OverlapRules) {
  std::vector<float> a(16), b(16, 1.0f), ref(16);
  for (int i = 0; i < 16; ++i) a[static_cast<std::size_t>(i)] = static_cast<float>(i);
  for (int i = 0; i < 16; ++i) ref[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(i)] * 2.0f + 1.0f;
  // In place: the output is the very memory of input a, in the same layout.
  ASSERT_EQ(scale(16, a.data(), nullptr, b.data(), nullptr, a.data(), nullptr), XPR_RT_OK);
  EXPECT_EQ(a, ref);
  // Shifted by one element: an error, never silently wrong results.
  EXPECT_EQ(scale(15, a.data(), nullptr, b.data(), nullptr, a.data() + 1, nullptr), XPR_RT_EOVERLAP);
  EXPECT_STREQ(xpr_rt_last_error(),
               "output 'out' overlaps input 'a' (only the very same elements in the same layout "
               "may be shared, for in-place updates)");
  const std::int64_t zero[1] = {0};
  std::vector<float> o(16);
  EXPECT_EQ(scale(16, a.data(), nullptr, b.data(), nullptr, o.data(), zero), XPR_RT_EOVERLAP);
  EXPECT_STREQ(xpr_rt_last_error(),
               "output 'out' has a zero stride, so several of its elements share memory");
  EXPECT_EQ(scale_range(0, 17, 16, a.data(), nullptr, b.data(), nullptr, o.data(), nullptr),
            XPR_RT_ERANGE);
  EXPECT_STREQ(xpr_rt_last_error(), "range [0, 17) is not within [0, 16)");
  EXPECT_STREQ(xpr_rt_error_string(XPR_RT_EOVERLAP), "overlapping arrays");
}

// ---- xprc as a tool, and programs built with plain cc / c++ ----

class AotTool : public ::testing::Test {
protected:
  // One directory per test process: ctest runs each test case as its own process, in parallel,
  // and a shared directory let one case's SetUpTestSuite delete the programs another was using.
  static fs::path dir() {
    static const fs::path d = fs::path(XPR_AOT_WORK_DIR) / std::to_string(::getpid());
    return d;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir(), ec);
  }
  static std::string xprc() { return XPRC_PATH; }
  static std::string rt() { return XPR_RT_LIB; }
  static std::string ex(const std::string &f) { return std::string(XPR_AOT_EXAMPLES) + "/" + f; }
  static std::string link_flags() { return " -lsleef -lm -lpthread"; }

  static void SetUpTestSuite() {
    fs::remove_all(dir());
    fs::create_directories(dir());
    const std::string d = dir().string();
    built_ = false;
    auto run = [&](const std::string &cmd) {
      auto [rc, out] = sh(cmd);
      if (rc != 0) log_ += "FAILED (" + std::to_string(rc) + "): " + cmd + "\n" + out + "\n";
      return rc == 0;
    };
    built_ = run(xprc() + " " + ex("blackscholes.xpr") + " -o " + d + "/blackscholes.o --header " +
                 d + "/blackscholes.h") &&
             run(xprc() + " " + ex("grid.xpr") + " -o " + d + "/grid.o --header " + d + "/grid.h") &&
             run(std::string(XPR_CC) + " -std=c11 -O2 -Wall -Werror -I" + d + " " +
                 ex("blackscholes_c.c") + " " + d + "/blackscholes.o " + rt() + link_flags() +
                 " -o " + d + "/blackscholes_c") &&
             run(std::string(XPR_CXX) + " -std=c++17 -O2 -Wall -Werror -I" + d + " " +
                 ex("grid_cpp.cpp") + " " + d + "/grid.o " + rt() + link_flags() + " -o " + d +
                 "/grid_cpp");
  }
  void SetUp() override { ASSERT_TRUE(built_) << log_; }
  static bool built_;
  static std::string log_;
};
bool AotTool::built_ = false;
std::string AotTool::log_;

template <class T> std::vector<T> take(const std::string &bytes, std::size_t &off, std::size_t n) {
  std::vector<T> v(n);
  EXPECT_LE(off + n * sizeof(T), bytes.size());
  if (off + n * sizeof(T) <= bytes.size()) std::memcpy(v.data(), bytes.data() + off, n * sizeof(T));
  off += n * sizeof(T);
  return v;
}

TEST_F(AotTool, CProgramMatchesJitBitForBit) {
  const std::string out = (dir() / "bs.bin").string();
  auto [rc, text] = sh((dir() / "blackscholes_c").string() + " " + out + " 100003");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("error 2 (null pointer): input 'S' has 100003 elements but its pointer is NULL"),
            std::string::npos)
      << text;
  const std::string bytes = read_text(out);
  const std::size_t n = 100003;
  ASSERT_EQ(bytes.size(), 5 * n * sizeof(float));
  std::size_t off = 0;
  auto S = take<float>(bytes, off, n), K = take<float>(bytes, off, n), T = take<float>(bytes, off, n);
  auto call = take<float>(bytes, off, n), put = take<float>(bytes, off, n);
  xpr::Context ctx;
  xpr::Program prog = ctx.compile(read_text(ex("blackscholes.xpr")), "blackscholes.xpr");
  const auto N = static_cast<std::int64_t>(n);
  xpr::Outputs o = prog.run({{"S", xpr::view(S.data(), xpr::f32, {N})},
                             {"K", xpr::view(K.data(), xpr::f32, {N})},
                             {"T", xpr::view(T.data(), xpr::f32, {N})}},
                            {{"r", 0.05f}, {"v", 0.2f}});
  EXPECT_EQ(std::memcmp(o.at("call").data(), call.data(), n * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(o.at("put").data(), put.data(), n * sizeof(float)), 0);
}

TEST_F(AotTool, CppProgramMatchesJitBitForBit) {
  const std::string out = (dir() / "grid.bin").string();
  auto [rc, text] = sh((dir() / "grid_cpp").string() + " " + out + " 301 517");
  ASSERT_EQ(rc, 0) << text;
  const std::string bytes = read_text(out);
  const std::size_t m = 301, n = 517;
  std::size_t off = 0;
  auto x = take<double>(bytes, off, m * n);
  auto w = take<double>(bytes, off, n);
  auto k = take<std::int32_t>(bytes, off, m);
  auto y = take<double>(bytes, off, m * n);
  auto z = take<std::int32_t>(bytes, off, m);
  EXPECT_EQ(off, bytes.size());
  xpr::Context ctx;
  xpr::Program prog = ctx.compile(read_text(ex("grid.xpr")), "grid.xpr");
  const auto M = static_cast<std::int64_t>(m), N = static_cast<std::int64_t>(n);
  xpr::Outputs o = prog.run({{"x", xpr::view(x.data(), xpr::f64, {M, N})},
                             {"w", xpr::view(w.data(), xpr::f64, {N})},
                             {"k", xpr::view(k.data(), xpr::i32, {M, 1})}},
                            {{"s", 0.25}, {"shift", 3}});
  EXPECT_EQ(std::memcmp(o.at("y").data(), y.data(), m * n * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(o.at("z").data(), z.data(), m * sizeof(std::int32_t)), 0);
}

TEST_F(AotTool, ProgramsLinkWithoutLlvmOrMlir) {
  for (const char *prog : {"blackscholes_c", "grid_cpp"}) {
    auto [rc, deps] = sh("ldd " + (dir() / prog).string());
    ASSERT_EQ(rc, 0) << deps;
    EXPECT_EQ(deps.find("LLVM"), std::string::npos) << deps;
    EXPECT_EQ(deps.find("MLIR"), std::string::npos) << deps;
    EXPECT_NE(deps.find("libsleef"), std::string::npos) << deps;
    auto [rc2, syms] = sh("nm " + (dir() / prog).string());
    ASSERT_EQ(rc2, 0);
    EXPECT_EQ(syms.find("llvm"), std::string::npos);
    EXPECT_EQ(syms.find("mlir"), std::string::npos);
  }
  // The C program needs no C++ runtime either.
  auto [rc, deps] = sh("ldd " + (dir() / "blackscholes_c").string());
  EXPECT_EQ(deps.find("libstdc++"), std::string::npos) << deps;
  auto [rc3, undef] = sh("nm -u " + rt());
  ASSERT_EQ(rc3, 0);
  EXPECT_EQ(undef.find("llvm"), std::string::npos) << undef;
  EXPECT_EQ(undef.find("_Z"), std::string::npos) << undef; // no C++ symbols
}

TEST_F(AotTool, HeaderDocumentsTheSignature) {
  const std::string h = read_text((dir() / "blackscholes.h").string());
  EXPECT_NE(h.find(" *   S: f32[n]  ->  float *S, int64_t S_strides[1]\n"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   r: f32  ->  float r\n"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   call: f32[n]  ->  float *call, int64_t call_strides[1]\n"), std::string::npos);
  EXPECT_NE(h.find(" *   output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)\n"), std::string::npos);
  EXPECT_NE(h.find("int blackscholes(\n    int64_t n,\n    const float *S,\n    const int64_t *S_strides,"),
            std::string::npos);
  EXPECT_NE(h.find("int64_t blackscholes_work(\n    int64_t n);"), std::string::npos);
  EXPECT_NE(h.find("XPR_RT_EOVERLAP = 3"), std::string::npos);
}

TEST_F(AotTool, StaticLibraryLinksAlone) {
  const std::string d = dir().string();
  auto [rc, out] = sh(xprc() + " " + ex("blackscholes.xpr") + " --static-lib " + d +
                      "/libbs.a --header " + d + "/lib_bs/blackscholes.h --name blackscholes");
  // The header's directory does not exist: a clear error, exit 1.
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("cannot write"), std::string::npos) << out;
  fs::create_directories(dir() / "lib_bs");
  std::tie(rc, out) = sh(xprc() + " " + ex("blackscholes.xpr") + " --static-lib " + d +
                         "/libbs.a --header " + d + "/lib_bs/blackscholes.h");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(std::string(XPR_CC) + " -std=c11 -O2 -I" + d + "/lib_bs " +
                         ex("blackscholes_c.c") + " " + d + "/libbs.a" + link_flags() + " -o " + d +
                         "/bs_static");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(d + "/bs_static " + d + "/bs_static.bin 5000");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(d + "/blackscholes_c " + d + "/bs_obj.bin 5000");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(read_text(d + "/bs_static.bin"), read_text(d + "/bs_obj.bin"));
}

TEST_F(AotTool, TargetsSetTheVectorWidth) {
  auto [rc2, v2] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v2");
  ASSERT_EQ(rc2, 0) << v2;
  EXPECT_NE(v2.find("xmm"), std::string::npos);
  EXPECT_EQ(v2.find("ymm"), std::string::npos);
  EXPECT_EQ(v2.find("zmm"), std::string::npos);
  auto [rc3, v3] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v3");
  ASSERT_EQ(rc3, 0);
  EXPECT_NE(v3.find("ymm"), std::string::npos);
  EXPECT_EQ(v3.find("zmm"), std::string::npos);
  EXPECT_NE(v3.find("Sleef_expf8_u10"), std::string::npos);
  auto [rc4, v4] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v4");
  ASSERT_EQ(rc4, 0);
  EXPECT_NE(v4.find("zmm"), std::string::npos);
  EXPECT_NE(v4.find("Sleef_expf16_u10"), std::string::npos);
  // A v2 object links and runs anywhere x86-64-v2 does; its results stay close to the JIT's.
  const std::string d = dir().string();
  auto [rc, out] = sh(xprc() + " " + ex("blackscholes.xpr") + " --target x86-64-v2 -o " + d +
                      "/bs_v2.o --header " + d + "/blackscholes.h && " + XPR_CC + " -std=c11 -I" + d +
                      " " + ex("blackscholes_c.c") + " " + d + "/bs_v2.o " + rt() + link_flags() +
                      " -o " + d + "/bs_v2 && " + d + "/bs_v2");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("call[0] = 2.398391"), std::string::npos) << out;
}

TEST_F(AotTool, ReductionsAreRejectedClearly) {
  const std::string f = (dir() / "red.xpr").string();
  std::ofstream(f) << "input a: f32[n]\noutput s = sum(a * 2.0)\n";
  auto [rc, out] = sh(xprc() + " " + f + " -o " + (dir() / "red.o").string());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("error: " + f + ": xprc cannot compile reductions yet ('sum' here): AOT v1 "
                     "supports elementwise scripts only"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(dir() / "red.o"));
}

TEST_F(AotTool, UserAndUsageErrors) {
  const std::string f = (dir() / "bad.xpr").string();
  std::ofstream(f) << "input a: f32[n]\noutput y = a + q\n";
  auto [rc, out] = sh(xprc() + " " + f + " -o " + (dir() / "bad.o").string());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("bad.xpr:2:"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr") + " -o x.o --target pentium");
  EXPECT_EQ(rc, 2) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr") + " -o x.o --name 'int'");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("xprc: --name 'int' is not a usable C identifier"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr"));
  EXPECT_EQ(rc, 2) << out;
}

} // namespace
