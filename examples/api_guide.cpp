// examples/api_guide.cpp — every code sample of docs/api.md, compiled and checked. The guide quotes
// the regions between pairs of [doc:NAME] lines; the docs_snippets test keeps the two identical.
#include <xpr/xpr.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void expect(bool ok, const char *what) {
  if (ok) return;
  ++failures;
  std::fprintf(stderr, "api_guide: %s\n", what);
}

// what() without its trailing newline, to compare with the texts the guide shows.
std::string rendered(const xpr::Error &e) {
  std::string s = e.what();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_text(const xpr::Error &e, const char *want, const char *what) {
  if (rendered(e) == want) return;
  ++failures;
  std::fprintf(stderr, "api_guide: %s: the guide shows\n%s\nbut xpr now says\n%s\n", what, want,
               rendered(e).c_str());
}

void context_and_eval() {
  // [doc:context]
  xpr::Context ctx;                       // every core, accurate math

  xpr::Options opts;
  opts.threads = 1;                       // one worker thread
  opts.precision = xpr::Precision::Fast;  // cheaper transcendental functions
  xpr::Context small(opts);
  // [doc:context]
  expect(small.threads() == 1, "Options::threads");
  expect(small.options().precision == xpr::Precision::Fast, "Options::precision");

  // [doc:eval]
  std::vector<float> a(1000), b(1000);
  for (int i = 0; i < 1000; ++i) a[i] = 0.001f * i, b[i] = 1 - 0.001f * i;
  xpr::Array A = xpr::view(a.data(), xpr::f32, {1000});
  xpr::Array B = xpr::view(b.data(), xpr::f32, {1000});

  xpr::Array y = ctx.eval("where(a > b, a * a, b - a)", {{"a", A}, {"b", B}});  // f32[1000]
  xpr::Array s = ctx.eval("sum(a * b)", {{"a", A}, {"b", B}});                  // f32[], rank 0
  float dot = s.data_as<float>()[0];
  // [doc:eval]
  for (int i = 0; i < 1000; ++i) {
    const float want = a[i] > b[i] ? a[i] * a[i] : b[i] - a[i];
    if (y.data_as<float>()[i] != want) {
      expect(false, "eval where");
      break;
    }
  }
  double dot_ref = 0;
  for (int i = 0; i < 1000; ++i) dot_ref += double(a[i]) * b[i];
  expect(s.rank() == 0 && std::fabs(dot - dot_ref) <= 1e-5 * dot_ref, "eval sum");

  // [doc:eval-broadcast]
  std::vector<double> col = {1, 2, 3}, row = {10, 20, 30, 40};
  xpr::Array t = ctx.eval("c * r", {{"c", xpr::view(col.data(), xpr::f64, {3, 1})},
                                    {"r", xpr::view(row.data(), xpr::f64, {4})}});
  // t is f64[3, 4]: t[i, j] = col[i] * row[j]
  // [doc:eval-broadcast]
  expect(t.shape() == std::vector<std::int64_t>{3, 4}, "broadcast shape");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      expect(t.data_as<double>()[i * 4 + j] == col[i] * row[j], "broadcast value");
}

void run_and_run_into() {
  xpr::Context ctx;
  // [doc:compile]
  xpr::Program norm = ctx.compile(R"(
    input x: f64[n, m]
    param eps: f64
    let mu = mean(x, axis=1, keepdims=true)
    let var = mean((x - mu) ** 2, axis=1, keepdims=true)
    output z = (x - mu) / sqrt(var + eps)
    output sd = sqrt(mean((x - mu) ** 2, axis=1))
  )", "norm.xpr");
  // [doc:compile]

  // [doc:run]
  std::vector<double> x = {1, 2, 3, 4,
                           2, 4, 6, 8};
  xpr::Inputs in = {{"x", xpr::view(x.data(), xpr::f64, {2, 4})}};

  xpr::Outputs out = norm.run(in, {{"eps", 0.0}});         // by name
  const xpr::Array &z = out.at("z");                       // f64[2, 4], owns its memory
  std::vector<xpr::Array> both = norm.run_ordered(in, {{"eps", 0.0}}); // {z, sd}, declared order
  // [doc:run]
  const double sd0 = std::sqrt(1.25), sd1 = std::sqrt(5.0);
  expect(z.shape() == std::vector<std::int64_t>{2, 4}, "run z shape");
  expect(both.size() == 2 && both[1].shape() == std::vector<std::int64_t>{2}, "run_ordered");
  for (int j = 0; j < 4; ++j) {
    expect(std::fabs(z.data_as<double>()[j] - (x[j] - 2.5) / sd0) < 1e-14, "run z row 0");
    expect(std::fabs(z.data_as<double>()[4 + j] - (x[4 + j] - 5) / sd1) < 1e-14, "run z row 1");
  }
  expect(std::fabs(both[1].data_as<double>()[1] - sd1) < 1e-14, "run_ordered sd");

  // [doc:run-into]
  std::vector<double> zbuf(8), sdbuf(2);   // caller-owned results
  norm.run_into(in,
                {{"z", xpr::view(zbuf.data(), xpr::f64, {2, 4})},
                 {"sd", xpr::view(sdbuf.data(), xpr::f64, {2})}},
                {{"eps", 0.0}});

  // In place: an output may be the very memory of an input.
  xpr::Program twice = ctx.compile("input v: f64[n]\noutput w = v * 2\n");
  xpr::Array flat = xpr::view(x.data(), xpr::f64, {8});
  twice.run_into({{"v", flat}}, {{"w", flat}});
  // x is now {2, 4, 6, 8, 4, 8, 12, 16}
  // [doc:run-into]
  for (int i = 0; i < 8; ++i) expect(zbuf[i] == z.data_as<double>()[i], "run_into z");
  expect(sdbuf[1] == both[1].data_as<double>()[1], "run_into sd");
  const double want_x[8] = {2, 4, 6, 8, 4, 8, 12, 16};
  for (int i = 0; i < 8; ++i) expect(x[i] == want_x[i], "in place");
}

void views_and_strides() {
  xpr::Context ctx;
  // [doc:views]
  // A 3 x 4 row-major matrix.
  std::vector<float> m = {0, 1, 2,  3,
                          4, 5, 6,  7,
                          8, 9, 10, 11};
  // Strides count elements, not bytes.
  xpr::Array M   = xpr::view(m.data(), xpr::f32, {3, 4});            // contiguous: strides {4, 1}
  xpr::Array Mt  = xpr::view(m.data(), xpr::f32, {4, 3}, {1, 4});    // the transpose
  xpr::Array c2  = xpr::view(m.data() + 2, xpr::f32, {3}, {4});      // column 2: {2, 6, 10}
  xpr::Array rev = xpr::view(m.data() + 11, xpr::f32, {12}, {-1});   // 11, 10, ..., 0
  xpr::Array rep = xpr::view(m.data(), xpr::f32, {5, 4}, {0, 1});    // row 0, five times

  xpr::Array colsum = ctx.eval("sum(t, axis=1)", {{"t", Mt}});       // {12, 15, 18, 21}
  // [doc:views]
  expect(M.is_contiguous() && !Mt.is_contiguous(), "contiguity");
  const float want_cs[4] = {12, 15, 18, 21};
  for (int j = 0; j < 4; ++j) expect(colsum.data_as<float>()[j] == want_cs[j], "transposed view");
  xpr::Array c2s = ctx.eval("c * 1", {{"c", c2}});
  expect(c2s.data_as<float>()[0] == 2 && c2s.data_as<float>()[2] == 10, "column view");
  xpr::Array revd = ctx.eval("r - 0", {{"r", rev}});
  for (int i = 0; i < 12; ++i) expect(revd.data_as<float>()[i] == 11 - i, "reversed view");
  xpr::Array reps = ctx.eval("sum(q)", {{"q", rep}});
  expect(reps.data_as<float>()[0] == 5 * (0 + 1 + 2 + 3), "zero-stride view");

  // [doc:owning]
  xpr::Array buf = xpr::Array::empty(xpr::f64, {2, 3});  // zero-filled, 64-byte aligned
  double *p = buf.data_as<double>();
  for (int i = 0; i < 6; ++i) p[i] = i;
  xpr::Array alias = buf;                                 // copies share the buffer
  xpr::Array own = Mt.contiguous_copy();                  // an owning, contiguous f32[4, 3]
  // [doc:owning]
  expect(alias.data() == buf.data() && buf.owns_data() && !Mt.owns_data(), "owning");
  expect(own.is_contiguous() && own.data_as<float>()[1] == 4, "contiguous_copy");
}

void params() {
  xpr::Context ctx;
  // [doc:params]
  xpr::Program affine = ctx.compile(
      "input x: f32[n]\nparam a: f32\nparam b: i32\noutput y = a * x + b\n");
  std::vector<float> x = {1, 2, 3};
  xpr::Inputs in = {{"x", xpr::view(x.data(), xpr::f32, {3})}};
  // A Scalar converts to the param's dtype; the compiled code is the same for every value.
  xpr::Array y1 = affine.run(in, {{"a", 2.0}, {"b", 1}}).at("y");   // {3, 5, 7}
  xpr::Array y2 = affine.run(in, {{"a", 0.5f}, {"b", -1}}).at("y"); // {-0.5, 0, 0.5}
  // [doc:params]
  // y = a*x + b with a: f32 and b: i32 promotes to f64 (i32 with f32 is f64, as in NumPy).
  expect(y1.dtype() == xpr::f64, "param promotion");
  const double w1[3] = {3, 5, 7}, w2[3] = {-0.5, 0, 0.5};
  for (int i = 0; i < 3; ++i) {
    expect(y1.data_as<double>()[i] == w1[i], "params run 1");
    expect(y2.data_as<double>()[i] == w2[i], "params run 2");
  }
}

void errors() {
  xpr::Context ctx;
  // [doc:errors]
  try {
    ctx.compile("input x: f32[n]\ninput y: f32[m]\noutput z = x + y\n", "add.xpr");
  } catch (const xpr::Error &e) {
    // e.kind() is xpr::ErrorKind::Shape, e.location() is {"add.xpr", 3, 14}
    std::fprintf(stderr, "%s\n", e.what());
  }
  // [doc:errors]
  try {
    ctx.compile("input x: f32[n]\ninput y: f32[m]\noutput z = x + y\n", "add.xpr");
    expect(false, "shape error must throw");
  } catch (const xpr::Error &e) {
    expect(e.kind() == xpr::ErrorKind::Shape, "shape error kind");
    expect(e.location().file == "add.xpr" && e.location().line == 3 && e.location().col == 14,
           "shape error location");
    // [doc:errors-text]
    const char *text = R"(add.xpr:3:14: error: cannot broadcast the operands of '+': f32[n] and f32[m]
  output z = x + y
               ^
add.xpr:3:12: note: 'x' is f32[n]
  output z = x + y
             ^
add.xpr:3:16: note: 'y' is f32[m]
  output z = x + y
                 ^
note: n and m cannot broadcast: a symbolic dimension matches only itself or a fixed 1)";
    // [doc:errors-text]
    expect_text(e, text, "shape diagnostic");
  }

  xpr::Program add = ctx.compile("input x: f32[n]\ninput y: f32[n]\noutput z = x + y\n");
  std::vector<float> a(4), b(5);
  // [doc:runtime-errors]
  try {
    add.run({{"x", xpr::view(a.data(), xpr::f32, {4})},
             {"y", xpr::view(b.data(), xpr::f32, {5})}});
  } catch (const xpr::Error &e) {
    // e.kind() is Runtime; e.message() is "input 'y': dimension 0 is n = 5, but 'x' set n = 4"
  }
  // [doc:runtime-errors]
  try {
    add.run({{"x", xpr::view(a.data(), xpr::f32, {4})},
             {"y", xpr::view(b.data(), xpr::f32, {5})}});
    expect(false, "size mismatch must throw");
  } catch (const xpr::Error &e) {
    expect(e.kind() == xpr::ErrorKind::Runtime, "runtime error kind");
    expect(e.message() == "input 'y': dimension 0 is n = 5, but 'x' set n = 4",
           "runtime error message");
  }
  try {
    add.run({{"x", xpr::view(a.data(), xpr::f32, {4})}});
    expect(false, "a missing input must throw");
  } catch (const xpr::Error &e) {
    expect(e.kind() == xpr::ErrorKind::Runtime &&
               e.message() == "missing input 'y' (expected f32[n])",
           "missing input message");
  }
  try {
    std::vector<double> d(4);
    add.run({{"x", xpr::view(d.data(), xpr::f64, {4})}, {"y", xpr::view(a.data(), xpr::f32, {4})}});
    expect(false, "a wrong dtype must throw");
  } catch (const xpr::Error &e) {
    expect(e.kind() == xpr::ErrorKind::Runtime, "dtype error kind");
  }
  // After all that, the same Program still runs.
  xpr::Array ok = add.run({{"x", xpr::view(a.data(), xpr::f32, {4})},
                           {"y", xpr::view(b.data(), xpr::f32, {4})}})
                      .at("z");
  expect(ok.shape() == std::vector<std::int64_t>{4}, "usable after errors");
}

void threads_and_precision() {
  // [doc:threads]
  xpr::Options opts;
  opts.threads = 2;
  xpr::Context ctx(opts);
  xpr::Program p = ctx.compile("input x: f64[n]\n"
                               "output y = sum(sin(x) * sin(x) + cos(x) * cos(x))\n");
  std::vector<double> x(1 << 20, 0.5);
  xpr::Inputs in = {{"x", xpr::view(x.data(), xpr::f64, {1 << 20})}};

  // One Program may run on several threads at once.
  std::vector<double> sums(4);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] { sums[t] = p.run(in).at("y").data_as<double>()[0]; });
  for (auto &th : pool) th.join();

  ctx.set_threads(1);  // also applies to Programs this context compiled
  // [doc:threads]
  expect(ctx.threads() == 1, "set_threads");
  for (double s : sums) {
    expect(s == sums[0], "concurrent runs agree (fixed-order reduction)");
    expect(std::fabs(s - (1 << 20)) < 1e-6, "sin^2 + cos^2 = 1");
  }
  // The result does not depend on the thread count: reductions use a fixed blocking.
  expect(p.run(in).at("y").data_as<double>()[0] == sums[0], "thread-count independence");
}

void introspection() {
  xpr::Context ctx;
  // [doc:introspection]
  xpr::Program p = ctx.compile(R"(
    input x: f32[n]
    param k: f32
    output y = exp(x * k) + 1
    output total = sum(exp(x * k))
  )");
  for (const xpr::ValueInfo &v : p.inputs())
    std::printf("input %s: %s\n", v.name.c_str(), v.type.c_str());  // input x: f32[n]
  std::printf("%d kernel(s), %d reduction(s), %d intermediate buffer(s)\n", p.kernel_count(),
              p.reduction_count(), p.intermediate_buffer_count());     // 1, 1, 0
  std::string plan = p.emit(xpr::Stage::Fused);   // also Ast, Ir, Optimized, Mlir, Llvm, Asm
  // [doc:introspection]
  expect(p.inputs().size() == 1 && p.inputs()[0].type == "f32[n]", "inputs()");
  expect(p.params().size() == 1 && p.params()[0].dtype == xpr::f32, "params()");
  expect(p.outputs().size() == 2 && p.outputs()[1].name == "total" &&
             p.outputs()[1].type == "f32[]",
         "outputs()");
  expect(p.kernel_count() == 1 && p.reduction_count() == 1 && p.intermediate_buffer_count() == 0,
         "fusion counts");
  expect(!plan.empty() && !p.emit(xpr::Stage::Llvm).empty(), "emit");
  // A reduction carries its producers: no kernel and no temporary for exp(a) * b.
  xpr::Program dot = ctx.compile("input a: f32[n]\ninput b: f32[n]\noutput s = sum(exp(a) * b)\n");
  expect(dot.kernel_count() == 0 && dot.reduction_count() == 1 &&
             dot.intermediate_buffer_count() == 0,
         "map-reduce fusion counts");
}

void program_outlives_context() {
  xpr::Program p;
  expect(!p.valid(), "default Program is empty");
  {
    xpr::Context ctx;
    p = ctx.compile("input x: f64[n]\noutput y = x + 1\n");
  }
  std::vector<double> x = {1, 2};
  xpr::Array y = p.run({{"x", xpr::view(x.data(), xpr::f64, {2})}}).at("y");
  expect(p.valid() && y.data_as<double>()[1] == 3, "a Program outlives its Context");
}

} // namespace

int main() {
  try {
    context_and_eval();
    run_and_run_into();
    views_and_strides();
    params();
    errors();
    threads_and_precision();
    introspection();
    program_outlives_context();
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (!failures) std::printf("api_guide: ok\n");
  return failures ? 1 : 0;
}
