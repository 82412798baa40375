// tests/gpu/PtxTest.cpp — every kernel of the differential corpus, the fusion tests and the
// examples is compiled to PTX and assembled by ptxas for each checked architecture (docs/gpu.md);
// plus structural checks of the PTX itself. Needs no GPU; the ptxas part skips without the CUDA
// toolkit.
#include "tests/differential/Gen.h"
#include "tests/gpu/ReduceGraphs.h"

#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/ReduceKernel.h"
#include "compiler/ir/Graph.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"

#include <xpr/error.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace xpr::cg {
namespace {

namespace fs = std::filesystem;

std::string ptxas_path() {
  if (const char *p = std::getenv("XPR_PTXAS"); p && *p) return p;
  const char *def = "/usr/local/cuda/bin/ptxas";
  return access(def, X_OK) == 0 ? def : "";
}

struct RunResult {
  int rc = -1;
  std::string output;
};

RunResult run(const std::string &cmd) {
  RunResult r;
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    r.output.append(buf, n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// The architectures to check: sm_70, sm_80 and sm_90, each where this ptxas still accepts it;
/// sm_75 (the oldest CUDA 13 knows) stands in for a dropped sm_70.
std::vector<int> checked_sms(const std::string &ptxas, std::string &note) {
  std::string help = run(ptxas + " --help").output;
  std::vector<int> sms;
  for (int sm : {70, 80, 90}) {
    if (help.find(fmt::format("'sm_{}'", sm)) != std::string::npos) {
      sms.push_back(sm);
    } else if (sm == 70) {
      note +=
          "this ptxas no longer accepts sm_70 (CUDA 13 dropped Volta): checking sm_75 instead. ";
      sms.push_back(75);
    } else {
      note += fmt::format("this ptxas does not accept sm_{}: not checked. ", sm);
    }
  }
  return sms;
}

/// Kernels plus the graphs they point into.
struct Corpus {
  std::vector<std::unique_ptr<ir::Graph>> graphs;
  std::vector<GpuKernel> kernels;
  std::vector<std::string> origin; ///< per kernel: where it came from (failure reports)

  void add(const ir::Graph &g, int rank, std::vector<Layout> in, std::vector<Layout> out,
           bool index64, bool vector, const std::string &from) {
    graphs.push_back(std::make_unique<ir::Graph>(g));
    GpuKernel k;
    k.kernel = graphs.back().get();
    k.spec.spec.rank = rank;
    k.spec.spec.inputs = std::move(in);
    k.spec.spec.outputs = std::move(out);
    k.spec.index64 = index64;
    if (vector) k.spec.vector = gpu_vector_width(g, k.spec.spec);
    k.name = fmt::format("k{}", kernels.size());
    kernels.push_back(std::move(k));
    origin.push_back(from);
  }

  /// Every kernel of a plan (a reduction's map too) in two layouts: contiguous (scalars for
  /// rank-0 operands) with 32-bit indexing and vector loads (whose tail loop is the scalar
  /// contiguous code), and everything strided with 64-bit indexing.
  void add_plan(const passes::Plan &p, const std::string &from) {
    auto add_step = [&](const passes::KernelStep &ks, const std::string &what) {
      const int rank = static_cast<int>(ks.iter_dims.size());
      const int nout = static_cast<int>(ks.kernel.outputs.size());
      std::vector<Layout> in, in_s;
      for (int b : ks.inputs) {
        bool scalar = p.buffers[static_cast<std::size_t>(b)].type.rank() == 0 && rank > 0;
        in.push_back(scalar ? Layout::Scalar : Layout::Contiguous);
        in_s.push_back(scalar ? Layout::Scalar : Layout::Strided);
      }
      add(ks.kernel, rank, in, std::vector<Layout>(nout, Layout::Contiguous), false, true,
          from + " " + what + " contiguous");
      if (rank > 0)
        add(ks.kernel, rank, in_s, std::vector<Layout>(nout, Layout::Strided), true, false,
            from + " " + what + " strided");
    };
    int s = 0;
    for (const passes::Step &st : p.steps) {
      if (st.kind == passes::Step::Kind::Kernel) {
        add_step(st.kernel, fmt::format("step {}", s));
      } else {
        add_step(st.reduce.map, fmt::format("step {} (reduce map)", s));
        add_reduce(st.reduce, fmt::format("{} step {}", from, s));
      }
      ++s;
    }
  }

  /// The GPU reduce kernel of a reduce step (the map fused into the block reduction), where the
  /// cuda target runs it: inputs contiguous with 32-bit indexing, and strided with 64-bit.
  void add_reduce(const passes::ReduceStep &r, const std::string &what) {
    const ir::Graph &map = r.map.kernel;
    if (!reduce_kernel_supported(r.op, map.type(map.outputs.at(0).value).dtype) &&
        !is_arg_reduce(r.op))
      return;
    const ir::Graph k = make_reduce_kernel(map, r.op);
    const int rank = static_cast<int>(r.map.iter_dims.size());
    const std::size_t nin = r.map.inputs.size();
    const std::vector<Layout> out(is_arg_reduce(r.op) ? 2 : 1, Layout::Contiguous);
    add(k, rank, std::vector<Layout>(nin, Layout::Contiguous), out, false, false,
        what + " (GPU reduce) contiguous");
    if (rank > 0)
      add(k, rank, std::vector<Layout>(nin, Layout::Strided), out, true, false,
          what + " (GPU reduce) strided");
  }
};

std::string read_file(const fs::path &p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// The scripts and IR bodies quoted in tests/passes/FusionTest.cpp (its raw strings), so the
/// kernels the fusion tests reason about are the ones assembled here.
void add_fusion_tests(Corpus &c) {
  fs::path src = fs::path(XPR_SOURCE_DIR) / "tests/passes/FusionTest.cpp";
  std::string text = read_file(src);
  ASSERT_FALSE(text.empty()) << "cannot read " << src;
  std::size_t pos = 0;
  int found = 0;
  while ((pos = text.find("R\"(", pos)) != std::string::npos) {
    std::size_t end = text.find(")\"", pos);
    std::string body = text.substr(pos + 3, end - pos - 3);
    pos = end;
    try {
      passes::Plan p;
      if (body.find("%0 =") != std::string::npos && body.find("graph {") == std::string::npos)
        p = passes::lower_to_plan(ir::parse("graph {\n" + body + "}\n"));
      else if (body.rfind("input", 0) == 0 || body.find("\ninput") != std::string::npos)
        p = passes::lower_to_plan(fe::compile_script(SourceFile("<fusion>", body)));
      else
        continue; // an expected printout, not a program
      c.add_plan(p, fmt::format("FusionTest.cpp raw string {}", found++));
    } catch (const Error &) {
      // expected outputs that merely look like programs
    }
  }
  EXPECT_GE(found, 5) << "FusionTest.cpp changed shape: too few programs found";
}

void add_examples(Corpus &c) {
  int n = 0;
  for (const auto &e : fs::directory_iterator(fs::path(XPR_SOURCE_DIR) / "examples")) {
    if (e.path().extension() != ".xpr") continue;
    c.add_plan(passes::lower_to_plan(
                   fe::compile_script(SourceFile(e.path().string(), read_file(e.path())))),
               e.path().filename().string());
    ++n;
  }
  EXPECT_GE(n, 1) << "no examples/*.xpr found";
}

/// Every reduction the cuda target runs, for every value dtype it accumulates: `op(x)` over a
/// rank-2 input, the row reduction the runtime's first pass and its combining passes use.
void add_reductions(Corpus &c) {
  const ir::Op ops[] = {ir::Op::Sum, ir::Op::Mean, ir::Op::Prod,   ir::Op::Min,   ir::Op::Max,
                        ir::Op::Any, ir::Op::All,  ir::Op::ArgMin, ir::Op::ArgMax};
  int n = 0;
  for (ir::Op op : ops)
    for (int t = 0; t <= static_cast<int>(DType::F64); ++t) {
      const auto dt = static_cast<DType>(t);
      const bool arg = is_arg_reduce(op);
      if (!reduce_kernel_supported(op, dt) && !arg) continue;
      const std::vector<Layout> out(arg ? 2 : 1, Layout::Contiguous);
      const ir::Graph k = make_reduce_kernel(testing::row_input_map(dt), op);
      const std::string what = fmt::format("{} of {}", ir::op_name(op), dtype_name(dt));
      c.add(k, 2, {Layout::Contiguous}, out, false, false, what + " contiguous");
      c.add(k, 2, {Layout::Strided}, out, true, false, what + " strided");
      // The pass that combines partials (argmin/argmax: values in their compute type beside
      // their indices).
      if (!arg || !is_half(dt)) {
        const ir::Graph cb = make_combine_kernel(op, dt);
        c.add(cb, 1, std::vector<Layout>(arg ? 2 : 1, Layout::Contiguous), out, false, false,
              what + " combining pass");
      }
      // The kernel that finishes it: the mean's division by its count (a param), the cast to
      // an output dtype other than the result's.
      const DType result = arg ? DType::I64 : dt;
      if (op == ir::Op::Mean)
        c.add(make_finish_kernel(op, result, result), 1, {Layout::Contiguous},
              {Layout::Contiguous}, false, true, what + " finish");
      if (result != DType::F32)
        c.add(make_finish_kernel(op, result, DType::F32), 1, {Layout::Contiguous},
              {Layout::Contiguous}, false, true, what + " finish to f32");
      ++n;
    }
  EXPECT_GE(n, 50) << "fewer reduce kernels than the ops × dtypes the cuda target runs";
}

int env_int(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

/// The seeds of tests/differential/DifferentialTest.cpp (its default master seed and mixing):
/// its default 2000 cases are 500 programs, the first 500 here.
std::uint64_t differential_seed(std::uint64_t i) {
  std::uint64_t x = 0x5eed2024ull ^ (i * 0x100000001b3ull);
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void add_differential(Corpus &c, int programs) {
  for (int i = 0; i < programs; ++i) {
    diff::Program prog = diff::generate_program(differential_seed(static_cast<std::uint64_t>(i)));
    std::string script = prog.script();
    passes::Plan p;
    try {
      p = passes::lower_to_plan(fe::compile_script(SourceFile("<diff>", script)));
    } catch (const Error &e) {
      ADD_FAILURE() << "generated program " << i << " does not compile:\n" << script << e.what();
      continue;
    }
    c.add_plan(p, fmt::format("differential program {} (seed {:#x})", i, prog.seed));
  }
}

TEST(Ptx, CorpusAssemblesForEveryCheckedArch) {
  if (find_libdevice().empty())
    GTEST_SKIP() << "no libdevice.10.bc (the CUDA toolkit's nvvm/libdevice; set XPR_LIBDEVICE): "
                    "kernels with transcendental functions cannot be compiled to PTX here";
  Corpus c;
  const int programs = env_int("XPR_PTX_PROGRAMS", 800);
  add_differential(c, programs);
  add_fusion_tests(c);
  add_examples(c);
  add_reductions(c);
  ASSERT_GT(c.kernels.size(), static_cast<std::size_t>(programs));

  const std::string ptxas = ptxas_path();
  std::string note;
  std::vector<int> sms = ptxas.empty() ? std::vector<int>{80} : checked_sms(ptxas, note);
  // XPR_PTX_ARCH=N keeps only sm_N of those: the sanitizer build, whose run checks memory, not
  // PTX (the main build checks every arch), compiles each kernel once instead of three times.
  if (const int only = env_int("XPR_PTX_ARCH", 0); only && !ptxas.empty()) {
    ASSERT_NE(std::find(sms.begin(), sms.end(), only), sms.end())
        << "XPR_PTX_ARCH=" << only << " is not one of the checked archs";
    sms = {only};
    note += fmt::format("XPR_PTX_ARCH={}: only sm_{} checked. ", only, only);
  }
  if (!note.empty()) std::printf("[ NOTE     ] %s\n", note.c_str());
  std::printf("[ INFO     ] %zu kernels from %d differential programs, the fusion tests and "
              "the examples; arch%s:",
              c.kernels.size(), programs, sms.size() > 1 ? "s" : "");
  for (int sm : sms)
    std::printf(" sm_%d", sm);
  std::printf("%s\n", ptxas.empty() ? " (PTX only: no ptxas found)" : "");

  GpuJit jit;
  fs::path dir = fs::temp_directory_path() / fmt::format("xpr-ptx-{}", getpid());
  fs::create_directories(dir);
  const std::size_t batch = static_cast<std::size_t>(env_int("XPR_PTX_BATCH", 400));
  std::vector<std::future<RunResult>> pending;
  std::vector<std::string> pending_what;
  std::vector<RunResult> results;
  std::size_t done = 0;
  auto t0 = std::chrono::steady_clock::now();
  GpuTimings times;
  for (std::size_t first = 0; first < c.kernels.size(); first += batch) {
    std::size_t last = std::min(c.kernels.size(), first + batch);
    std::vector<GpuKernel> ks(c.kernels.begin() + static_cast<std::ptrdiff_t>(first),
                              c.kernels.begin() + static_cast<std::ptrdiff_t>(last));
    std::vector<std::string> ptxs;
    try {
      ptxs = jit.compile_ptx(ks, sms, &times);
    } catch (const Error &e) {
      // Find the culprit kernel for the report.
      for (std::size_t k = first; k < last; ++k) {
        try {
          jit.compile_ptx({c.kernels[k]}, sms);
        } catch (const Error &e2) {
          FAIL() << c.origin[k] << ": " << e2.what() << "\n" << ir::print(*c.kernels[k].kernel);
        }
      }
      FAIL() << "batch failed: " << e.what();
    }
    for (std::size_t i = 0; i < sms.size(); ++i) {
      const int sm = sms[i];
      const std::string &ptx = ptxs[i];
      for (std::size_t k = first; k < last; ++k)
        ASSERT_NE(ptx.find(".entry " + c.kernels[k].name + "("), std::string::npos)
            << c.origin[k] << ": no .entry in the PTX for sm_" << sm;
      if (ptxas.empty()) continue;
      fs::path file = dir / fmt::format("sm{}_{}.ptx", sm, first);
      std::ofstream(file) << ptx;
      std::string cmd = fmt::format("{} -arch=sm_{} -o /dev/null {}", ptxas, sm, file.string());
      pending_what.push_back(
          fmt::format("sm_{} kernels {}..{} ({})", sm, first, last - 1, file.string()));
      // At most two ptxas at a time beside this thread's compiles: the CI has two cores.
      while (pending.size() - done >= 2)
        results.push_back(pending[done++].get());
      pending.push_back(std::async(std::launch::async, [cmd] { return run(cmd); }));
    }
  }
  std::printf("[ INFO     ] code generation: MLIR %.1f s, LLVM -O2 %.1f s, PTX %.1f s\n",
              times.mlir_ms / 1e3, times.llvm_opt_ms / 1e3, times.ptx_ms / 1e3);
  bool ok = true;
  while (done < pending.size())
    results.push_back(pending[done++].get());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const RunResult &r = results[i];
    EXPECT_EQ(r.rc, 0) << "ptxas failed on " << pending_what[i] << ":\n" << r.output;
    ok = ok && r.rc == 0;
  }
  if (ok) fs::remove_all(dir);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ INFO     ] compiled%s in %.1f s\n", ptxas.empty() ? "" : " and assembled", s);
  if (ptxas.empty())
    GTEST_SKIP() << "no ptxas (set XPR_PTXAS or install the CUDA toolkit): PTX was generated "
                    "for every kernel but not assembled";
}

// ---- structure of the generated PTX ----

struct One {
  passes::Plan plan;
  const ir::Graph *kernel = nullptr;
  const passes::KernelStep *step = nullptr;
};

One one_kernel(const std::string &script) {
  One o;
  o.plan = passes::lower_to_plan(fe::compile_script(SourceFile("<test>", script)));
  for (const passes::Step &s : o.plan.steps)
    if (s.kind == passes::Step::Kind::Kernel) {
      o.step = &s.kernel;
      o.kernel = &s.kernel.kernel;
      break;
    }
  return o;
}

std::string ptx_of(const std::string &script, bool strided, bool index64, int sm = 80,
                   int vector = 1) {
  One o = one_kernel(script);
  EXPECT_NE(o.kernel, nullptr);
  GpuKernelSpec s;
  s.spec.rank = static_cast<int>(o.step->iter_dims.size());
  s.spec.inputs.assign(o.step->inputs.size(), strided ? Layout::Strided : Layout::Contiguous);
  s.spec.outputs.assign(o.kernel->outputs.size(), strided ? Layout::Strided : Layout::Contiguous);
  s.index64 = index64;
  s.vector = vector;
  GpuJit jit;
  return jit.emit(*o.kernel, s, GpuStage::Ptx, sm, "k");
}

int count(const std::string &text, const std::string &what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
    ++n;
  return n;
}

/// The PTX of the GPU reduce kernel of the script's first reduce step (contiguous inputs).
std::string reduce_ptx_of(const std::string &script, bool index64) {
  passes::Plan plan = passes::lower_to_plan(fe::compile_script(SourceFile("<test>", script)));
  for (const passes::Step &s : plan.steps) {
    if (s.kind != passes::Step::Kind::Reduce) continue;
    ir::Graph k = make_reduce_kernel(s.reduce.map.kernel, s.reduce.op);
    GpuKernelSpec gs;
    gs.spec.rank = static_cast<int>(s.reduce.map.iter_dims.size());
    gs.spec.inputs.assign(s.reduce.map.inputs.size(), Layout::Contiguous);
    gs.spec.outputs.assign(is_arg_reduce(s.reduce.op) ? 2 : 1, Layout::Contiguous);
    gs.index64 = index64;
    GpuJit jit;
    EXPECT_EQ(gpu_param_count(k, gs.spec),
              static_cast<int>(s.reduce.map.inputs.size() + gs.spec.outputs.size() +
                               k.params().size()) +
                  gs.spec.rank + 4);
    return jit.emit(k, gs, GpuStage::Ptx, 80, "k");
  }
  ADD_FAILURE() << "no reduce step in:\n" << script;
  return {};
}

TEST(Ptx, ReduceKernelsFuseTheMapAndCombineInAFixedTree) {
  // sum(a * b): the product is computed in registers and folded; nothing is stored but the one
  // partial per unit. Three schedules, chosen by the block size (%ntid.x): the block schedule's
  // tree is 5 + 3 shuffle steps with the warps meeting in shared memory; the warp schedule's is
  // a tree of 5 in a nest of three 2-trip loops (one trip per block-schedule warp a lane
  // plays), combined in registers, or for chunks of at most 32 values one tree of 5 over
  // segments of a warp; the column schedule shuffles nothing (a lane a row) and meets in
  // dynamic shared memory, 16 warps × 32 rows of slots.
  constexpr int kBlock = 5 + 3, kSegment = 5;
  // LLVM unrolls the warp schedule's loops as it judges best: 1, 2, 4 or 8 copies of its tree.
  // Each of `words` 32-bit words of a value crosses lanes through every shuffle.
  auto warp_trees = [](const std::string &p, int words) {
    const int all = count(p, "shfl.sync.down.b32");
    EXPECT_EQ(all % words, 0) << p;
    const int warp = all / words - kBlock - kSegment;
    EXPECT_EQ(warp % 5, 0) << p;
    EXPECT_TRUE(warp / 5 == 1 || warp / 5 == 2 || warp / 5 == 4 || warp / 5 == 8) << warp << p;
    return warp / 5;
  };
  std::string ptx =
      reduce_ptx_of("input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b)\n", false);
  EXPECT_NE(ptx.find("mul.rn.f32"), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("%ntid.x"), std::string::npos) << ptx;
  warp_trees(ptx, 1);
  EXPECT_GE(count(ptx, "bar.sync"), 2) << ptx;
  EXPECT_NE(ptx.find(".shared .align 8 .b8 k_warps[64]"), std::string::npos) << ptx;
  // The column schedule's slots are dynamic shared memory, given by its launches alone.
  EXPECT_NE(ptx.find(".extern .shared .align 8 .b8 k_columns[];"), std::string::npos) << ptx;
  EXPECT_EQ(count(ptx, "st.global"), 4) << "one store per schedule\n" << ptx;
  EXPECT_EQ(count(ptx, "atom."), 0) << "no atomics: the order is fixed\n" << ptx;
  // f64 values cross lanes as two 32-bit halves.
  std::string ptx64 = reduce_ptx_of("input a: f64[n, m]\noutput s = max(a, axis=1)\n", true);
  warp_trees(ptx64, 2);
  // argmax: (value, index) pairs, both through every shuffle; f32 values with i64 indices.
  std::string am = reduce_ptx_of("input a: f32[n]\noutput s = argmax(a)\n", false);
  // Eight copies of an argmax tree (and of its fold) were most of the kernel's compile time.
  EXPECT_EQ(warp_trees(am, 3), 1) << "the warp schedule's loops stay loops for argmax";
  EXPECT_NE(am.find("_warps[128]"), std::string::npos) << am;
  EXPECT_NE(am.find("k_columns[]"), std::string::npos) << am;
  // One unit's value and its index per schedule, the index in one 64-bit store (stores say
  // their natural alignment; LLVM's default layout would split i64 stores into two halves).
  EXPECT_EQ(count(am, "st.global.f32"), 4) << am;
  EXPECT_EQ(count(am, "st.global.u64"), 4) << am;
  EXPECT_EQ(count(am, "st.global"), 8) << am;
  std::string isum = reduce_ptx_of("input a: i64[n]\noutput s = sum(a)\n", false);
  EXPECT_EQ(count(isum, "st.global.u64"), 4) << isum;
  EXPECT_EQ(count(isum, "st.global"), 4) << isum;
  EXPECT_EQ(count(am, "atom."), 0) << am;
  // Bytes (bool) widen to 32 bits to cross lanes.
  std::string any = reduce_ptx_of("input a: f32[n]\noutput s = any(a > 0)\n", false);
  warp_trees(any, 1);
  EXPECT_NE(any.find("st.global.u8"), std::string::npos) << any;
}

TEST(Ptx, NoContractionIntoFma) {
  // a*b + c is two roundings on the CPU; the GPU must not fuse it (nor may ptxas: .rn).
  std::string ptx = ptx_of("input a: f32[n]\ninput b: f32[n]\ninput c: f32[n]\n"
                           "output r = a * b + c\n",
                           false, false);
  EXPECT_EQ(count(ptx, "fma."), 0) << ptx;
  EXPECT_GE(count(ptx, "mul.rn.f32"), 1) << ptx;
  EXPECT_GE(count(ptx, "add.rn.f32"), 1) << ptx;
  // The explicit fma() is one rounding.
  ptx = ptx_of("input a: f64[n]\ninput b: f64[n]\ninput c: f64[n]\noutput r = fma(a, b, c)\n",
               false, false);
  EXPECT_EQ(count(ptx, "fma.rn.f64"), 1) << ptx;
}

TEST(Ptx, GridStrideLoopAndIndexWidth) {
  const char *script = "input a: f32[n, m]\ninput b: f32[n, m]\noutput r = a - b\n";
  std::string c32 = ptx_of(script, false, false);
  EXPECT_GE(count(c32, "%nctaid.x"), 1) << "no grid-stride step:\n" << c32;
  EXPECT_EQ(count(c32, "div."), 0) << "contiguous kernels need no index division:\n" << c32;
  std::string s32 = ptx_of(script, true, false);
  EXPECT_EQ(count(s32, "div.u64") + count(s32, "rem.u64"), 0) << s32;
  EXPECT_GE(count(s32, "div.u32") + count(s32, "rem.u32"), 1) << s32;
  std::string s64 = ptx_of(script, true, true);
  EXPECT_GE(count(s64, "div.u64") + count(s64, "rem.u64"), 1) << s64;
}

TEST(Ptx, VectorLoadsAndStores) {
  const char *f32 = "input a: f32[n]\ninput b: f32[n]\noutput r = a * b\n";
  One o = one_kernel(f32);
  KernelSpec ks;
  ks.rank = 1;
  ks.inputs = {Layout::Contiguous, Layout::Contiguous};
  ks.outputs = {Layout::Contiguous};
  EXPECT_EQ(gpu_vector_width(*o.kernel, ks), 4);
  std::string ptx = ptx_of(f32, false, false, 80, 4);
  EXPECT_EQ(count(ptx, "ld.global.v4.f32"), 2) << ptx;
  EXPECT_EQ(count(ptx, "st.global.v4.f32"), 1) << ptx;
  // The tail (n % 4) is the scalar loop.
  EXPECT_GE(count(ptx, "ld.global.f32"), 2) << ptx;
  const char *f64 = "input a: f64[n]\ninput s: f32[]\noutput r = a * s\n";
  o = one_kernel(f64);
  ks.inputs = {Layout::Contiguous, Layout::Scalar};
  EXPECT_EQ(gpu_vector_width(*o.kernel, ks), 2);
  ks.inputs = {Layout::Strided, Layout::Scalar};
  EXPECT_EQ(gpu_vector_width(*o.kernel, ks), 1);
  ptx = ptx_of(f64, false, true, 90, 2);
  EXPECT_EQ(count(ptx, "ld.global.v2.f64"), 1) << ptx;
  EXPECT_EQ(count(ptx, "st.global.v2.f64"), 1) << ptx;
}

TEST(Ptx, MathComesFromLibdeviceInlined) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  std::string ptx = ptx_of("input a: f32[n]\ninput b: f64[n]\n"
                           "output r = exp(a) + sin(a)\noutput s = log1p(b) * erfc(b)\n",
                           false, true);
  EXPECT_EQ(count(ptx, ".extern"), 0) << "unresolved function:\n" << ptx;
  EXPECT_EQ(count(ptx, "__nv_"), 0) << "libdevice function not internalized and inlined";
  // Denormals are not flushed (as on the CPU). libdevice's non-FTZ paths still use two
  // approximations that PTX only has in .ftz form, on arguments they have scaled into range.
  EXPECT_EQ(count(ptx, ".ftz"), count(ptx, "rcp.approx.ftz.f64") + count(ptx, "ex2.approx.ftz.f32"))
      << "a flushing instruction:\n"
      << ptx;
}

// Black-Scholes takes Φ of d1, -d1, d2 and -d2. On a GPU its time is the f64 issue rate (the f32
// Φ is evaluated in f64, docs/gpu.md), so Φ(x) and Φ(-x) must cost one erfc, as on the CPU
// (CpuJit.NcdfOfBothSignsSharesOneErfc checks the bits).
TEST(Ptx, NcdfOfBothSignsSharesOneErfc) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  for (const char *t : {"f32", "f64"}) {
    SCOPED_TRACE(t);
    std::string decl = std::string("input a: ") + t + "[n]\n";
    std::string one = ptx_of(decl + "output p = ncdf(a)\n", false, false);
    std::string both = ptx_of(decl + "output p = ncdf(a)\noutput q = ncdf(-a)\n", false, false);
    int f1 = count(one, "fma.rn.f64"), f2 = count(both, "fma.rn.f64");
    EXPECT_GT(f1, 20) << one;
    EXPECT_LE(f2, f1 + 2) << "Φ(-a) did not reuse Φ(a)'s erfc:\n" << both;
  }
}

TEST(Ptx, UnsupportedArchIsARuntimeError) {
  One o = one_kernel("input a: f32[n]\noutput r = a + 1\n");
  GpuKernelSpec s;
  s.spec.rank = 1;
  s.spec.inputs = {Layout::Contiguous};
  s.spec.outputs = {Layout::Contiguous};
  GpuJit jit;
  try {
    jit.emit(*o.kernel, s, GpuStage::Ptx, 61);
    FAIL() << "sm_61 accepted";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("sm_61"), std::string::npos) << e.what();
  }
  EXPECT_EQ(gpu_target_sm(90), 90);
  EXPECT_EQ(gpu_target_sm(120), 90); // newer GPUs JIT the newest PTX we make
  EXPECT_EQ(gpu_target_sm(86), 86);
  EXPECT_THROW(gpu_target_sm(60), Error);
}

} // namespace
} // namespace xpr::cg
