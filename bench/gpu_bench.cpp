// bench/gpu_bench.cpp — the GPU section of bench/: fused elementwise kernels and reductions on
// device-resident arrays against the device's device-to-device copy bandwidth (docs/gpu.md). Not
// a test: where no GPU is present it says so and exits 0.
//
//   xpr_bench_gpu [--n N] [--reps R]      N elements per array (default 2^28), best of R runs
#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/ReduceKernel.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"
#include "runtime/Execute.h"
#include "runtime/cuda/CudaDriver.h"

#include <xpr/error.hpp>
#include <xpr/xpr.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace xpr;
using namespace xpr::rt::cuda;

struct Case {
  const char *name;
  const char *script;
};

const Case kCases[] = {
    {"triad a*b+c", "input a: f32[n]\ninput b: f32[n]\ninput c: f32[n]\noutput r = a * b + c\n"},
    {"scale a*2", "input a: f32[n]\noutput r = a * 2\n"},
    {"a*exp(-b)+sqrt(c)",
     "input a: f32[n]\ninput b: f32[n]\ninput c: f32[n]\noutput r = a * exp(-b) + sqrt(c)\n"},
    {"where/clip", "input a: f32[n]\ninput b: f32[n]\noutput r = where(a > b, clip(a, 0, 1), b)\n"},
    {"f64 a*b+c", "input a: f64[n]\ninput b: f64[n]\ninput c: f64[n]\noutput r = a * b + c\n"},
    {"black-scholes",
     "input S: f32[n]\ninput K: f32[n]\ninput T: f32[n]\nparam r: f32\nparam v: f32\n"
     "let sqrtT = sqrt(T)\n"
     "let d1 = (log(S / K) + (r + 0.5 * v * v) * T) / (v * sqrtT)\n"
     "let d2 = d1 - v * sqrtT\n"
     "output call = S * ncdf(d1) - K * exp(-r * T) * ncdf(d2)\n"
     "output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)\n"},
};

/// Whole-array reductions: the first pass (the map fused in) and the combining pass, as the
/// runtime launches them (runtime/cuda/CudaExecute.cpp); GB/s counts the inputs read.
const Case kReduceCases[] = {
    {"sum(a) f32", "input a: f32[n]\noutput s = sum(a)\n"},
    {"sum(a*b) f32", "input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b)\n"},
    {"max(a) f32", "input a: f32[n]\noutput s = max(a)\n"},
    {"sum(a) f64", "input a: f64[n]\noutput s = sum(a)\n"},
    {"any(a > 2) f32", "input a: f32[n]\noutput s = any(a > 2)\n"},
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Best wall time of `reps` runs of `fn` followed by a stream synchronization.
template <class F> double best_of(int reps, const Stream &s, F fn) {
  fn();
  s.sync(); // warm-up: module load, first-touch
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    s.sync();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

/// Fills a device array with values in [0.5, 1.5) (no NaN or denormal slow paths).
void fill(const Stream &s, const DeviceBuffer &b, DType t, std::int64_t n) {
  const std::int64_t chunk = std::min<std::int64_t>(n, 1 << 20);
  std::vector<unsigned char> host(static_cast<std::size_t>(chunk * dtype_size(t)));
  for (std::int64_t i = 0; i < chunk; ++i) {
    double v = 0.5 + static_cast<double>((i * 2654435761u) % 1000) / 1000.0;
    if (t == DType::F32) {
      float f = static_cast<float>(v);
      std::memcpy(&host[static_cast<std::size_t>(i * 4)], &f, 4);
    } else {
      std::memcpy(&host[static_cast<std::size_t>(i * 8)], &v, 8);
    }
  }
  for (std::int64_t off = 0; off < n; off += chunk) {
    const std::int64_t m = std::min(chunk, n - off);
    s.to_device(b.ptr() + static_cast<CUdeviceptr>(off * dtype_size(t)), host.data(),
                static_cast<std::size_t>(m * dtype_size(t)));
    s.sync();
  }
}

} // namespace

int main(int argc, char **argv) {
  std::int64_t n = std::int64_t{1} << 28;
  int reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n")
      n = std::atoll(argv[i + 1]);
    else if (a == "--reps")
      reps = std::max(1, std::atoi(argv[i + 1]));
    else {
      fmt::print(stderr, "usage: xpr_bench_gpu [--n N] [--reps R]\n");
      return 2;
    }
  }
  std::string why;
  if (!Driver::try_get(&why)) {
    fmt::print("gpu_bench: skipped: no CUDA driver/GPU found: {}\n", why);
    return 0;
  }
  try {
    Device dev(0);
    Stream s(dev);
    const int sm = cg::gpu_target_sm(dev.compute_capability());
    fmt::print("gpu_bench: {} (sm_{}, {} SMs, PTX for sm_{}), N = {}, best of {}\n", dev.name(),
               dev.compute_capability(), dev.multiprocessors(), sm, n, reps);

    // The reference: a device-to-device copy reads and writes every byte once.
    DeviceBuffer src(dev, static_cast<std::size_t>(n * 4)),
        dst(dev, static_cast<std::size_t>(n * 4));
    const double tc =
        best_of(reps, s, [&] { s.copy(dst.ptr(), src.ptr(), static_cast<std::size_t>(n * 4)); });
    const double copy_gbs = 2.0 * static_cast<double>(n) * 4 / tc / 1e9;
    fmt::print("{:<22} {:>9.3f} ms {:>8.1f} GB/s  (reference)\n", "cuMemcpyDtoD f32", tc * 1e3,
               copy_gbs);

    cg::GpuJit jit;
    for (const Case &c : kCases) {
      passes::Plan plan = passes::lower_to_plan(fe::compile_script(SourceFile(c.name, c.script)));
      if (plan.steps.size() != 1 || plan.steps[0].kind != passes::Step::Kind::Kernel) {
        fmt::print("{:<22} skipped: not one elementwise kernel\n", c.name);
        continue;
      }
      const passes::KernelStep &ks = plan.steps[0].kernel;
      cg::GpuKernel k;
      k.kernel = &ks.kernel;
      k.name = "bench";
      k.spec.spec.rank = 1;
      k.spec.spec.inputs.assign(ks.inputs.size(), cg::Layout::Contiguous);
      k.spec.spec.outputs.assign(ks.outputs.size(), cg::Layout::Contiguous);
      k.spec.index64 = n >= (std::int64_t{1} << 30);
      k.spec.vector = cg::gpu_vector_width(ks.kernel, k.spec.spec); // cuMemAlloc: 256-B aligned
      auto mod = Module::from_ptx(dev, jit.compile_ptx({k}, sm));
      const Function f = mod->function("bench");

      std::vector<DeviceBuffer> bufs;
      std::vector<std::uint64_t> vals;
      std::int64_t bytes = 0;
      for (int b : ks.inputs) {
        DType t = plan.buffers[static_cast<std::size_t>(b)].type.dtype;
        bufs.emplace_back(dev, static_cast<std::size_t>(n * dtype_size(t)));
        fill(s, bufs.back(), t, n);
        bytes += n * dtype_size(t);
      }
      for (int b : ks.outputs) {
        DType t = plan.buffers[static_cast<std::size_t>(b)].type.dtype;
        bufs.emplace_back(dev, static_cast<std::size_t>(n * dtype_size(t)));
        bytes += n * dtype_size(t);
      }
      for (const DeviceBuffer &b : bufs)
        vals.push_back(b.ptr());
      const std::map<std::string, double> param_values{{"r", 0.05}, {"v", 0.2}};
      for (int pi : ks.params) {
        const passes::ParamInfo &p = plan.params[static_cast<std::size_t>(pi)];
        vals.push_back(rt::pack_param(Scalar(param_values.at(p.name)), p.dtype));
      }
      vals.push_back(static_cast<std::uint64_t>(n)); // shape[0]
      vals.push_back(static_cast<std::uint64_t>(n)); // total
      if (static_cast<int>(vals.size()) != cg::gpu_param_count(ks.kernel, k.spec.spec))
        throw Error(ErrorKind::Internal, "gpu_bench: argument count mismatch");
      std::vector<void *> args;
      for (auto &v : vals)
        args.push_back(&v);
      const LaunchConfig lc = launch_config(f, n);
      const double t = best_of(reps, s, [&] { launch(s, f, lc, args.data()); });
      const double gbs = static_cast<double>(bytes) / t / 1e9;
      fmt::print("{:<22} {:>9.3f} ms {:>8.1f} GB/s  {:>5.1f}% of copy  (grid {} x {}){}\n", c.name,
                 t * 1e3, gbs, 100.0 * gbs / copy_gbs, lc.grid, lc.block,
                 gbs >= 0.85 * copy_gbs ? "" : "  below the 85% target");
    }
    for (const Case &c : kReduceCases) {
      passes::Plan plan = passes::lower_to_plan(fe::compile_script(SourceFile(c.name, c.script)));
      const std::int64_t chunks = (n + cg::kGpuReduceChunk - 1) / cg::kGpuReduceChunk;
      if (plan.steps.size() != 1 || plan.steps[0].kind != passes::Step::Kind::Reduce ||
          chunks > cg::kGpuReduceChunk) {
        fmt::print("{:<22} skipped: not one two-pass reduction at this N\n", c.name);
        continue;
      }
      const passes::ReduceStep &r = plan.steps[0].reduce;
      const DType value = r.map.kernel.type(r.map.kernel.outputs[0].value).dtype;
      const ir::Graph first = cg::make_reduce_kernel(r.map.kernel, r.op);
      const ir::Graph combine = cg::make_combine_kernel(r.op, value);
      cg::GpuKernel k1, k2;
      k1.kernel = &first;
      k1.name = "pass1";
      k1.spec.spec.rank = 1;
      k1.spec.spec.inputs.assign(r.map.inputs.size(), cg::Layout::Contiguous);
      k1.spec.spec.outputs = {cg::Layout::Contiguous};
      k1.spec.index64 = n >= (std::int64_t{1} << 30);
      k2 = k1;
      k2.kernel = &combine;
      k2.name = "pass2";
      k2.spec.spec.inputs = {cg::Layout::Contiguous};
      auto mod = Module::from_ptx(dev, jit.compile_ptx({k1, k2}, sm));
      const Function f1 = mod->function("pass1"), f2 = mod->function("pass2");

      std::vector<DeviceBuffer> bufs;
      std::int64_t bytes = 0;
      for (int b : r.map.inputs) {
        DType t = plan.buffers[static_cast<std::size_t>(b)].type.dtype;
        bufs.emplace_back(dev, static_cast<std::size_t>(n * dtype_size(t)));
        fill(s, bufs.back(), t, n);
        bytes += n * dtype_size(t);
      }
      DeviceBuffer partials(dev, static_cast<std::size_t>(chunks * 8)), out(dev, 8);
      const auto u = [](std::int64_t x) { return static_cast<std::uint64_t>(x); };
      const std::int64_t clen = (n + chunks - 1) / chunks;
      std::vector<std::uint64_t> v1, v2;
      for (const DeviceBuffer &b : bufs)
        v1.push_back(b.ptr());
      v1.insert(v1.end(), {partials.ptr(), u(n), u(n), u(chunks), u(chunks), u(clen)});
      v2 = {partials.ptr(), out.ptr(), u(chunks), u(chunks), 1, 1, u(chunks)};
      if (static_cast<int>(v1.size()) != cg::gpu_param_count(first, k1.spec.spec) ||
          static_cast<int>(v2.size()) != cg::gpu_param_count(combine, k2.spec.spec))
        throw Error(ErrorKind::Internal, "gpu_bench: reduce argument count mismatch");
      std::vector<void *> a1, a2;
      for (auto &x : v1)
        a1.push_back(&x);
      for (auto &x : v2)
        a2.push_back(&x);
      const LaunchConfig l1 = launch_config_blocks(f1, chunks, cg::kGpuReduceThreads);
      const LaunchConfig l2 = launch_config_blocks(f2, 1, cg::kGpuReduceThreads);
      const double t = best_of(reps, s, [&] {
        launch(s, f1, l1, a1.data());
        launch(s, f2, l2, a2.data());
      });
      const double gbs = static_cast<double>(bytes) / t / 1e9;
      fmt::print("{:<22} {:>9.3f} ms {:>8.1f} GB/s  {:>5.1f}% of copy  (grid {} x {}, {} "
                 "chunks){}\n",
                 c.name, t * 1e3, gbs, 100.0 * gbs / copy_gbs, l1.grid, l1.block, chunks,
                 gbs >= 0.85 * copy_gbs ? "" : "  below the 85% target");
    }
    // One first-pass reduce kernel launched in several schedules (compiler/codegen/GpuJit.h):
    // the same bits, so only the time differs. Prints a line each and their ratio, last / first.
    struct Schedule {
      const char *line, *name;
      unsigned threads;
      std::int64_t blocks;
    };
    auto schedules = [&](const char *label, const char *script, cg::Layout layout,
                         std::vector<std::uint64_t> tail, std::int64_t out_values,
                         const std::vector<Schedule> &runs) {
      passes::Plan plan = passes::lower_to_plan(fe::compile_script(SourceFile(label, script)));
      const passes::ReduceStep &r = plan.steps.at(0).reduce;
      const ir::Graph first = cg::make_reduce_kernel(r.map.kernel, r.op);
      cg::GpuKernel k;
      k.kernel = &first;
      k.name = "sched";
      k.spec.spec.rank = 2;
      k.spec.spec.inputs = {layout};
      k.spec.spec.outputs = {cg::Layout::Contiguous};
      k.spec.index64 = n >= (std::int64_t{1} << 30);
      auto mod = Module::from_ptx(dev, jit.compile_ptx({k}, sm));
      const Function f = mod->function("sched");
      DeviceBuffer a(dev, static_cast<std::size_t>(n * 4)),
          out(dev, static_cast<std::size_t>(out_values * 4));
      fill(s, a, DType::F32, n);
      std::vector<std::uint64_t> v{a.ptr(), out.ptr()};
      v.insert(v.end(), tail.begin(), tail.end());
      if (static_cast<int>(v.size()) != cg::gpu_param_count(first, k.spec.spec))
        throw Error(ErrorKind::Internal,
                    fmt::format("gpu_bench: {} argument count mismatch", label));
      std::vector<void *> args;
      for (auto &x : v)
        args.push_back(&x);
      std::vector<double> gbs;
      for (const Schedule &run : runs) {
        const LaunchConfig lc =
            launch_config_blocks(f, run.blocks, run.threads,
                                 cg::gpu_reduce_shared_bytes(static_cast<int>(run.threads), false));
        const double t = best_of(reps, s, [&] { launch(s, f, lc, args.data()); });
        gbs.push_back(static_cast<double>(n * 4) / t / 1e9);
        fmt::print("{:<22} {:>9.3f} ms {:>8.1f} GB/s  {:>5.1f}% of copy  (grid {} x {}, {} "
                   "schedule){}\n",
                   run.line, t * 1e3, gbs.back(), 100.0 * gbs.back() / copy_gbs, lc.grid, lc.block,
                   run.name, gbs.back() >= 0.85 * copy_gbs ? "" : "  below the 85% target");
      }
      fmt::print("{:<22} {} schedule / {} schedule = {:.2f}x\n", label, runs.back().name,
                 runs.front().name, gbs.back() / gbs.front());
    };
    const auto u = [](std::int64_t x) { return static_cast<std::uint64_t>(x); };
    {
      // Short rows (16 values each): 256-thread blocks (a block per row, 7 warps idle) against
      // 128-thread blocks (a warp per row, in segments: the runtimes' pick for such rows).
      const std::int64_t len = 16, rows = n / len;
      const std::int64_t per_block =
          cg::kGpuReduceWarpBlock / 32 * cg::gpu_reduce_units_per_warp(len);
      schedules("rows of 16", "input a: f32[r, k]\noutput s = sum(a, axis=1)\n",
                cg::Layout::Contiguous, {u(rows), u(len), u(len), u(rows), 1, u(len)}, rows,
                {{"rows of 16, block", "block", cg::kGpuReduceThreads, rows},
                 {"rows of 16, warp", "warp", cg::kGpuReduceWarpBlock,
                  (rows + per_block - 1) / per_block}});
    }
    {
      // A column reduction, sum(a, axis=0) of f32[n / 1024, 1024]: 1024 rows of n / 1024 values,
      // each value 1024 apart. The block schedule reads one value of each of 32 rows a warp (a
      // sector for 4 bytes); the column schedule, the runtime's pick, 32 rows' adjacent values.
      const std::int64_t rows = 1024, len = n / rows;
      const std::int64_t chunks = (len + cg::kGpuReduceChunk - 1) / cg::kGpuReduceChunk;
      const std::int64_t clen = (len + chunks - 1) / chunks;
      schedules("columns of 1024", "input a: f32[m, k]\noutput s = sum(a, axis=0)\n",
                cg::Layout::Strided,
                {u(rows), u(len), 1, u(rows), u(len), u(rows * chunks), u(chunks), u(clen)},
                rows * chunks,
                {{"columns, block", "block", cg::kGpuReduceThreads, rows * chunks},
                 {"columns, column", "column", cg::kGpuReduceColumnBlock,
                  rows / cg::kGpuReduceColumnRows * chunks}});
    }
    {
      // Queued runs (docs/gpu.md "Streams"): a chain of small runs on device arrays through the
      // public API, ping-ponging two arrays with run_into (no allocation per run), waited for
      // after every run or once at the end. Small arrays make the per-run cost the measure.
      const std::int64_t m = std::min<std::int64_t>(n, 1 << 16);
      const int chain = 32;
      Context gpu(Target::cuda());
      Program p = gpu.compile("input a: f32[n]\noutput r = a * 0.5 + 0.25\n");
      Array x = gpu.to_device(Array::empty(DType::F32, {m}));
      Array y = gpu.to_device(Array::empty(DType::F32, {m}));
      auto run_chain = [&](bool wait_each) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < chain; ++k) {
          p.run_into({{"a", k % 2 ? y : x}}, {{"r", k % 2 ? x : y}});
          if (wait_each) gpu.synchronize();
        }
        gpu.synchronize();
        return seconds_since(t0) / chain;
      };
      double best[2] = {1e30, 1e30};
      for (int r = 0; r <= reps; ++r) // r = 0 warms up (compile, module load)
        for (int queued = 0; queued < 2; ++queued) {
          const double t = run_chain(queued == 0);
          if (r > 0) best[queued] = std::min(best[queued], t);
        }
      fmt::print("{:<22} {:>9.1f} us/run waited each, {:.1f} us/run queued: {:.2f}x "
                 "(a * 0.5 + 0.25 on {} f32, {} runs)\n",
                 "API run chain", best[0] * 1e6, best[1] * 1e6, best[0] / best[1], m, chain);
    }
  } catch (const Error &e) {
    fmt::print(stderr, "gpu_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
