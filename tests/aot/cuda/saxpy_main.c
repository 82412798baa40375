/* tests/aot/cuda/saxpy_main.c — a C program linking an xprc cuda object (saxpy.xpr) and
 * libxpr_rt, built with plain cc by tests/aot/AotCudaTest.cpp.
 *
 *   saxpy_main fake N      with tests/gpu's fake libcuda.so.1 on the library path: registers a C
 *                          emulation of the kernel (the GPU ABI of compiler/codegen/GpuJit.h), so
 *                          everything but the GPU runs: driver loading, module loading (the
 *                          cubin is refused, the PTX taken), transfers, launches, outputs back
 *   saxpy_main real N      on a machine with a GPU: the same checks on the real device
 *   saxpy_main nodriver    without any libcuda.so.1: the call fails cleanly
 *
 * Prints one line per failed check and exits 1 if any failed. */
#include "saxpy.h"

#include "fake_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The kernel as the fake driver runs it: arguments in the GPU ABI's order. */
static void emulate(void **args, int nargs, unsigned grid, unsigned block) {
  (void)grid;
  (void)block;
  const float *a = *(const float **)args[0], *b = *(const float **)args[1];
  float *r = *(float **)args[2];
  float s;
  memcpy(&s, args[3], sizeof s);
  const int64_t total = *(const int64_t *)args[nargs - 1];
  int64_t sa = 1, sb = 1, sr = 1;
  if (nargs == 9) { /* the all-Strided variant: one stride per operand after the shape */
    sa = *(const int64_t *)args[5];
    sb = *(const int64_t *)args[6];
    sr = *(const int64_t *)args[7];
  } else if (nargs != 6) {
    printf("FAILED: unexpected argument count %d\n", nargs);
    ++failures;
    return;
  }
  for (int64_t i = 0; i < total; ++i) r[i * sr] = a[i * sa] * s + b[i * sb];
}

static float value(int64_t i, int k) { return (float)((i * 7919 + k * 104729) % 2003) / 64.0f - 15.0f; }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *mode = argv[1];
  if (!strcmp(mode, "nodriver")) {
    float a = 1, b = 2, r = 0;
    int rc = saxpy(1, &a, NULL, &b, NULL, 2.0f, &r, NULL);
    CHECK(rc == XPR_RT_EDEVICE, "rc %d, expected XPR_RT_EDEVICE", rc);
    CHECK(strstr(xpr_rt_last_error(), "no CUDA driver found (libcuda.so.1"), "message: %s",
          xpr_rt_last_error());
    CHECK(r == 0, "the output was written");
    rc = saxpy(1, &a, NULL, &b, NULL, 2.0f, &r, NULL); /* the same answer, from the kept outcome */
    CHECK(rc == XPR_RT_EDEVICE && strstr(xpr_rt_last_error(), "no CUDA driver found"),
          "second call: rc %d, %s", rc, xpr_rt_last_error());
    printf("%s\n", xpr_rt_last_error());
    return failures ? 1 : 0;
  }
  const int fake = !strcmp(mode, "fake");
  fake_driver_t fd = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  if (fake && !fake_driver_open(emulate, &fd)) return 1;
  int (*launches)(void) = fd.launches, (*modules)(void) = fd.modules;
  const char *(*last_module)(void) = fd.last_module;
  const int64_t n = argc > 2 ? atoll(argv[2]) : 1000;
  float *a = malloc((size_t)(2 * n + 1) * sizeof *a), *b = malloc((size_t)(n + 1) * sizeof *b);
  float *r = malloc((size_t)(2 * n + 1) * sizeof *r), *want = malloc((size_t)(n + 1) * sizeof *want);
  const float s = 2.5f;
  for (int64_t i = 0; i < n; ++i) {
    a[i] = value(i, 1);
    b[i] = value(i, 2);
    want[i] = a[i] * s + b[i];
  }

  /* 1. contiguous */
  memset(r, 0, (size_t)n * sizeof *r);
  int rc = saxpy(n, a, NULL, b, NULL, s, r, NULL);
  CHECK(rc == XPR_RT_OK, "contiguous: rc %d: %s", rc, xpr_rt_last_error());
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += r[i] != want[i];
  CHECK(bad == 0, "contiguous: %d wrong elements (r[0] = %g, want %g)", bad, r[0], want[0]);

  /* 2. a strided output (every other element; the gaps stay untouched) */
  for (int64_t i = 0; i < 2 * n; ++i) r[i] = -777.0f;
  const int64_t two[1] = {2};
  rc = saxpy(n, a, NULL, b, NULL, s, r, two);
  CHECK(rc == XPR_RT_OK, "strided output: rc %d: %s", rc, xpr_rt_last_error());
  bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += r[2 * i] != want[i] || r[2 * i + 1] != -777.0f;
  CHECK(bad == 0, "strided output: %d wrong elements", bad);

  /* 3. a reversed input (negative stride): the all-Strided kernel */
  float *rev = a + n; /* a[n .. 2n) holds a reversed */
  for (int64_t i = 0; i < n; ++i) rev[i] = a[n - 1 - i];
  const int64_t back[1] = {-1};
  rc = saxpy(n, rev + n - 1, back, b, NULL, s, r, NULL);
  CHECK(rc == XPR_RT_OK, "reversed input: rc %d: %s", rc, xpr_rt_last_error());
  bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += r[i] != want[i];
  CHECK(bad == 0, "reversed input: %d wrong elements", bad);

  /* 4. in place: r is a */
  float *inplace = malloc((size_t)(n + 1) * sizeof *inplace);
  memcpy(inplace, a, (size_t)n * sizeof *a);
  rc = saxpy(n, inplace, NULL, b, NULL, s, inplace, NULL);
  CHECK(rc == XPR_RT_OK, "in place: rc %d: %s", rc, xpr_rt_last_error());
  bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += inplace[i] != want[i];
  CHECK(bad == 0, "in place: %d wrong elements", bad);

  /* 5. errors before anything runs, and empty arrays */
  const int before = launches ? launches() : 0;
  rc = saxpy(n, NULL, NULL, b, NULL, s, r, NULL);
  CHECK(rc == XPR_RT_ENULL && strstr(xpr_rt_last_error(), "input 'a'"), "NULL input: rc %d: %s",
        rc, xpr_rt_last_error());
  rc = saxpy(n, a, NULL, b, NULL, s, a + 1, NULL);
  CHECK(rc == XPR_RT_EOVERLAP, "overlap: rc %d: %s", rc, xpr_rt_last_error());
  rc = saxpy_range(0, n, n, a, NULL, b, NULL, s, r, NULL);
  CHECK(rc == XPR_RT_EUNSUPPORTED && strstr(xpr_rt_last_error(), "_range"), "_range: rc %d: %s",
        rc, xpr_rt_last_error());
  rc = saxpy(0, a, NULL, b, NULL, s, r, NULL);
  CHECK(rc == XPR_RT_OK, "empty: rc %d: %s", rc, xpr_rt_last_error());
  if (launches) CHECK(launches() == before, "%d launches for calls that run nothing", launches() - before);

  if (fake) {
    CHECK(launches() == 4, "%d launches for 4 calls", launches());
    CHECK(modules() == 1, "the module was loaded %d times (once per process expected)", modules());
    const char *m = last_module();
    CHECK(strstr(m, ".entry xk0(") && strstr(m, ".entry xk1("), "the module lacks xk0/xk1");
  }
  printf("%s: %lld elements, %d failure(s)\n", mode, (long long)n, failures);
  free(a);
  free(b);
  free(r);
  free(want);
  free(inplace);
  return failures ? 1 : 0;
}
