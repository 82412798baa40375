// tests/aot/AotCudaTest.cpp — xprc's cuda target: an object made by `xprc --target cuda:sm_80`,
// linked into a C program (tests/aot/cuda/saxpy_main.c) with plain cc and libxpr_rt, run
// - against tests/gpu's fake libcuda.so.1 (everything but the GPU: driver and module loading,
//   the cubin refused and the PTX taken, transfers, the kernel ABI, launches, outputs back,
//   strided and in-place arguments, errors before launch);
// - without any driver, and against the toolkit's stub driver (a clean XPR_RT_EDEVICE);
// - with reductions (tests/aot/cuda/reduce_main.c: a column mean and an argmax, in passes);
// - on tests/gpu's PTX simulator, the objects' kernels themselves;
// - on a real GPU where there is one (skipped with a message elsewhere);
// and xprc's own diagnostics for the target.
#include "tests/aot/Shell.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

using xpr::aottest::sh;

std::string read_text(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Whether this process finds a real libcuda.so.1 (with the library path it was started with).
bool real_driver_present() {
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) return false;
  const bool fake = dlsym(h, "xpr_fake_cuda_set_kernel") != nullptr;
  dlclose(h);
  return !fake;
}

class AotCuda : public ::testing::Test {
protected:
  // One directory per process: ctest runs each case in its own process, several at once.
  static fs::path dir() {
    static const fs::path d = fs::path(XPR_AOT_WORK_DIR) / std::to_string(::getpid());
    return d;
  }
  static std::string xprc() { return XPRC_PATH; }
  static std::string src(const std::string &f) { return std::string(XPR_AOT_CUDA_DIR) + "/" + f; }
  static std::string prog() { return (dir() / "saxpy_main").string(); }

  static void SetUpTestSuite() {
    fs::remove_all(dir());
    fs::create_directories(dir());
    const std::string d = dir().string();
    log_.clear();
    auto run = [&](const std::string &cmd) {
      auto [rc, out] = sh(cmd);
      if (rc != 0) log_ += "FAILED (" + std::to_string(rc) + "): " + cmd + "\n" + out + "\n";
      return rc == 0;
    };
    // -ffp-contract=off: the program's expected a*s + b must round twice, as the kernel does.
    built_ = run(xprc() + " " + src("saxpy.xpr") + " --target cuda:sm_80 -o " + d +
                 "/saxpy.o --header " + d + "/saxpy.h") &&
             run(std::string(XPR_CC) + " -std=c11 -O2 -Wall -Werror -ffp-contract=off -I" + d +
                 " " + src("saxpy_main.c") + " " + d + "/saxpy.o " + XPR_RT_LIB +
                 " -lm -lpthread -ldl -o " + prog()) &&
             // Black-Scholes for the CPU and the GPU in one program (bs_main.c).
             run(xprc() + " " + XPR_AOT_EXAMPLES + "/blackscholes.xpr --name bs_cpu -o " + d +
                 "/bs_cpu.o --header " + d + "/bs_cpu.h") &&
             run(xprc() + " " + XPR_AOT_EXAMPLES + "/blackscholes.xpr --name bs_gpu --target "
                 "cuda:sm_80 -o " + d + "/bs_gpu.o --header " + d + "/bs_gpu.h") &&
             run(std::string(XPR_CC) + " -std=c11 -O2 -Wall -Werror -I" + d + " " +
                 src("bs_main.c") + " " + d + "/bs_cpu.o " + d + "/bs_gpu.o " + XPR_RT_LIB +
                 " -lsleef -lm -lpthread -ldl -o " + d + "/bs_main") &&
             // Reductions: a column mean and an argmax, two cuda objects in one program.
             run(xprc() + " " + src("colmean.xpr") + " --target cuda:sm_80 -o " + d +
                 "/colmean.o --header " + d + "/colmean.h") &&
             run(xprc() + " " + src("argmax.xpr") + " --target cuda:sm_80 -o " + d +
                 "/argmax.o --header " + d + "/argmax.h") &&
             run(std::string(XPR_CC) + " -std=c11 -O2 -Wall -Werror -ffp-contract=off -I" + d +
                 " " + src("reduce_main.c") + " " + d + "/colmean.o " + d + "/argmax.o " +
                 XPR_RT_LIB + " -lm -lpthread -ldl -o " + d + "/reduce_main");
  }
  static void TearDownTestSuite() {
    // The program stays one level up for scripts/device/bundle.sh (renamed into place whole).
    std::error_code ec;
    const fs::path keep = fs::path(XPR_AOT_WORK_DIR) / "saxpy_main";
    const fs::path tmp = keep.string() + "." + std::to_string(::getpid());
    if (built_ && fs::copy_file(prog(), tmp, fs::copy_options::overwrite_existing, ec))
      fs::rename(tmp, keep, ec);
    for (const char *p : {"bs_main", "reduce_main"}) {
      const fs::path keep_p = fs::path(XPR_AOT_WORK_DIR) / p;
      const fs::path tmp_p = keep_p.string() + "." + std::to_string(::getpid());
      if (built_ && fs::copy_file(dir() / p, tmp_p, fs::copy_options::overwrite_existing, ec))
        fs::rename(tmp_p, keep_p, ec);
    }
    fs::remove_all(dir(), ec);
  }
  void SetUp() override { ASSERT_TRUE(built_) << log_; }
  static bool built_;
  static std::string log_;
};
bool AotCuda::built_ = false;
std::string AotCuda::log_;

TEST_F(AotCuda, FakeDriverRunsTheWholeObject) {
  auto [rc, out] = sh("env " XPR_AOT_FAKE_ENV "LD_LIBRARY_PATH=" + std::string(XPR_FAKE_CUDA_DIR) +
                      " " + prog() + " fake 100003");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("fake: 100003 elements, 0 failure(s)"), std::string::npos) << out;
}

TEST_F(AotCuda, FakeDriverRunsReductionsInPasses) {
  auto [rc, out] = sh("env " XPR_AOT_FAKE_ENV "LD_LIBRARY_PATH=" + std::string(XPR_FAKE_CUDA_DIR) +
                      " " + (dir() / "reduce_main").string() + " fake");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("fake: 0 failure(s)"), std::string::npos) << out;
}

// The objects' own PTX on tests/gpu's PTX simulator (the fake driver with
// XPR_FAKE_CUDA_SIMULATE=1): the programs' "real" checks, which compare with exact C results.
TEST_F(AotCuda, SimulatedGpuRunsTheObjectsKernels) {
  const std::string env =
      "env " XPR_AOT_FAKE_ENV "LD_LIBRARY_PATH=" + std::string(XPR_FAKE_CUDA_DIR) +
      " XPR_FAKE_CUDA_SIMULATE=1 ";
  auto [rc, out] = sh(env + (dir() / "reduce_main").string() + " real");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("real: 0 failure(s)"), std::string::npos) << out;
  std::tie(rc, out) = sh(env + prog() + " real 100003");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("real: 100003 elements, 0 failure(s)"), std::string::npos) << out;
}

TEST_F(AotCuda, WithoutADriverTheCallFailsCleanly) {
  if (real_driver_present()) GTEST_SKIP() << "a CUDA driver is installed here (RealGpu covers it)";
  auto [rc, out] = sh("env -u LD_LIBRARY_PATH " + prog() + " nodriver");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("no CUDA driver found (libcuda.so.1: "), std::string::npos) << out;
}

TEST_F(AotCuda, StubDriverNamesTheCudaError) {
  if (!fs::exists(std::string(XPR_STUB_CUDA_DIR) + "/libcuda.so.1"))
    GTEST_SKIP() << "no CUDA toolkit stub driver at " << XPR_STUB_CUDA_DIR;
  // The stub fails cuInit: the program's "no driver" checks fail, naming the stub's error.
  auto [rc, out] = sh("env LD_LIBRARY_PATH=" + std::string(XPR_STUB_CUDA_DIR) + " " + prog() +
                      " nodriver");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("CUDA_ERROR_STUB_LIBRARY (34) in cuInit"), std::string::npos) << out;
}

TEST_F(AotCuda, RealGpuComputesTheSameAsTheProgram) {
  if (!real_driver_present())
    GTEST_SKIP() << "no CUDA driver here: the real-GPU run of the cuda object needs a GPU "
                    "(scripts/device/check.sh runs it)";
  auto [rc, out] = sh(prog() + " real 1000003");
  if (out.find("CUDA_ERROR_NO_DEVICE") != std::string::npos)
    GTEST_SKIP() << "a CUDA driver but no GPU: " << out;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("real: 1000003 elements, 0 failure(s)"), std::string::npos) << out;
  // Black-Scholes: the cuda object against the CPU object, in one program.
  std::tie(rc, out) = sh((dir() / "bs_main").string() + " 1000000");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("0 beyond 4e-6"), std::string::npos) << out;
  // Reductions: the column mean and argmax, exact (the inputs are small integers).
  std::tie(rc, out) = sh((dir() / "reduce_main").string() + " real");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("real: 0 failure(s)"), std::string::npos) << out;
}

TEST_F(AotCuda, ProgramLinksWithoutLlvmMlirOrCuda) {
  auto [rc, deps] = sh("ldd " + prog());
  ASSERT_EQ(rc, 0) << deps;
  for (const char *lib : {"LLVM", "MLIR", "libcuda", "libstdc++"})
    EXPECT_EQ(deps.find(lib), std::string::npos) << lib << " in\n" << deps;
  auto [rc2, undef] = sh("nm -u " + prog());
  ASSERT_EQ(rc2, 0);
  EXPECT_EQ(undef.find(" cu"), std::string::npos) << undef; // the driver is dlopen'd
}

TEST_F(AotCuda, HeaderSaysWhereItRuns) {
  const std::string h = read_text(dir() / "saxpy.h");
  EXPECT_NE(h.find("for target cuda:sm_80"), std::string::npos) << h;
  EXPECT_NE(h.find(" * Runs on an NVIDIA GPU: CUDA device 0"), std::string::npos) << h;
  EXPECT_NE(h.find("the call returns XPR_RT_EDEVICE and writes nothing"), std::string::npos) << h;
  EXPECT_NE(h.find("A cuda object runs whole calls only: _range returns XPR_RT_EUNSUPPORTED"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("XPR_RT_EDEVICE = 9"), std::string::npos) << h;
  // Embedded: a cubin where ptxas knows sm_80, else the PTX alone, said so.
  EXPECT_TRUE(h.find(" * Embedded: PTX for sm_80 and a cubin for sm_80") != std::string::npos ||
              h.find(" * Embedded: PTX for sm_80 (no cubin: ") != std::string::npos)
      << h;
}

TEST_F(AotCuda, XprcDiagnostics) {
  const std::string d = dir().string();
  // A reduction: its passes are in the PTX (the first pass with the map fused, the combining
  // pass, the mean's finishing kernel), reducing by warp shuffles, without atomics.
  std::ofstream(dir() / "red.xpr") << "input a: f16[n]\noutput t = mean(a * 2)\n";
  auto [rc, out] = sh(xprc() + " " + d + "/red.xpr --target cuda:sm_80 --emit=ptx");
  EXPECT_EQ(rc, 0) << out;
  for (const char *want : {".entry xk0(", ".entry xk1(", ".entry xk2(", "shfl.sync.down"})
    EXPECT_NE(out.find(want), std::string::npos) << want << " in\n" << out;
  EXPECT_EQ(out.find("atom."), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --target cuda:sm_60 -o " + d + "/x.o");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("expected cuda:sm_XX with XX the compute capability"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --target cuda:gfx90a -o " + d + "/x.o");
  EXPECT_EQ(rc, 2) << out;
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --emit=ptx");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--emit=ptx needs a cuda target"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --target cuda:sm_90 --emit=ptx");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(".target sm_90"), std::string::npos) << out;
  EXPECT_NE(out.find(".entry xk0("), std::string::npos) << out;
  // A ptxas that fails: a warning, and an object with the PTX alone.
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --target cuda:sm_80 --ptxas /bin/false -o " +
                         d + "/p.o --header " + d + "/p.h");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("xprc: warning: /bin/false cannot assemble for sm_80"), std::string::npos) << out;
  EXPECT_NE(read_text(dir() / "p.h").find("(no cubin: /bin/false failed for sm_80"), std::string::npos);
  std::tie(rc, out) = sh(xprc() + " " + src("saxpy.xpr") + " --target cuda:sm_80 --no-cubin --header " +
                         d + "/q.h");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(read_text(dir() / "q.h").find("(no cubin: --no-cubin; the driver compiles the PTX on "
                                          "first use)"),
            std::string::npos);
}

} // namespace
