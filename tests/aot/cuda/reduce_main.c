/* tests/aot/cuda/reduce_main.c — a C program linking two xprc cuda objects with reductions
 * (colmean.xpr: a column mean; argmax.xpr: argmax of a fused map with a param) and libxpr_rt,
 * built with plain cc by tests/aot/AotCudaTest.cpp.
 *
 *   reduce_main fake    with tests/gpu's fake libcuda.so.1 on the library path: registers a C
 *                       emulation of the GPU's reduce kernels (the ABI of
 *                       compiler/codegen/GpuJit.h: first pass, combining passes, the mean's
 *                       finishing kernel), so libxpr_rt's whole reduction path runs: chunking,
 *                       variants and strides over [kept, reduced], partial arrays, the passes'
 *                       arguments, the count slot, errors before launch
 *   reduce_main real    on a machine with a GPU: the same checks on the real device
 *
 * The inputs are small integers, so every sum is exact in any order and the expected values are
 * exact on a real GPU too. Prints one line per failed check and exits 1 if any failed. */
#include "argmax.h"
#include "colmean.h"

#include "fake_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake GPU ---- */

enum { COLMEAN, ARGMAX };
static int g_object;  /* which object the next call runs */
static int g_pass;    /* launches since the call began: 0 is the first pass */
static int g_strided; /* whether the first pass is the all-Strided variant */
static int g_columns; /* whether the first pass runs the column schedule (512 threads a block) */

static int64_t arg_i(void **args, int k) { return *(const int64_t *)args[k]; }
static void *arg_p(void **args, int k) { return *(void **)args[k]; }

/* The element offset of iteration i over `shape`: i itself where the input is contiguous. */
static int64_t offset_of(int64_t i, int rank, const int64_t *shape, const int64_t *st) {
  if (!st) return i;
  int64_t off = 0;
  for (int d = rank; d-- > 0;) {
    off += (i % shape[d]) * st[d];
    i /= shape[d];
  }
  return off;
}

/* Reduce passes end with n, units, chunks, chunk_len: unit u is chunk u % chunks of row
 * u / chunks, the values [c * chunk_len, min(n, (c + 1) * chunk_len)) of the row. */
typedef struct {
  int64_t n, units, chunks, clen;
} units_t;
static units_t units_of(void **args, int nargs) {
  units_t u = {arg_i(args, nargs - 4), arg_i(args, nargs - 3), arg_i(args, nargs - 2),
               arg_i(args, nargs - 1)};
  /* The cut is the JIT's (kGpuReduceChunk = 16384): it fixes the order of float sums. */
  const int64_t chunks = u.n > 0 ? (u.n + 16383) / 16384 : 1;
  const int64_t clen = (u.n + chunks - 1) / chunks;
  CHECK(u.chunks == chunks && u.clen == (clen > 1 ? clen : 1) && u.units % chunks == 0,
        "pass %d over n = %lld: %lld chunks of %lld, %lld units", g_pass, (long long)u.n,
        (long long)u.chunks, (long long)u.clen, (long long)u.units);
  return u;
}

/* colmean: the first pass (x, partials, shape[2], strides[2], 4) sums x over P = [n, m] with the
 * strides given; a combining pass (partials, partials', shape[1], 4) sums partials; the finishing
 * kernel (r, out, the count as an f64 param slot, shape[1], total) divides. */
static void emulate_colmean(void **args, int nargs) {
  if (nargs == 5) {
    const double *r = arg_p(args, 0);
    double *out = arg_p(args, 1);
    double count;
    memcpy(&count, args[2], sizeof count);
    for (int64_t i = 0; i < arg_i(args, 4); ++i) out[i] = r[i] / count;
    return;
  }
  const int first = g_pass == 0;
  if (nargs != (first ? 10 : 7)) {
    printf("FAILED: colmean pass %d has %d arguments\n", g_pass, nargs);
    ++failures;
    return;
  }
  const units_t u = units_of(args, nargs);
  const double *in = arg_p(args, 0);
  double *out = arg_p(args, 1);
  int64_t shape[2] = {0, 0}, st[2] = {0, 0};
  if (first)
    for (int d = 0; d < 2; ++d) {
      shape[d] = arg_i(args, 2 + d);
      st[d] = arg_i(args, 4 + d);
    }
  for (int64_t k = 0; k < u.units; ++k) {
    const int64_t o = k / u.chunks, c = k % u.chunks;
    double acc = 0;
    for (int64_t j = c * u.clen; j < u.n && j < (c + 1) * u.clen; ++j)
      acc += in[offset_of(o * u.n + j, 2, shape, first ? st : NULL)];
    out[k] = acc;
  }
}

/* argmax of x * k, as runtime/Reduce.cpp's rules: a NaN before everything, then the largest,
 * the smaller index on ties. The first pass is (x, values, indices, k, shape[1], [stride], 4);
 * a combining pass (values, indices, values', indices', shape[1], 4). */
static int better(float x, float b) {
  if (b != b) return 0;
  return x != x || x > b;
}
static void emulate_argmax(void **args, int nargs) {
  const int first = g_pass == 0;
  if (nargs != (first ? (g_strided ? 10 : 9) : 9)) {
    printf("FAILED: argmax pass %d has %d arguments (strided %d)\n", g_pass, nargs, g_strided);
    ++failures;
    return;
  }
  const units_t u = units_of(args, nargs);
  const float *in = arg_p(args, 0);
  const int64_t *in_index = first ? NULL : arg_p(args, 1);
  float *out = arg_p(args, first ? 1 : 2);
  int64_t *out_index = arg_p(args, first ? 2 : 3);
  float k = 1;
  if (first) memcpy(&k, args[3], sizeof k);
  const int64_t stride = first && g_strided ? arg_i(args, 5) : 1;
  for (int64_t w = 0; w < u.units; ++w) {
    const int64_t o = w / u.chunks, c = w % u.chunks;
    float best = 0;
    int64_t at = -1;
    for (int64_t j = c * u.clen; j < u.n && j < (c + 1) * u.clen; ++j) {
      const int64_t i = o * u.n + j;
      const float x = first ? in[i * stride] * k : in[i];
      const int64_t idx = first ? j : in_index[i];
      if (at < 0 || better(x, best) || (!better(best, x) && idx < at)) {
        best = x;
        at = idx;
      }
    }
    out[w] = best;
    out_index[w] = at;
  }
}

static int g_bad_block = 0;
static int g_skip; /* launches that fail in the fake before they run: the next pass is one on */

static void emulate(void **args, int nargs, unsigned grid, unsigned block) {
  (void)grid;
  g_pass += g_skip;
  g_skip = 0;
  const int finish = g_object == COLMEAN && nargs == 5;
  /* The reduce kernels' fixed blocks: 256 threads, or 128 (a warp per unit) for short chunks,
   * or 512 for a first pass over columns side by side in memory (the column schedule). */
  const unsigned want = g_columns && g_pass == 0        ? 512u
                        : arg_i(args, nargs - 1) <= 256 ? 128u
                                                        : 256u;
  if (!finish && block != want) ++g_bad_block;
  if (g_object == COLMEAN) emulate_colmean(args, nargs);
  else emulate_argmax(args, nargs);
  ++g_pass;
}

/* ---- the checks ---- */

static int (*launches)(void) = NULL;
static int launches_now(void) { return launches ? launches() : 0; }
static void begin(int object, int strided) {
  g_object = object;
  g_pass = 0;
  g_strided = strided;
}

static double xval(int64_t i, int64_t j) { return (double)((i * 7 + j * 1000) % 2003); }

/* colmean over an m x n matrix in C order (fortran = 0) or Fortran order (1). */
static void check_colmean(int64_t m, int64_t n, int fortran, int want_launches, int columns) {
  double *x = malloc((size_t)(m * n + 1) * sizeof *x), *r = malloc((size_t)(n + 1) * sizeof *r);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) x[fortran ? j * m + i : i * n + j] = xval(i, j);
  for (int64_t j = 0; j < n; ++j) r[j] = -1;
  const int64_t fstrides[2] = {1, m};
  begin(COLMEAN, 1);
  g_columns = columns;
  const int before = launches_now();
  const int rc = colmean(m, n, x, fortran ? fstrides : NULL, r, NULL);
  CHECK(rc == XPR_RT_OK, "colmean %lldx%lld: rc %d: %s", (long long)m, (long long)n, rc,
        xpr_rt_last_error());
  int bad = 0;
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int64_t i = 0; i < m; ++i) s += xval(i, j);
    const double want = s / (double)m; /* NaN for m = 0, as the JIT */
    bad += !(r[j] == want || (want != want && r[j] != r[j]));
  }
  CHECK(bad == 0, "colmean %lldx%lld%s: %d wrong columns (r[0] = %.17g)", (long long)m,
        (long long)n, fortran ? " (Fortran order)" : "", bad, n ? r[0] : 0.0);
  if (launches)
    CHECK(launches_now() - before == want_launches, "colmean %lldx%lld: %d launches, expected %d",
          (long long)m, (long long)n, launches_now() - before, want_launches);
  g_columns = 0;
  free(x);
  free(r);
}

/* Out of device memory at each allocation of a colmean call in turn (40000 x 3: the input, the
 * output, the first pass's partials, the second pass's row sums), then a failed kernel:
 * XPR_RT_EDEVICE naming the CUDA error, nothing left allocated, nothing freed under queued work
 * (the fake aborts on that), and the next call right. */
static void check_out_of_device_memory(const fake_driver_t *fd) {
  const int64_t m = 40000, n = 3;
  double *x = malloc((size_t)(m * n) * sizeof *x), r[3];
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      x[i * n + j] = xval(i, j);
  const int live = fd->live_allocations();
  int failed = 0, rc = XPR_RT_OK;
  for (int k = 0; k < 20; ++k) {
    fd->fail_alloc_after(k);
    begin(COLMEAN, 1);
    rc = colmean(m, n, x, NULL, r, NULL);
    fd->fail_alloc_after(-1);
    CHECK(fd->live_allocations() == live, "allocation %d failing: %d device allocations left", k,
          fd->live_allocations() - live);
    if (rc == XPR_RT_OK) break;
    ++failed;
    CHECK(rc == XPR_RT_EDEVICE && strstr(xpr_rt_last_error(), "CUDA_ERROR_OUT_OF_MEMORY") &&
              strstr(xpr_rt_last_error(), "cuMemAlloc"),
          "allocation %d failing: rc %d: %s", k, rc, xpr_rt_last_error());
  }
  CHECK(failed == 4, "%d allocations failed in turn, 4 expected", failed);
  /* A kernel that fails (its first pass, here) is reported by the call's wait, the same way. */
  fd->fail_next_launch();
  begin(COLMEAN, 1);
  g_skip = 1;
  const int bad = colmean(m, n, x, NULL, r, NULL);
  CHECK(bad == XPR_RT_EDEVICE && strstr(xpr_rt_last_error(), "CUDA_ERROR_LAUNCH_FAILED") &&
            strstr(xpr_rt_last_error(), "a kernel failed"),
        "a failed launch: rc %d: %s", bad, xpr_rt_last_error());
  CHECK(fd->live_allocations() == live, "a failed launch left %d device allocations",
        fd->live_allocations() - live);
  begin(COLMEAN, 1);
  rc = colmean(m, n, x, NULL, r, NULL);
  CHECK(rc == XPR_RT_OK, "after the failures: rc %d: %s", rc, xpr_rt_last_error());
  for (int64_t j = 0; j < n && rc == XPR_RT_OK; ++j) {
    double s = 0;
    for (int64_t i = 0; i < m; ++i)
      s += xval(i, j);
    CHECK(r[j] == s / (double)m, "after the failures: column %lld is %.17g", (long long)j, r[j]);
  }
  free(x);
}

static float aval(int64_t i) { return (float)((i * 7919) % 1999) - 999.0f; }

/* argmax(x * k) over n values (reversed 1: the input is a view with stride -1; 2: the input is
 * contiguous but the first pass is still the all-Strided variant). */
static void check_argmax(int64_t n, float k, int reversed, int64_t nan_at, int want_launches) {
  const int strided = reversed != 0;
  if (reversed == 2) reversed = 0;
  float *x = malloc((size_t)(n + 1) * sizeof *x);
  for (int64_t i = 0; i < n; ++i) x[i] = aval(i);
  if (nan_at >= 0) x[nan_at] = NAN;
  /* The view: element i is x[i], or x[n - 1 - i] reversed. */
  int64_t want = -1;
  float best = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = (reversed ? x[n - 1 - i] : x[i]) * k;
    if (want < 0 || better(v, best)) {
      best = v;
      want = i;
    }
  }
  const int64_t back[1] = {-1};
  int64_t got = -7;
  begin(ARGMAX, strided);
  const int before = launches_now();
  const int rc = argmax(n, reversed ? x + n - 1 : x, reversed ? back : NULL, k, &got, NULL);
  CHECK(rc == XPR_RT_OK, "argmax n=%lld k=%g: rc %d: %s", (long long)n, k, rc, xpr_rt_last_error());
  CHECK(got == want, "argmax n=%lld k=%g reversed=%d nan_at=%lld: %lld, expected %lld",
        (long long)n, k, reversed, (long long)nan_at, (long long)got, (long long)want);
  if (launches)
    CHECK(launches_now() - before == want_launches, "argmax n=%lld: %d launches, expected %d",
          (long long)n, launches_now() - before, want_launches);
  free(x);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const int fake = !strcmp(argv[1], "fake");
  fake_driver_t fd = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  if (fake && !fake_driver_open(emulate, &fd)) return 1;
  launches = fd.launches;
  int (*modules)(void) = fd.modules;

  /* Columns of 40000: 3 chunks each, one combining pass, then the division. */
  check_colmean(40000, 3, 0, 3, 0);
  /* Fortran order: contiguous over [kept, reduced], run by the all-Strided variant. */
  check_colmean(40000, 3, 1, 3, 0);
  /* 40 columns side by side in memory, 2 chunks each: the column schedule's first pass (1 group
   * of 32 columns and one of 8, per chunk). */
  check_colmean(20000, 40, 0, 3, 1);
  /* Short columns: one chunk, the first pass then the division. */
  check_colmean(5, 7, 0, 2, 0);
  /* Empty columns: the mean of nothing is NaN; no columns: nothing runs. */
  check_colmean(0, 3, 0, 2, 0);
  check_colmean(4, 0, 0, 0, 0);

  /* argmax over 7 chunks: the first pass with x * k fused, one combining pass into the output. */
  check_argmax(100003, 1.5f, 0, -1, 2);
  check_argmax(100003, -1.0f, 0, -1, 2); /* the argmin of x */
  check_argmax(100003, 2.0f, 1, -1, 2);  /* a reversed view: the all-Strided variant */
  check_argmax(100003, 1.0f, 0, 70001, 2); /* a NaN wins */
  /* One value: a Scalar operand, which no compiled variant takes but the all-Strided one. */
  check_argmax(1, 1.0f, 2, -1, 1);

  /* argmax of nothing: an error before anything runs or is written. */
  const int before = launches_now();
  float none = 0;
  int64_t got = -7;
  int rc = argmax(0, &none, NULL, 1.0f, &got, NULL);
  CHECK(rc == XPR_RT_ESHAPE &&
            strstr(xpr_rt_last_error(), "argmax of an empty array has no identity"),
        "empty argmax: rc %d: %s", rc, xpr_rt_last_error());
  CHECK(got == -7 && launches_now() == before, "empty argmax wrote or launched");

  /* A kernel's launch limits are asked of the driver once: the column schedule's first pass,
   * its combining pass and the division again ask nothing. */
  const int asked = fake ? fd.queries() : 0;
  check_colmean(20000, 40, 0, 3, 1);
  if (fake)
    CHECK(fd.queries() == asked, "a second call asked the driver %d more questions",
          fd.queries() - asked);

  if (fake) check_out_of_device_memory(&fd);

  if (fake) {
    CHECK(g_bad_block == 0, "%d reduce launches with the wrong block size", g_bad_block);
    CHECK(modules() == 2, "%d modules loaded (one per object expected)", modules());
  }
  printf("%s: %d failure(s)\n", argv[1], failures);
  return failures ? 1 : 0;
}
