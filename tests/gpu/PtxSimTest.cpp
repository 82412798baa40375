// tests/gpu/PtxSimTest.cpp — GPU reduce kernels run on the PTX simulator (tests/gpu/PtxSim.h)
// directly, without a driver: the two schedules (a block per unit, a warp per unit) give the same
// bits for every grid, and both are the documented order of compiler/codegen/GpuJit.h, modelled
// here in plain C++ (thread t folds values t, t + 256, ...; shuffle trees w = 16 ... 1 in each
// warp, then w = 4, 2, 1 across the 8 warps). Also the simulator's own contract: an instruction
// it does not know fails the launch with a message naming it.
#include "tests/gpu/PtxSim.h"
#include "tests/gpu/ReduceGraphs.h"

#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/ReduceKernel.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace xpr::cg {
namespace {

/// The PTX of `op` over x: dt[r, n] (contiguous: a row reduction; Strided: any), entry "k".
std::string reduce_ptx(ir::Op op, DType dt, Layout layout = Layout::Contiguous) {
  const ir::Graph k = make_reduce_kernel(testing::row_input_map(dt), op);
  GpuKernel gk;
  gk.kernel = &k;
  gk.spec.spec.rank = 2;
  gk.spec.spec.inputs = {layout};
  gk.spec.spec.outputs.assign(is_arg_reduce(op) ? 2 : 1, Layout::Contiguous);
  gk.spec.index64 = true;
  gk.name = "k";
  static GpuJit jit;
  return jit.compile_ptx({gk}, 80);
}

/// Launches the reduce ABI over rows × n values of x: one unit per row (n fits one chunk). A
/// Strided kernel reads row o's value j at x[o * strides[0] + j * strides[1]]. The block gets
/// the dynamic shared memory a runtime gives it (gpu_reduce_shared_bytes), or `shared` bytes
/// when that is not negative. Returns why it failed, or "".
std::string run(const std::string &ptx, const void *x, void *values, void *indices,
                std::int64_t rows, std::int64_t n, unsigned grid, unsigned block,
                const std::vector<std::int64_t> &strides = {}, ptxsim::LaunchStats *stats = nullptr,
                int shared = -1) {
  std::vector<std::uint64_t> p;
  p.push_back(reinterpret_cast<std::uintptr_t>(x));
  p.push_back(reinterpret_cast<std::uintptr_t>(values));
  if (indices) p.push_back(reinterpret_cast<std::uintptr_t>(indices));
  const std::int64_t clen = std::max<std::int64_t>(n, 1);
  std::vector<std::int64_t> tail{rows, n};
  tail.insert(tail.end(), strides.begin(), strides.end());
  tail.insert(tail.end(), {n, rows, std::int64_t{1}, clen});
  for (std::int64_t v : tail)
    p.push_back(static_cast<std::uint64_t>(v));
  std::vector<void *> args;
  for (auto &v : p)
    args.push_back(&v);
  const unsigned dynamic =
      shared >= 0 ? static_cast<unsigned>(shared)
                  : gpu_reduce_shared_bytes(static_cast<int>(block), indices != nullptr);
  return ptxsim::launch(ptx, "k", grid, block, args.data(), stats, dynamic);
}

/// The documented order, for a combination `comb` with identity `id`.
template <typename T>
T model(const T *row, std::int64_t n, T id, const std::function<T(T, T)> &comb) {
  std::vector<T> t(kGpuReduceThreads, id);
  for (int th = 0; th < kGpuReduceThreads; ++th)
    for (std::int64_t j = th; j < n; j += kGpuReduceThreads)
      t[static_cast<std::size_t>(th)] = comb(t[static_cast<std::size_t>(th)], row[j]);
  auto tree = [&](std::vector<T> v, int widest) { // lane l with lane l + w (clamped to itself)
    for (int w = widest; w >= 1; w /= 2) {
      std::vector<T> o = v;
      for (int l = 0; l < 32; ++l)
        o[static_cast<std::size_t>(l)] = comb(v[static_cast<std::size_t>(l)],
                                              v[static_cast<std::size_t>(l + w < 32 ? l + w : l)]);
      v = o;
    }
    return v[0];
  };
  std::vector<T> warps(32, id);
  for (int w = 0; w < 8; ++w)
    warps[static_cast<std::size_t>(w)] =
        tree(std::vector<T>(t.begin() + 32 * w, t.begin() + 32 * w + 32), 16);
  return tree(warps, 4);
}

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(PtxSim, BothReduceSchedulesGiveTheDocumentedOrdersBits) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  const std::string ptx = reduce_ptx(ir::Op::Sum, DType::F32);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1e4f, 1e4f);
  // Rows of at most 32 values take the warp schedule's segments (2^⌈log2 n⌉ lanes a row).
  for (std::int64_t n : {0, 1, 2, 3, 5, 16, 17, 31, 32, 33, 256, 257, 1000, 4099}) {
    const std::int64_t rows = 9;
    std::vector<float> x(static_cast<std::size_t>(rows * n));
    for (float &v : x)
      v = u(rng) * (rng() % 7 == 0 ? 1e-6f : 1.0f); // magnitudes apart: the order shows in bits
    std::vector<std::uint32_t> want(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r)
      want[static_cast<std::size_t>(r)] =
          bits(model<float>(x.data() + r * n, n, 0.0f, [](float a, float b) { return a + b; }));
    for (unsigned block : {256u, 128u, 512u})
      for (unsigned grid : {1u, 2u, 5u}) {
        std::vector<float> got(static_cast<std::size_t>(rows), -7.0f);
        ASSERT_EQ(run(ptx, x.data(), got.data(), nullptr, rows, n, grid, block), "");
        for (std::int64_t r = 0; r < rows; ++r)
          EXPECT_EQ(bits(got[static_cast<std::size_t>(r)]), want[static_cast<std::size_t>(r)])
              << "n " << n << " row " << r << " block " << block << " grid " << grid;
      }
  }
}

TEST(PtxSim, TheColumnScheduleReadsAColumnReductionCoalescedWithTheSameBits) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  // x: f32[m, k] in C order, summed over axis 0: k rows of m values, each value k apart.
  const std::string ptx = reduce_ptx(ir::Op::Sum, DType::F32, Layout::Strided);
  const std::int64_t m = 300, k = 70; // 3 groups of 32 rows, the last 6 rows long
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1e4f, 1e4f);
  std::vector<float> x(static_cast<std::size_t>(m * k));
  for (float &v : x)
    v = u(rng) * (rng() % 5 == 0 ? 1e-6f : 1.0f);
  std::vector<std::uint32_t> want;
  for (std::int64_t c = 0; c < k; ++c) {
    std::vector<float> col;
    for (std::int64_t r = 0; r < m; ++r)
      col.push_back(x[static_cast<std::size_t>(r * k + c)]);
    want.push_back(bits(model<float>(col.data(), m, 0.0f, [](float a, float b) { return a + b; })));
  }
  std::vector<double> read;
  for (unsigned block : {256u, 128u, 512u})
    for (unsigned grid : {1u, 4u}) {
      std::vector<float> got(static_cast<std::size_t>(k), -7.0f);
      ptxsim::LaunchStats st;
      ASSERT_EQ(run(ptx, x.data(), got.data(), nullptr, k, m, grid, block, {1, k}, &st), "");
      for (std::int64_t c = 0; c < k; ++c)
        EXPECT_EQ(bits(got[static_cast<std::size_t>(c)]), want[static_cast<std::size_t>(c)])
            << "column " << c << " block " << block << " grid " << grid;
      // Sectors fetched per sector of x (84000 bytes: 2625).
      read.push_back(static_cast<double>(st.sectors) / (static_cast<double>(m * k) * 4 / 32));
    }
  // The block and warp schedules read one value of a row per lane: 8 sectors for every one
  // holding data, nearly (a lane's 4 bytes in a sector of 32). The column schedule's 32 lanes
  // read 32 adjacent floats: 1.26 (the last group has 6 rows; rows start mid-sector).
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_GT(read[i], 7.5) << i;
  for (std::size_t i = 4; i < 6; ++i)
    EXPECT_LT(read[i], 1.3) << i;
}

TEST(PtxSim, OnlyTheColumnScheduleNeedsDynamicSharedMemory) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  // Its slots are the launch's dynamic shared memory: 4 KiB for a sum, 8 KiB for argmax's
  // pairs. A launch giving less fails (its accesses fall outside the block's memory); the
  // block and warp schedules need none.
  EXPECT_EQ(gpu_reduce_shared_bytes(kGpuReduceColumnBlock, false), 4096u);
  EXPECT_EQ(gpu_reduce_shared_bytes(kGpuReduceColumnBlock, true), 8192u);
  EXPECT_EQ(gpu_reduce_shared_bytes(kGpuReduceThreads, true), 0u);
  EXPECT_EQ(gpu_reduce_shared_bytes(kGpuReduceWarpBlock, true), 0u);
  const std::int64_t rows = 40, n = 100;
  std::vector<double> x(static_cast<std::size_t>(rows * n), 1.0), v(rows);
  std::vector<std::int64_t> k(rows);
  const std::string sum = reduce_ptx(ir::Op::Sum, DType::F64);
  const std::string arg = reduce_ptx(ir::Op::ArgMax, DType::F64);
  EXPECT_NE(run(sum, x.data(), v.data(), nullptr, rows, n, 1, 512, {}, nullptr, 0)
                .find("shared memory access out of bounds"),
            std::string::npos);
  EXPECT_NE(run(arg, x.data(), v.data(), k.data(), rows, n, 1, 512, {}, nullptr, 4096)
                .find("shared memory access out of bounds"),
            std::string::npos);
  EXPECT_EQ(run(arg, x.data(), v.data(), k.data(), rows, n, 1, 512, {}, nullptr, 8192), "");
  for (unsigned block : {256u, 128u})
    EXPECT_EQ(run(arg, x.data(), v.data(), k.data(), rows, n, 2, block, {}, nullptr, 0), "")
        << block;
  for (std::int64_t r = 0; r < rows; ++r)
    EXPECT_EQ(v[static_cast<std::size_t>(r)], 1.0) << r;
}

TEST(PtxSim, SegmentsShuffleOnlyWithinThemselves) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  // Rows of n <= 32 values take segments of seg = 2^ceil(log2 n) lanes, 32 / seg rows a warp:
  // a group of rows costs log2(seg) shuffle steps, one shfl.sync each for f32 (not all 5 of a
  // warp's tree), with the same bits as the block schedule.
  const std::string ptx = reduce_ptx(ir::Op::Sum, DType::F32);
  const std::int64_t rows = 100;
  for (std::int64_t n : {1, 2, 3, 4, 9, 16, 32}) {
    std::int64_t seg = 1, steps = 0;
    while (seg < n) {
      seg *= 2;
      ++steps;
    }
    std::vector<float> x(static_cast<std::size_t>(rows * n));
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(i % 17) * 0.37f - 2.0f;
    std::vector<float> warp(rows), block(rows);
    ptxsim::LaunchStats st;
    ASSERT_EQ(run(ptx, x.data(), warp.data(), nullptr, rows, n, 3, 128, {}, &st), "");
    ASSERT_EQ(run(ptx, x.data(), block.data(), nullptr, rows, n, 3, 256), "");
    const std::int64_t groups = (rows + 32 / seg - 1) / (32 / seg);
    EXPECT_EQ(st.shuffles, static_cast<std::uint64_t>(groups * steps)) << "n " << n;
    for (std::int64_t r = 0; r < rows; ++r)
      EXPECT_EQ(bits(warp[static_cast<std::size_t>(r)]), bits(block[static_cast<std::size_t>(r)]))
          << "n " << n << " row " << r;
  }
}

TEST(PtxSim, BothScheduleAgreeOnArgmaxPairs) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  const std::string ptx = reduce_ptx(ir::Op::ArgMax, DType::F64);
  // Ties everywhere (the smaller index wins), a NaN in one row (the first NaN wins); short rows
  // take the warp schedule's segments.
  for (std::int64_t n : {300, 32, 7, 1}) {
    const std::int64_t rows = 6;
    std::vector<double> x(static_cast<std::size_t>(rows * n));
    for (std::int64_t i = 0; i < rows * n; ++i)
      x[static_cast<std::size_t>(i)] = static_cast<double>((i * 37) % 11);
    x[static_cast<std::size_t>(2 * n + n / 2)] = std::numeric_limits<double>::quiet_NaN();
    x[static_cast<std::size_t>(2 * n + n - 1)] = std::numeric_limits<double>::quiet_NaN();
    for (unsigned block : {256u, 128u, 512u}) {
      std::vector<double> v(static_cast<std::size_t>(rows));
      std::vector<std::int64_t> k(static_cast<std::size_t>(rows), -7);
      ASSERT_EQ(run(ptx, x.data(), v.data(), k.data(), rows, n, 3, block), "");
      for (std::int64_t r = 0; r < rows; ++r) {
        std::int64_t want = 0;
        for (std::int64_t j = 1; j < n; ++j) {
          const double a = x[static_cast<std::size_t>(r * n + j)],
                       b = x[static_cast<std::size_t>(r * n + want)];
          if (!std::isnan(b) && (std::isnan(a) || a > b)) want = j;
        }
        EXPECT_EQ(k[static_cast<std::size_t>(r)], want)
            << "n " << n << " row " << r << " block " << block;
      }
    }
  }
}

TEST(PtxSim, ShortRowsKeepTheSignOfZeroAndNaNsAsTheBlockSchedule) {
  if (find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  // The segments fold a row's values before the identity the block schedule adds first: the
  // same bits, -0 sums and NaNs included.
  const std::string ptx = reduce_ptx(ir::Op::Sum, DType::F32);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::int64_t n : {1, 2, 5, 32}) {
    const std::int64_t rows = 5;
    std::vector<float> x(static_cast<std::size_t>(rows * n), -0.0f);
    x[static_cast<std::size_t>(1 * n)] = nan;          // row 1: a NaN
    x[static_cast<std::size_t>(2 * n + n - 1)] = 1.5f; // row 2: -0s and 1.5
    x[static_cast<std::size_t>(3 * n)] = std::numeric_limits<float>::infinity(); // row 3
    x[static_cast<std::size_t>(3 * n + n - 1)] = -std::numeric_limits<float>::infinity();
    std::vector<std::vector<std::uint32_t>> got;
    for (unsigned block : {256u, 128u, 512u}) {
      std::vector<float> out(static_cast<std::size_t>(rows), -7.0f);
      ASSERT_EQ(run(ptx, x.data(), out.data(), nullptr, rows, n, 2, block), "");
      got.emplace_back();
      for (float v : out)
        got.back().push_back(bits(v));
    }
    EXPECT_EQ(got[0], got[1]) << "n " << n;
    EXPECT_EQ(got[0], got[2]) << "n " << n;
    EXPECT_EQ(got[1][0], bits(0.0f)) << "n " << n; // all -0: the identity's +0
    EXPECT_TRUE(std::isnan(std::bit_cast<float>(got[1][1]))) << "n " << n;
    EXPECT_EQ(got[1][2], bits(1.5f)) << "n " << n;
    EXPECT_EQ(got[1][4], bits(0.0f)) << "n " << n;
  }
}

TEST(PtxSim, UnknownInstructionsFailTheLaunchByName) {
  const std::string ptx = "//\n.version 8.0\n.target sm_80\n.address_size 64\n"
                          ".visible .entry k(\n\t.param .u64 k_param_0\n)\n{\n"
                          "\t.reg .b32 %r<3>;\n\tprmt.b32 %r1, %r2, %r2, 0;\n\tret;\n}\n";
  std::uint64_t p = 0;
  void *args[] = {&p};
  const std::string why = ptxsim::launch(ptx, "k", 1, 32, args);
  EXPECT_NE(why.find("unsupported instruction 'prmt.b32'"), std::string::npos) << why;
  EXPECT_NE(ptxsim::launch(ptx, "nope", 1, 32, args).find("no entry nope"), std::string::npos);
}

/// A one-entry module `k(u64 out)`: 256 bytes of shared memory, %r1 = %tid.x, %rd1 = out as a
/// global address, then `body`.
std::string entry_with(const std::string &body) {
  return "//\n.version 8.0\n.target sm_80\n.address_size 64\n"
         ".visible .entry k(\n\t.param .u64 k_param_0\n)\n{\n"
         "\t.reg .pred %p<4>;\n\t.reg .b32 %r<8>;\n\t.reg .b64 %rd<4>;\n"
         "\t.shared .align 4 .b8 s[256];\n\tmov.u32 %r1, %tid.x;\n"
         "\tld.param.u64 %rd1, [k_param_0];\n\tcvta.to.global.u64 %rd1, %rd1;\n" +
         body + "\tret;\n}\n";
}

/// Where the PTX ISA leaves a shuffle or barrier undefined, the simulator fails the launch
/// (naming the case) rather than give one of the values a GPU might: a kernel of ours that
/// relied on such a value would pass here and fail on silicon. What the ISA defines still runs.
TEST(PtxSim, UndefinedShufflesAndDivergentBarriersFailTheLaunch) {
  std::uint64_t p = 0;
  void *args[] = {&p};
  auto run = [&](const std::string &body, unsigned block) {
    return ptxsim::launch(entry_with(body), "k", 1, block, args);
  };
  // Lane 30 reads lane 31, which returned: undefined.
  EXPECT_NE(run("\tsetp.eq.u32 %p1, %r1, 31;\n\t@%p1 ret;\n"
                "\tshfl.sync.down.b32 %r2, %r1, 1, 31, -1;\n",
                32)
                .find("shuffle from an exited lane: lane 30 reads lane 31"),
            std::string::npos);
  // Lanes 16-31 returned; the rest shuffle among themselves (the clamp keeps lane 15 at home).
  EXPECT_EQ(run("\tsetp.ge.u32 %p1, %r1, 16;\n\t@%p1 ret;\n"
                "\tshfl.sync.down.b32 %r2|%p2, %r1, 1, 15, 65535;\n",
                32),
            "");
  // A partial warp: lane 8 of a 9-thread block reads lane 9, which does not exist.
  EXPECT_NE(run("\tshfl.sync.down.b32 %r2, %r1, 1, 31, -1;\n", 9)
                .find("shuffle from an exited lane: lane 8 reads lane 9"),
            std::string::npos);
  // Every lane live, the membermask names only the low half.
  EXPECT_NE(run("\tshfl.sync.bfly.b32 %r2, %r1, 1, 31, 65535;\n", 32)
                .find("shuffle outside its membermask: lane 16"),
            std::string::npos);
  // Lanes meeting at shuffles of two modes.
  EXPECT_NE(run("\tsetp.lt.u32 %p1, %r1, 16;\n\t@%p1 bra $L_up;\n"
                "\tshfl.sync.down.b32 %r2, %r1, 0, 31, -1;\n\tbra.uni $L_end;\n"
                "$L_up:\n\tshfl.sync.up.b32 %r2, %r1, 0, 0, -1;\n$L_end:\n",
                32)
                .find("divergent shuffle"),
            std::string::npos);
  // Two warps at two different bar.sync instructions.
  EXPECT_NE(run("\tsetp.lt.u32 %p1, %r1, 32;\n\t@%p1 bra $L_a;\n"
                "\tbar.sync 0;\n\tbra.uni $L_end;\n$L_a:\n\tbar.sync 0;\n$L_end:\n",
                64)
                .find("divergent barrier"),
            std::string::npos);
  // A warp that returned before the barrier releases it (PTX ISA, exit); the other goes on.
  EXPECT_EQ(run("\tsetp.ge.u32 %p1, %r1, 32;\n\t@%p1 ret;\n\tbar.sync 0;\n", 64), "");
}

/// Threads here run one after another, so a missing bar.sync can still give the right bits; the
/// simulator tracks who touched each shared byte since the last barrier and fails on a race.
TEST(PtxSim, SharedMemoryRacesFailTheLaunch) {
  std::uint64_t p = 0;
  void *args[] = {&p};
  // Each thread stores its id at s[4 tid], then reads the value of the thread 32 after it.
  auto exchange = [&](const std::string &between) {
    return ptxsim::launch(entry_with("\tshl.b32 %r2, %r1, 2;\n\tst.shared.u32 [%r2], %r1;\n" +
                                     between +
                                     "\tadd.u32 %r3, %r2, 128;\n\tand.b32 %r3, %r3, 255;\n"
                                     "\tld.shared.u32 %r4, [%r3];\n"),
                          "k", 1, 64, args);
  };
  // Thread 0 reads s[128] before thread 32 (run later here, maybe earlier on a GPU) writes it.
  EXPECT_NE(exchange("").find("shared memory race: thread 32 writes byte 128, which thread 0 "
                              "read with no bar.sync between"),
            std::string::npos);
  EXPECT_EQ(exchange("\tbar.sync 0;\n"), "");
  // Two threads storing to one word in the same interval.
  EXPECT_NE(
      ptxsim::launch(entry_with("\tmov.u32 %r2, 0;\n\tst.shared.u32 [%r2], %r1;\n\tbar.sync 0;\n"),
                     "k", 1, 64, args)
          .find("shared memory race: thread 1 writes byte 0, which thread 0 wrote"),
      std::string::npos);
  // A thread reading what it wrote itself needs no barrier.
  EXPECT_EQ(ptxsim::launch(entry_with("\tshl.b32 %r2, %r1, 2;\n\tst.shared.u32 [%r2], %r1;\n"
                                      "\tld.shared.u32 %r4, [%r2];\n"),
                           "k", 1, 64, args),
            "");
}

/// Blocks run one after another here, so of two stores to one global byte the last wins; on a
/// GPU either may. The simulator fails a launch in which two threads store to one byte.
TEST(PtxSim, TwoThreadsStoringToOneGlobalByteFailTheLaunch) {
  std::vector<std::uint32_t> out(64);
  std::uint64_t p = reinterpret_cast<std::uintptr_t>(out.data());
  void *args[] = {&p};
  // Each thread of two blocks stores to its own word (tid + 32 ctaid): no race.
  EXPECT_EQ(ptxsim::launch(entry_with("\tmov.u32 %r2, %ctaid.x;\n"
                                      "\tmad.lo.s32 %r3, %r2, 32, %r1;\n"
                                      "\tmul.wide.u32 %rd2, %r3, 4;\n"
                                      "\tadd.s64 %rd1, %rd1, %rd2;\n"
                                      "\tst.global.u32 [%rd1], %r3;\n"),
                           "k", 2, 32, args),
            "");
  EXPECT_EQ(out[63], 63u);
  // Both blocks store to words 0-31 (one byte of each in common: the u8 at 4 tid + 3).
  EXPECT_NE(ptxsim::launch(entry_with("\tmul.wide.u32 %rd2, %r1, 4;\n"
                                      "\tadd.s64 %rd1, %rd1, %rd2;\n"
                                      "\tst.global.u8 [%rd1+3], %r1;\n"),
                           "k", 2, 32, args)
                .find("global memory race: thread 0 of block 0 stores to a byte that thread 0 "
                      "of block 1 stores to in the same launch"),
            std::string::npos);
}

/// A thread that loads what another thread of its launch stores reads either value on a GPU
/// (before or after the store), unless a bar.sync of their block orders them. Here threads run
/// in order, so it would read one of them every time.
TEST(PtxSim, LoadsOfWhatAnotherThreadStoresFailTheLaunch) {
  std::vector<std::uint32_t> buf(64);
  std::uint64_t p = reinterpret_cast<std::uintptr_t>(buf.data());
  void *args[] = {&p};
  auto run = [&](const std::string &body, unsigned grid) {
    return ptxsim::launch(entry_with("\tmul.wide.u32 %rd2, %r1, 4;\n"
                                     "\tadd.s64 %rd3, %rd1, %rd2;\n" +
                                     body),
                          "k", grid, 32, args);
  };
  // In place: each thread loads its own word and stores it back doubled.
  EXPECT_EQ(run("\tld.global.u32 %r2, [%rd3];\n\tadd.s32 %r2, %r2, %r2;\n"
                "\tst.global.u32 [%rd3], %r2;\n",
                1),
            "");
  // Thread t loads word t + 1 and stores word t: thread t + 1 stores what t loads.
  const std::string shifted = "\tld.global.u32 %r2, [%rd3+4];\n\tst.global.u32 [%rd3], %r2;\n";
  EXPECT_NE(run(shifted, 1)
                .find("global memory race: thread 0 of block 0 loads a byte that "
                      "thread 1 of block 0 stores to in the same launch"),
            std::string::npos);
  // A thread may store and load its own word as often as it likes: 4096 times each here, in
  // a loop (kept as one entry per store, the check stays linear).
  EXPECT_EQ(run("\tmov.u32 %r4, 0;\n$L_loop:\n\tst.global.u32 [%rd3], %r4;\n"
                "\tld.global.u32 %r2, [%rd3];\n\tadd.s32 %r4, %r4, 1;\n"
                "\tsetp.lt.u32 %p1, %r4, 4096;\n\t@%p1 bra $L_loop;\n",
                1),
            "");
  EXPECT_EQ(buf[20], 4095u);
  // A bar.sync between the loads and the stores orders them within the block.
  EXPECT_EQ(run("\tld.global.u32 %r2, [%rd3+4];\n\tbar.sync 0;\n\tst.global.u32 [%rd3], %r2;\n", 1),
            "");
  // It does not order two blocks: block 1 loads word 0, which block 0's thread 0 stores.
  EXPECT_NE(run("\tld.global.u32 %r2, [%rd1];\n\tbar.sync 0;\n"
                "\tsetp.ne.u32 %p1, %r1, 0;\n\t@%p1 bra $L_end;\n"
                "\tmov.u32 %r3, %ctaid.x;\n\tsetp.ne.u32 %p1, %r3, 0;\n\t@%p1 bra $L_end;\n"
                "\tst.global.u32 [%rd1], %r2;\n$L_end:\n",
                2)
                .find("global memory race: thread 0 of block 1 loads a byte that thread 0 of "
                      "block 0 stores to in the same launch"),
            std::string::npos);
}

/// A GPU faults on an access that is not aligned to its size; host memory would not.
TEST(PtxSim, MisalignedAccessesFailTheLaunch) {
  alignas(16) std::uint32_t out[8] = {};
  std::uint64_t p = reinterpret_cast<std::uintptr_t>(out);
  void *args[] = {&p};
  auto store_at = [&](const std::string &st) {
    return ptxsim::launch(entry_with(st), "k", 1, 1, args);
  };
  EXPECT_EQ(store_at("\tst.global.v4.u32 [%rd1+16], {%r1, %r1, %r1, %r1};\n"), "");
  EXPECT_NE(store_at("\tst.global.v4.u32 [%rd1+4], {%r1, %r1, %r1, %r1};\n")
                .find("misaligned address: a 16-byte access"),
            std::string::npos);
  EXPECT_NE(store_at("\tst.global.u32 [%rd1+2], %r1;\n").find("misaligned address: a 4-byte"),
            std::string::npos);
  EXPECT_NE(ptxsim::launch(entry_with("\tmov.u32 %r2, 6;\n\tld.shared.u64 %rd2, [%r2];\n"), "k", 1,
                           1, args)
                .find("misaligned address: a 8-byte access at shared offset 6"),
            std::string::npos);
}

/// With a check set (the fake driver's: inside a device allocation), a global access outside
/// it fails the launch; the thread's local memory needs no allocation.
TEST(PtxSim, GlobalAccessesOutsideTheCheckedMemoryFailTheLaunch) {
  alignas(16) static std::uint32_t buf[9];
  std::uint64_t p = reinterpret_cast<std::uintptr_t>(buf);
  void *args[] = {&p};
  ptxsim::set_global_check([](std::uint64_t at, std::uint64_t bytes) {
    const auto lo = reinterpret_cast<std::uintptr_t>(buf);
    return at >= lo && at + bytes <= lo + 8 * sizeof(std::uint32_t); // buf[8] is past the end
  });
  auto store_at = [&](int word) {
    return ptxsim::launch(entry_with(fmt::format("\tst.global.u32 [%rd1+{}], %r1;\n", 4 * word)),
                          "k", 1, 1, args);
  };
  EXPECT_EQ(store_at(7), "");
  const std::string past = store_at(8);
  ptxsim::set_global_check(nullptr);
  EXPECT_NE(past.find("out of bounds: a 4-byte global access at"), std::string::npos) << past;
  EXPECT_EQ(store_at(8), "") << "no check once it is reset";
}

/// A GPU's registers and shared memory start as garbage; here as all ones, so that a kernel that
/// uses a value it never set cannot pass by reading the zero a sum starts from.
TEST(PtxSim, UnsetRegistersAndSharedMemoryAreAllOnes) {
  std::vector<std::uint32_t> out(64);
  std::uint64_t p = reinterpret_cast<std::uintptr_t>(out.data());
  void *args[] = {&p};
  // Thread t stores its unset %r5 at out[t] and the unwritten s[4t] at out[32 + t].
  EXPECT_EQ(ptxsim::launch(entry_with("\tmul.wide.u32 %rd2, %r1, 4;\n"
                                      "\tadd.s64 %rd1, %rd1, %rd2;\n"
                                      "\tst.global.u32 [%rd1], %r5;\n"
                                      "\tshl.b32 %r2, %r1, 2;\n"
                                      "\tld.shared.u32 %r4, [%r2];\n"
                                      "\tst.global.u32 [%rd1+128], %r4;\n"),
                           "k", 1, 32, args),
            "");
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(out[i], 0xffffffffu) << i;
}

} // namespace
} // namespace xpr::cg
