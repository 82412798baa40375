// bench/compile_bench.cpp — compile latency over a corpus of 20 expressions of 1 to 60
// operations: cold compile, on-disk hit and in-memory hit, with each stage's share of the cold
// time; optionally what each LLVM pipeline costs in compile time and buys in run time.
// --csv FILE also writes one line per expression and pipeline (bench/report.py reads it).
// --ptx SM measures the cuda target's compile to PTX instead (no GPU needed): elementwise maps
// and reductions, stage by stage, the elementwise map being the baseline of the same run.
#include <xpr/xpr.hpp>

#include "compiler/codegen/GpuJit.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"
#include "runtime/Execute.h"
#include "runtime/KernelCache.h"
#include "runtime/cuda/CudaExecute.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}
// CPU time of the calling thread: the machine this runs on may be shared, and wall time then
// measures the neighbours as much as the compiler. Compiles and 1-thread runs stay on this thread.
double thread_cpu_us() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The index of the median run (the upper one of an even count): its stage breakdown is shown.
std::size_t median_index(const std::vector<double> &v) {
  std::vector<std::size_t> idx(v.size());
  for (std::size_t i = 0; i < idx.size(); ++i)
    idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return v[a] < v[b]; });
  return idx[idx.size() / 2];
}

// A polynomial of degree d in Horner form: 2d operations.
std::string horner(int d) {
  std::string s = "0.5";
  for (int i = 0; i < d; ++i) s = fmt::format("({}) * a + {}", s, 0.25 + 0.125 * i);
  return s;
}

// The corpus: f32 expressions over a, b, c of increasing size (operation counts are measured
// from the optimized IR, not claimed). Mixed arithmetic, comparisons and transcendentals.
std::vector<std::string> corpus() {
  return {
      "a + b",
      "a + 2.5 * b",
      "exp(-a * a)",
      "(a * 0.5 + b) * a - 1.0",
      "1 / (1 + exp(-a))",
      "where(a > b, a * a, b - c)",
      "((a * 0.5 + b) * a - 1.0) * b + c",
      "sqrt(a * a + b * b) + atan2(b, a)",
      "exp(-a * a) * sin(b) + log1p(c * c)",
      "tanh(a * 0.7978845608 * (1 + 0.044715 * a * a)) * a * 0.5 + b",
      "clip(a * b + c, -1, 1) * exp(-abs(a - b)) + erf(c / 1.4142135)",
      horner(8),
      "log(a * a + 1) * cos(b * 3) - sin(c * 2) * exp(-b * b) + tanh(a + b + c) * 0.25",
      horner(12) + " + sin(b)",
      "minimum(a, b) * maximum(b, c) + where(a < 0.5, exp(a), log1p(b)) * (c - a) / (1 + b * b)",
      horner(16) + " + exp(-b * b) * c",
      horner(10) + " * sin(b) + " + horner(6) + " * cos(c)",
      horner(22) + " + tanh(b) - erf(c)",
      horner(25) + " + log1p(b * b) * c",
      horner(28) + " + exp(b) * sin(c)",
  };
}

std::string script_of(const std::string &expr) {
  return "input a: f32[n]\ninput b: f32[n]\ninput c: f32[n]\noutput y = " + expr + "\n";
}

int op_count(const xpr::Program &p) {
  const std::string ir = p.emit(xpr::Stage::Optimized);
  int n = 0;
  std::size_t pos = 0;
  while (pos < ir.size()) {
    std::size_t eol = ir.find('\n', pos);
    if (eol == std::string::npos) eol = ir.size();
    std::string_view line(ir.data() + pos, eol - pos);
    pos = eol + 1;
    auto eq = line.find(" = ");
    if (eq == std::string_view::npos || line.find("output") != std::string_view::npos) continue;
    std::string_view op = line.substr(eq + 3);
    if (!op.starts_with("input") && !op.starts_with("param") && !op.starts_with("const")) ++n;
  }
  return n;
}

struct Options {
  int reps = 5;
  bool compare_pipelines = false;
  bool smoke = false;
  int ptx_sm = 0; ///< --ptx SM: the cuda target's compile instead of the CPU's
  std::string csv;
};

// The cuda target's cold compile to PTX (what Context::compile does for Target::cuda() before
// the driver's JIT, which needs a GPU): the middle end, then every kernel of the plan built,
// lowered, linked with libdevice, optimized and emitted as PTX, bypassing the kernel cache.
// Reduce kernels carry every schedule the runtime may launch them in (compiler/codegen/
// GpuJit.h), so they cost more than the elementwise map they fuse: the first row is that map
// alone, the baseline of the rows below it.
int measure_ptx(const Options &o) {
  if (xpr::cg::find_libdevice().empty()) {
    std::fprintf(stderr, "SKIP: no libdevice.10.bc (CUDA toolkit): cannot compile for cuda\n");
    return 77;
  }
  const std::vector<std::pair<std::string, std::string>> corpus{
      {"map a * b + 1", "input a: f32[n]\ninput b: f32[n]\noutput y = a * b + 1\n"},
      {"sum(a * b)", "input a: f32[n]\ninput b: f32[n]\noutput y = sum(a * b)\n"},
      {"map exp(-a*a)*b + sin(a)",
       "input a: f32[n]\ninput b: f32[n]\noutput y = exp(-a * a) * b + sin(a)\n"},
      {"sum(exp(-a*a)*b + sin(a))",
       "input a: f32[n]\ninput b: f32[n]\noutput y = sum(exp(-a * a) * b + sin(a))\n"},
      {"max(a, axis=1) f64", "input a: f64[n, m]\noutput y = max(a, axis=1)\n"},
      {"mean(a, axis=0)", "input a: f32[n, m]\noutput y = mean(a, axis=0)\n"},
      {"argmax(a)", "input a: f32[n]\noutput y = argmax(a)\n"},
      {"argmin(a * 2 + 1, axis=1)", "input a: f32[n, m]\noutput y = argmin(a * 2 + 1, axis=1)\n"},
  };
  // The one-time costs (the MLIR context, the NVPTX target, libdevice's file) outside the rows.
  auto plan_of = [](const std::string &name, const std::string &script) {
    return xpr::rt::prepare(
        xpr::passes::lower_to_plan(xpr::fe::compile_script(xpr::SourceFile(name, script))),
        xpr::cg::Precision::Accurate);
  };
  auto t0 = Clock::now();
  (void)xpr::rt::cuda::emit_ptx(plan_of("warm-up", corpus[3].second), o.ptx_sm);
  fmt::print("xpr compile latency for cuda (PTX for sm_{}); one-time setup and warm-up {:.1f} ms "
             "(not counted below)\n",
             o.ptx_sm, us_since(t0) / 1e3);
  fmt::print("median of {} cold compiles per program; stages of the median run\n", o.reps);
  fmt::print("{:>26} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "program", "kernels", "total ms",
             "MLIR ms", "LLVM ms", "PTX ms", "x map");
  double base = 0;
  for (const auto &[name, script] : corpus) {
    std::vector<double> total;
    std::vector<xpr::cg::GpuTimings> st;
    int kernels = 0;
    for (int rep = 0; rep < o.reps; ++rep) {
      t0 = Clock::now();
      xpr::rt::CompiledPlan cp = plan_of(name, script);
      xpr::cg::GpuTimings t;
      const std::string ptx = xpr::rt::cuda::emit_ptx(cp, o.ptx_sm, &t);
      total.push_back(us_since(t0) / 1e3);
      st.push_back(t);
      kernels = 0;
      for (std::size_t at = ptx.find(".entry"); at != std::string::npos;
           at = ptx.find(".entry", at + 1))
        ++kernels;
    }
    if (kernels != 1) { // every program here is one kernel: the map, or the fused reduction
      std::fprintf(stderr, "xpr_bench_compile: %d kernels in the PTX of %s, expected 1\n", kernels,
                   name.c_str());
      return 1;
    }
    const xpr::cg::GpuTimings &m = st[median_index(total)];
    const double med = median(total);
    if (base == 0) base = med;
    // "x map": against the first row, the plainest elementwise kernel.
    fmt::print("{:>26} {:>7} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}\n", name, kernels, med,
               m.mlir_ms, m.llvm_opt_ms, m.ptx_ms, med / base);
  }
  return 0;
}

struct Row {
  std::string expr;
  int ops = 0;
  double cold_ms = 0, cold_cpu_ms = 0, disk_ms = 0, disk_kernel_ms = 0, mem_us = 0;
  xpr::StageTimings stages;
};

const char *pipeline_arg(xpr::cg::LlvmPipeline p) { return xpr::cg::pipeline_name(p); }

// Cold compile, on-disk hit and in-memory hit of every corpus entry.
std::vector<Row> measure(const Options &o, const std::string &dir) {
  auto &kc = xpr::rt::KernelCache::global();
  std::vector<Row> rows;
  xpr::Options nodisk;
  nodisk.cache.disk = false;
  xpr::Options disk;
  disk.cache.dir = dir;
  for (const std::string &e : corpus()) {
    Row r;
    r.expr = e;
    const std::string s = script_of(e);
    std::vector<double> cold, cold_cpu, dsk, dsk_kernel, mem;
    std::vector<xpr::StageTimings> st;
    for (int rep = 0; rep < o.reps; ++rep) {
      // Cold: nothing in memory, no disk.
      kc.clear_memory();
      xpr::Context c1(nodisk);
      auto t0 = Clock::now();
      double c0 = thread_cpu_us();
      xpr::Program p = c1.compile(s);
      cold_cpu.push_back((thread_cpu_us() - c0) / 1e3);
      cold.push_back(us_since(t0) / 1e3);
      st.push_back(p.timings());
      if (rep == 0) r.ops = op_count(p);
      // Disk hit: write the entry, forget memory, compile in a new context.
      kc.clear_memory();
      (void)xpr::Context(disk).compile(s);
      kc.clear_memory();
      xpr::Context c2(disk);
      t0 = Clock::now();
      xpr::Program q = c2.compile(s);
      dsk.push_back(us_since(t0) / 1e3);
      xpr::StageTimings qt = q.timings();
      dsk_kernel.push_back(qt.disk_read_ms + qt.load_ms);
      if (qt.kernels_from_disk != 1) std::fprintf(stderr, "expected a disk hit for %s\n", e.c_str());
      // In-memory hit: the same text in the same context.
      const int calls = 1000;
      t0 = Clock::now();
      for (int i = 0; i < calls; ++i) (void)c2.compile(s);
      mem.push_back(us_since(t0) / calls);
    }
    r.cold_ms = median(cold);
    r.cold_cpu_ms = median(cold_cpu);
    r.disk_ms = median(dsk);
    r.disk_kernel_ms = median(dsk_kernel);
    r.mem_us = median(mem);
    // The stage breakdown of the median cold run.
    r.stages = st[median_index(cold)];
    rows.push_back(r);
  }
  return rows;
}

// Run time of a few corpus kernels at N = 2^20 on one thread (median of 15 runs), in µs.
std::vector<double> run_times(const std::vector<int> &which) {
  xpr::Options o;
  o.cache.disk = false;
  o.threads = 1;
  xpr::Context ctx(o);
  const std::int64_t n = 1 << 20;
  std::vector<float> a(n), b(n), c(n), y(n);
  for (std::int64_t i = 0; i < n; ++i) {
    a[i] = 0.001f * static_cast<float>(i % 1000);
    b[i] = 1.0f - 0.0005f * static_cast<float>(i % 997);
    c[i] = 0.5f + 0.0001f * static_cast<float>(i % 991);
  }
  xpr::Inputs in{{"a", xpr::view(a.data(), xpr::f32, {n})},
                 {"b", xpr::view(b.data(), xpr::f32, {n})},
                 {"c", xpr::view(c.data(), xpr::f32, {n})}};
  xpr::Outputs out{{"y", xpr::view(y.data(), xpr::f32, {n})}};
  std::vector<double> res;
  auto cs = corpus();
  for (int w : which) {
    xpr::Program p = ctx.compile(script_of(cs[static_cast<std::size_t>(w)]));
    std::vector<double> t;
    for (int i = 0; i < 18; ++i) {
      double t0 = thread_cpu_us();
      p.run_into(in, out);
      if (i >= 3) t.push_back(thread_cpu_us() - t0);
    }
    res.push_back(median(t));
  }
  return res;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) o.reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--compare-pipelines") o.compare_pipelines = true;
    else if (a == "--smoke") o.smoke = true;
    else if (a == "--csv" && i + 1 < argc) o.csv = argv[++i];
    else if (a == "--ptx" && i + 1 < argc)
      o.ptx_sm = std::atoi(argv[++i]);
    else {
      std::fprintf(
          stderr, "usage: xpr_bench_compile [--reps R] [--compare-pipelines] [--smoke] "
                  "[--csv FILE] [--ptx SM]\n"
                  "  median of R cold compiles, disk hits and memory hits per expression;\n"
                  "  --csv FILE also writes them as CSV;\n"
                  "  --ptx SM: cold compiles for the cuda target (PTX for sm_SM, no GPU needed)\n");
      return 2;
    }
  }
  if (o.smoke) o.reps = 1;
  if (o.ptx_sm != 0) return measure_ptx(o);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("xpr-bench-compile-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);

  // One-time costs, outside every measurement: the MLIR context and the JIT.
  auto t0 = Clock::now();
  auto &kc = xpr::rt::KernelCache::global();
  const double init_ms = us_since(t0) / 1e3;
  fmt::print("xpr compile latency; one-time JIT/MLIR setup {:.1f} ms (not counted below)\n",
             init_ms);
  fmt::print("target: {}\n", kc.jit().target_description().substr(0, 80));

  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv, std::ios::binary | std::ios::trunc);
    if (!csv) {
      std::fprintf(stderr, "xpr_bench_compile: cannot write %s\n", o.csv.c_str());
      return 1;
    }
    char date[64];
    std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::string target = kc.jit().target_description();
    for (char &ch : target)
      if (ch == '\n') ch = ' ';
    csv << "# program: xpr_bench_compile\n# date: " << date << "\n# target: " << target
        << "\n# reps: " << o.reps << "\n"
        << fmt::format("# init_ms: {:.3f}\n", init_ms)
        << "pipeline,index,ops,cold_ms,cold_cpu_ms,disk_ms,disk_kernel_ms,mem_us,"
           "parse_ms,passes_ms,mlir_build_ms,mlir_lower_ms,llvm_opt_ms,machine_code_ms,load_ms,"
           "expr\n";
  }

  std::vector<xpr::cg::LlvmPipeline> pipelines{kc.jit().llvm_pipeline()};
  if (o.compare_pipelines)
    pipelines = {xpr::cg::LlvmPipeline::O2, xpr::cg::LlvmPipeline::Lean,
                 xpr::cg::LlvmPipeline::None};
  bool ok = true;
  for (auto pl : pipelines) {
    kc.jit().set_llvm_pipeline(pl);
    std::vector<Row> rows = measure(o, dir);
    fmt::print("\nLLVM pipeline {}: median of {} per expression\n", pipeline_arg(pl), o.reps);
    fmt::print("{:>3} {:>4} {:>9} {:>9} {:>9} {:>11} {:>9}  {}\n", "#", "ops", "cold ms",
               "cold cpu", "disk ms", "disk-k ms", "mem µs", "expression");
    std::vector<double> cold, cold_cpu, dsk, dskk, mem;
    xpr::StageTimings sum;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row &r = rows[i];
      std::string e = r.expr.size() > 60 ? r.expr.substr(0, 57) + "..." : r.expr;
      fmt::print("{:>3} {:>4} {:>9.3f} {:>9.3f} {:>9.3f} {:>11.3f} {:>9.3f}  {}\n", i, r.ops,
                 r.cold_ms, r.cold_cpu_ms, r.disk_ms, r.disk_kernel_ms, r.mem_us, e);
      if (csv) // the expression last and quoted: it holds commas
        csv << fmt::format("{},{},{},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},"
                           "{:.4f},{:.4f},{:.4f},{:.4f},\"{}\"\n",
                           pipeline_arg(pl), i, r.ops, r.cold_ms, r.cold_cpu_ms, r.disk_ms,
                           r.disk_kernel_ms, r.mem_us, r.stages.parse_ms, r.stages.passes_ms,
                           r.stages.mlir_build_ms, r.stages.mlir_lower_ms, r.stages.llvm_opt_ms,
                           r.stages.machine_code_ms, r.stages.load_ms, r.expr);
      cold.push_back(r.cold_ms);
      cold_cpu.push_back(r.cold_cpu_ms);
      dsk.push_back(r.disk_ms);
      dskk.push_back(r.disk_kernel_ms);
      mem.push_back(r.mem_us);
      sum.parse_ms += r.stages.parse_ms;
      sum.passes_ms += r.stages.passes_ms;
      sum.mlir_build_ms += r.stages.mlir_build_ms;
      sum.mlir_lower_ms += r.stages.mlir_lower_ms;
      sum.llvm_opt_ms += r.stages.llvm_opt_ms;
      sum.machine_code_ms += r.stages.machine_code_ms;
      sum.load_ms += r.stages.load_ms;
    }
    const double tot = sum.total_ms();
    fmt::print("median over the corpus: cold compile {:.3f} ms wall, {:.3f} ms thread CPU "
               "(target <= 10), on-disk hit "
               "{:.3f} ms whole compile() / {:.3f} ms kernel read+load (target <= 0.5), "
               "in-memory hit {:.3f} µs (target <= 2)\n",
               median(cold), median(cold_cpu), median(dsk), median(dskk), median(mem));
    fmt::print("share of cold time: parse {:.1f}%, passes {:.1f}%, MLIR build {:.1f}%, MLIR "
               "lowering+translation {:.1f}%, LLVM IR passes {:.1f}%, machine code {:.1f}%, "
               "load {:.1f}%\n",
               100 * sum.parse_ms / tot, 100 * sum.passes_ms / tot, 100 * sum.mlir_build_ms / tot,
               100 * sum.mlir_lower_ms / tot, 100 * sum.llvm_opt_ms / tot,
               100 * sum.machine_code_ms / tot, 100 * sum.load_ms / tot);
    if (o.compare_pipelines && !o.smoke) {
      std::vector<int> which{1, 6, 8, 10, 12, 19};
      std::vector<double> rt = run_times(which);
      fmt::print("run time at N=2^20, 1 thread, thread CPU µs:");
      for (std::size_t i = 0; i < which.size(); ++i) fmt::print(" #{} {:.0f}", which[i], rt[i]);
      fmt::print("\n");
    }
    ok = ok && !rows.empty();
  }
  std::filesystem::remove_all(dir);
  if (csv) {
    csv.close();
    if (csv.fail()) {
      std::fprintf(stderr, "xpr_bench_compile: cannot write %s\n", o.csv.c_str());
      return 1;
    }
  }
  return ok ? 0 : 1;
}
