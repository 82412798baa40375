/* examples/aot/blackscholes_c.c — a plain C program calling xprc-compiled Black-Scholes
 * (blackscholes.h/.o from blackscholes.xpr): whole-array calls on libxpr_rt's threads, the
 * _range entry, and error codes; then reductions over the prices (portfolio.h/.o from
 * portfolio.xpr). Usage: blackscholes_c [OUT.bin [N]]; OUT.bin receives S, K, T, call and put as
 * raw f32 arrays, then total (f32), mean_put (f32), best (i64) and spread (f32), for a
 * bit-for-bit comparison with the JIT (tests/aot). */
#include "blackscholes.h"
#include "portfolio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}
static float uniform(uint32_t *s, float lo, float hi) {
  return lo + (hi - lo) * (float)lcg(s) / 16777216.0f;
}

int main(int argc, char **argv) {
  const char *out_path = argc > 1 ? argv[1] : NULL;
  const int64_t n = argc > 2 ? atoll(argv[2]) : 100003;
  float *S = malloc(n * sizeof *S), *K = malloc(n * sizeof *K), *T = malloc(n * sizeof *T);
  float *call = malloc(n * sizeof *call), *put = malloc(n * sizeof *put);
  float *call1 = malloc(n * sizeof *call1), *put1 = malloc(n * sizeof *put1);
  if (!S || !K || !T || !call || !put || !call1 || !put1) return 1;
  uint32_t seed = 12345;
  for (int64_t i = 0; i < n; ++i) {
    S[i] = uniform(&seed, 10.0f, 200.0f);
    K[i] = uniform(&seed, 10.0f, 200.0f);
    T[i] = uniform(&seed, 0.05f, 3.0f);
  }
  const float r = 0.05f, v = 0.2f;

  /* The whole arrays on every core; NULL strides: contiguous. */
  int rc = blackscholes(n, S, NULL, K, NULL, T, NULL, r, v, call, NULL, put, NULL);
  if (rc != XPR_RT_OK) {
    fprintf(stderr, "blackscholes: %s\n", xpr_rt_last_error());
    return 1;
  }

  /* The same with the caller's own chunking, one range at a time: the same bits. */
  const int64_t work = blackscholes_work(n);
  for (int64_t lo = 0; lo < work; lo += 10000) {
    const int64_t hi = lo + 10000 < work ? lo + 10000 : work;
    rc = blackscholes_range(lo, hi, n, S, NULL, K, NULL, T, NULL, r, v, call1, NULL, put1, NULL);
    if (rc != XPR_RT_OK) {
      fprintf(stderr, "blackscholes_range: %s\n", xpr_rt_last_error());
      return 1;
    }
  }
  if (memcmp(call, call1, n * sizeof *call) != 0 || memcmp(put, put1, n * sizeof *put) != 0) {
    fprintf(stderr, "ranged results differ from the whole-array call\n");
    return 1;
  }

  /* Errors are codes with a message, never a crash. */
  rc = blackscholes(n, NULL, NULL, K, NULL, T, NULL, r, v, call1, NULL, put1, NULL);
  if (rc != XPR_RT_ENULL) return 1;
  printf("error %d (%s): %s\n", rc, xpr_rt_error_string(rc), xpr_rt_last_error());
  rc = blackscholes(-1, S, NULL, K, NULL, T, NULL, r, v, call1, NULL, put1, NULL);
  if (rc != XPR_RT_ESHAPE) return 1;
  printf("error %d (%s): %s\n", rc, xpr_rt_error_string(rc), xpr_rt_last_error());

  /* Reductions: one call, every core, the same bits for any thread count. */
  float total = 0, mean_put = 0, spread = 0;
  int64_t best = -1;
  rc = portfolio(n, call, NULL, put, NULL, &total, NULL, &mean_put, NULL, &best, NULL, &spread, NULL);
  if (rc != XPR_RT_OK) {
    fprintf(stderr, "portfolio: %s\n", xpr_rt_last_error());
    return 1;
  }

  printf("n = %lld, threads = %d: call[0] = %.6f, put[0] = %.6f\n", (long long)n, xpr_rt_threads(),
         call[0], put[0]);
  if (xpr_rt_picked_level() > 0) /* a multi-versioned object: which version ran */
    printf("kernels: x86-64-v%d\n", xpr_rt_picked_level());
  printf("total = %.3f, mean put = %.6f, best = %lld, spread = %.6f\n", total, mean_put,
         (long long)best, spread);
  if (out_path) {
    FILE *f = fopen(out_path, "wb");
    if (!f) return 1;
    const float *arrays[] = {S, K, T, call, put};
    for (int a = 0; a < 5; ++a)
      if (fwrite(arrays[a], sizeof(float), (size_t)n, f) != (size_t)n) return 1;
    if (fwrite(&total, sizeof total, 1, f) != 1 || fwrite(&mean_put, sizeof mean_put, 1, f) != 1 ||
        fwrite(&best, sizeof best, 1, f) != 1 || fwrite(&spread, sizeof spread, 1, f) != 1)
      return 1;
    if (fclose(f) != 0) return 1;
  }
  free(S), free(K), free(T), free(call), free(put), free(call1), free(put1);
  return 0;
}
