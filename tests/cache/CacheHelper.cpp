// tests/cache/CacheHelper.cpp — a process for the cache tests: compiles and runs one script with
// the disk cache in argv[1], checks the result, prints the process's cache counters.
#include <xpr/xpr.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: xpr_cache_helper DIR [LITERAL]\n");
    return 2;
  }
  const double lit = argc > 2 ? std::stod(argv[2]) : 1.75;
  xpr::Options o;
  o.cache.dir = argv[1];
  try {
    xpr::Context ctx(o);
    // Unique to these tests, so no other test's kernel interferes.
    xpr::Program p = ctx.compile("input a: f64[n]\ninput b: f64[n]\n"
                                 "output y = sqrt(a) * " + std::to_string(lit) + " - b * b\n");
    std::vector<double> a(1000), b(1000), y(1000);
    for (int i = 0; i < 1000; ++i) {
      a[i] = i * 0.5;
      b[i] = 3 - i * 0.01;
    }
    p.run_into({{"a", xpr::view(a.data(), xpr::f64, {1000})},
                {"b", xpr::view(b.data(), xpr::f64, {1000})}},
               {{"y", xpr::view(y.data(), xpr::f64, {1000})}});
    for (int i = 0; i < 1000; ++i)
      if (y[i] != std::sqrt(a[i]) * lit - b[i] * b[i]) {
        std::fprintf(stderr, "wrong result at %d: %.17g\n", i, y[i]);
        return 1;
      }
    xpr::CacheStats s = xpr::cache_stats();
    std::printf("compiles=%llu disk_hits=%llu disk_rejects=%llu disk_writes=%llu\n",
                (unsigned long long)s.compiles, (unsigned long long)s.disk_hits,
                (unsigned long long)s.disk_rejects, (unsigned long long)s.disk_writes);
    return 0;
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
