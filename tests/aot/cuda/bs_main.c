/* tests/aot/cuda/bs_main.c — examples/aot/blackscholes.xpr compiled twice by xprc, for the host
 * CPU (bs_cpu) and for a GPU (bs_gpu, --target cuda:sm_80), linked into one C program: on a
 * machine with a GPU the two must agree to within the math libraries' differences (SLEEF on the
 * CPU, libdevice on the GPU: a few ULP of each function). Built by tests/aot/AotCudaTest.cpp,
 * run there where a GPU is present and by scripts/device/check.sh aot.
 *
 *   bs_main N      exit 0 when every price agrees; prints the largest difference */
#include "bs_cpu.h"
#include "bs_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  const int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
  float *S = malloc((size_t)n * sizeof *S), *K = malloc((size_t)n * sizeof *K);
  float *T = malloc((size_t)n * sizeof *T);
  float *c1 = malloc((size_t)n * sizeof *c1), *p1 = malloc((size_t)n * sizeof *p1);
  float *c2 = malloc((size_t)n * sizeof *c2), *p2 = malloc((size_t)n * sizeof *p2);
  uint32_t s = 12345;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    S[i] = 5.0f + 95.0f * (float)(s >> 8) / 16777216.0f;
    s = s * 1664525u + 1013904223u;
    K[i] = 1.0f + 99.0f * (float)(s >> 8) / 16777216.0f;
    s = s * 1664525u + 1013904223u;
    T[i] = 0.25f + 9.75f * (float)(s >> 8) / 16777216.0f;
  }
  int rc = bs_cpu(n, S, NULL, K, NULL, T, NULL, 0.02f, 0.3f, c1, NULL, p1, NULL);
  if (rc) {
    printf("FAILED: bs_cpu: %d: %s\n", rc, xpr_rt_last_error());
    return 1;
  }
  rc = bs_gpu(n, S, NULL, K, NULL, T, NULL, 0.02f, 0.3f, c2, NULL, p2, NULL);
  if (rc) {
    printf("FAILED: bs_gpu: %d: %s\n", rc, xpr_rt_last_error());
    return 1;
  }
  /* Prices are differences of products of exp, log and ncdf results: compare on the scale of
   * the inputs (an f32 ULP of S + K is 1.2e-7 relative). */
  double worst = 0;
  int64_t at = 0, bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double scale = (double)S[i] + (double)K[i];
    const double d = fmax(fabs((double)c1[i] - c2[i]), fabs((double)p1[i] - p2[i])) / scale;
    if (!(d <= 4e-6)) ++bad;
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  printf("bs_main: %lld options, largest difference %.3g of S+K at %lld (call %.9g vs %.9g), "
         "%lld beyond 4e-6\n",
         (long long)n, worst, (long long)at, c1[at], c2[at], (long long)bad);
  return bad ? 1 : 0;
}
