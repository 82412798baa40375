// examples/aot/grid_cpp.cpp — a C++ program calling xprc-compiled grid.xpr (grid.h/.o): a
// strided input view, a broadcast row, two loops, and the _range entry driven by std::thread.
// The example's CMake project builds grid.o multi-versioned (x86-64-v2/v3/v4, chosen per call).
// Usage: grid_cpp [OUT.bin [M N]]; OUT.bin receives x (contiguous), w, k, y and z raw, for a
// bit-for-bit comparison with the JIT (tests/aot).
#include "grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  const char *out_path = argc > 1 ? argv[1] : nullptr;
  const std::int64_t m = argc > 3 ? std::atoll(argv[2]) : 301, n = argc > 3 ? std::atoll(argv[3]) : 517;
  // x lives in a wider buffer: rows of n + 3 elements, of which the script sees n (a view).
  const std::int64_t ld = n + 3;
  std::vector<double> storage(static_cast<std::size_t>(m * ld), -1.0), w(n);
  std::vector<std::int32_t> k(m);
  std::uint64_t seed = 7;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(seed >> 11) * 0x1p-53;
  };
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) storage[i * ld + j] = 8.0 * next() - 4.0;
  for (auto &e : w) e = 2.0 * next() - 1.0;
  for (auto &e : k) e = static_cast<std::int32_t>(next() * 2000.0) - 1000;
  const std::int64_t x_strides[2] = {ld, 1};
  const double s = 0.25;
  const std::int32_t shift = 3;

  std::vector<double> y(m * n), y2(m * n);
  std::vector<std::int32_t> z(m), z2(m);
  int rc = grid(m, n, storage.data(), x_strides, w.data(), nullptr, k.data(), nullptr, s, shift,
                y.data(), nullptr, z.data(), nullptr);
  if (rc != XPR_RT_OK) {
    std::fprintf(stderr, "grid: %s\n", xpr_rt_last_error());
    return 1;
  }

  // Bring-your-own-threads: split [0, work) in four and run the ranges concurrently.
  const std::int64_t work = grid_work(m, n);
  std::vector<std::thread> pool;
  std::vector<int> codes(4, -1);
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      const std::int64_t lo = work * t / 4, hi = work * (t + 1) / 4;
      codes[t] = grid_range(lo, hi, m, n, storage.data(), x_strides, w.data(), nullptr, k.data(),
                            nullptr, s, shift, y2.data(), nullptr, z2.data(), nullptr);
    });
  for (auto &th : pool) th.join();
  for (int c : codes)
    if (c != XPR_RT_OK) return 1;
  if (std::memcmp(y.data(), y2.data(), y.size() * sizeof(double)) != 0 || z != z2) {
    std::fprintf(stderr, "threaded ranges differ from the whole-array call\n");
    return 1;
  }
  if (grid_range(0, work + 1, m, n, storage.data(), x_strides, w.data(), nullptr, k.data(), nullptr,
                 s, shift, y2.data(), nullptr, z2.data(), nullptr) != XPR_RT_ERANGE)
    return 1;

  if (xpr_rt_picked_level() > 0) // built multi-versioned (examples/aot/CMakeLists.txt)
    std::printf("kernels: x86-64-v%d (this CPU: v%d)\n", xpr_rt_picked_level(), xpr_rt_cpu_level());
  std::printf("m = %lld, n = %lld: y[0] = %.17g, z[0] = %d\n", static_cast<long long>(m),
              static_cast<long long>(n), y[0], z[0]);
  if (out_path) {
    std::FILE *f = std::fopen(out_path, "wb");
    if (!f) return 1;
    for (std::int64_t i = 0; i < m; ++i) std::fwrite(&storage[i * ld], sizeof(double), n, f);
    std::fwrite(w.data(), sizeof(double), w.size(), f);
    std::fwrite(k.data(), sizeof(std::int32_t), k.size(), f);
    std::fwrite(y.data(), sizeof(double), y.size(), f);
    std::fwrite(z.data(), sizeof(std::int32_t), z.size(), f);
    if (std::fclose(f) != 0) return 1;
  }
  return 0;
}
