// examples/getting_started.cpp — the code of docs/getting-started.md: a first eval, a first script
// and a first error. The guide quotes the regions between pairs of [doc:NAME] lines verbatim.
#include <xpr/xpr.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

int main() {
  int failures = 0;
  auto expect = [&](bool ok, const char *what) {
    if (!ok) {
      ++failures;
      std::fprintf(stderr, "getting_started: %s\n", what);
    }
  };
  try {
    // [doc:first-eval]
    xpr::Context ctx; // the host CPU, every core

    std::vector<double> a = {1, 2, 3, 4}, b = {0, 1, 2, 3};
    // Views: xpr reads your memory in place, nothing is copied.
    xpr::Array A = xpr::view(a.data(), xpr::f64, {4});
    xpr::Array B = xpr::view(b.data(), xpr::f64, {4});

    xpr::Array y = ctx.eval("a * exp(-b) + 1", {{"a", A}, {"b", B}});
    const double *v = y.data_as<double>(); // y owns a new f64[4] array
    std::printf("%g %g %g %g\n", v[0], v[1], v[2], v[3]);
    // [doc:first-eval]
    for (int i = 0; i < 4; ++i)
      expect(std::fabs(v[i] - (a[i] * std::exp(-b[i]) + 1)) <= 1e-15 * (a[i] + 1), "first eval");
    expect(y.dtype() == xpr::f64 && y.shape() == std::vector<std::int64_t>{4}, "first eval type");

    // [doc:first-script]
    xpr::Program p = ctx.compile(R"(
      input x: f32[n]          # one compiled kernel serves every length n
      param scale: f32         # a runtime value, not baked into the code
      let centered = x - mean(x)
      output z = centered * scale
      output rms = sqrt(mean(centered * centered))
    )");

    std::vector<float> x = {1, 2, 3, 4, 5};
    xpr::Outputs out = p.run({{"x", xpr::view(x.data(), xpr::f32, {5})}}, {{"scale", 10}});
    const float *z = out.at("z").data_as<float>();   // f32[5]: -20 -10 0 10 20
    float rms = out.at("rms").data_as<float>()[0];   // f32[] (rank 0): sqrt(2)
    // [doc:first-script]
    const float want_z[5] = {-20, -10, 0, 10, 20};
    for (int i = 0; i < 5; ++i) expect(z[i] == want_z[i], "first script z");
    expect(std::fabs(rms - std::sqrt(2.0f)) <= 1e-6f, "first script rms");
    expect(out.at("rms").rank() == 0, "rms is rank 0");

    // [doc:first-error]
    try {
      ctx.eval("a * exp(-b", {{"a", A}, {"b", B}});
    } catch (const xpr::Error &e) {
      std::fprintf(stderr, "%s\n", e.what()); // file:line:col, the line, a caret, notes
    }
    // [doc:first-error]
    try {
      ctx.eval("a * exp(-b", {{"a", A}, {"b", B}});
      expect(false, "a syntax error must throw");
    } catch (const xpr::Error &e) {
      expect(e.kind() == xpr::ErrorKind::Syntax, "syntax error kind");
      // [doc:first-error-text]
      const char *rendered = R"(<expr>:1:11: error: expected ',' or ')' after the argument, found end of input
  a * exp(-b
            ^
<expr>:1:8: note: '(' of the call to 'exp' opened here
  a * exp(-b
         ^)";
      // [doc:first-error-text]
      std::string what = e.what();
      while (!what.empty() && what.back() == '\n') what.pop_back();
      if (what != rendered) {
        ++failures;
        std::fprintf(stderr, "getting_started: the diagnostic changed; the guide shows:\n%s\n"
                             "but xpr now says:\n%s\n", rendered, what.c_str());
      }
    }
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (!failures) std::printf("getting_started: ok\n");
  return failures ? 1 : 0;
}
