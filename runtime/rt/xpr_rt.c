/* runtime/rt/xpr_rt.c — libxpr_rt: runs the plans embedded in xprc objects (sizes, strides,
 * layout choice, param slots, aliasing checks) on a small pthread pool. Plain C and pthreads:
 * linking an xprc object needs neither LLVM, MLIR nor a C++ runtime. */
#define _GNU_SOURCE
#include "xpr_rt.h"
#include "xpr_rt_plan.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RANK 8

/* ---- errors ---- */

static _Thread_local char last_error[512];

const char *xpr_rt_last_error(void) { return last_error; }

const char *xpr_rt_error_string(int code) {
  switch (code) {
  case XPR_RT_OK: return "ok";
  case XPR_RT_ESHAPE: return "invalid size";
  case XPR_RT_ENULL: return "null pointer";
  case XPR_RT_EOVERLAP: return "overlapping arrays";
  case XPR_RT_ERANGE: return "range out of bounds";
  case XPR_RT_EUNSUPPORTED: return "unsupported";
  case XPR_RT_EVERSION: return "libxpr_rt version mismatch";
  case XPR_RT_ENOMEM: return "out of memory";
  case XPR_RT_EINTERNAL: return "internal error";
  }
  return "unknown error code";
}

__attribute__((format(printf, 2, 3))) static int fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- the plan, decoded ---- */

typedef struct {
  const char *p;
  int len;
} str_t;
typedef struct {
  int dtype, rank;
  const int64_t *dims;
  str_t name;
} arr_t;
typedef struct {
  int dtype;
  str_t name;
} par_t;
typedef struct {
  int rank, nin, nout, nslots, nvar;
  const int64_t *dims, *in, *out, *slots, *vars;
} step_t;
typedef struct {
  int nsyms, ni, np, no, ns;
  str_t *syms;
  arr_t *in, *out;
  par_t *par;
  step_t *steps;
} plan_t;

typedef struct {
  const int64_t *w;
  int bad;
} reader_t;

static int64_t rd(reader_t *r) { return *r->w++; }
static int rd_count(reader_t *r) {
  int64_t v = rd(r);
  if (v < 0 || v > (1 << 20)) r->bad = 1;
  return r->bad ? 0 : (int)v;
}
static str_t rd_str(reader_t *r) {
  str_t s;
  s.len = rd_count(r);
  s.p = (const char *)r->w;
  r->w += (s.len + 7) / 8;
  return s;
}
static const int64_t *rd_words(reader_t *r, int64_t n) {
  const int64_t *p = r->w;
  r->w += n;
  return p;
}
static void rd_array(reader_t *r, arr_t *a) {
  a->dtype = (int)rd(r);
  a->rank = rd_count(r);
  if (a->rank > MAX_RANK) r->bad = 1;
  a->dims = rd_words(r, a->rank);
  a->name = rd_str(r);
}

static void free_plan(plan_t *pl) {
  free(pl->syms);
  free(pl->in);
  free(pl->out);
  free(pl->par);
  free(pl->steps);
}

static int decode(const int64_t *words, plan_t *pl) {
  memset(pl, 0, sizeof *pl);
  if (words[0] != XPR_RT_PLAN_MAGIC)
    return fail(XPR_RT_EVERSION, "not an xprc plan (bad magic): the object is corrupt or foreign");
  if (words[1] != XPR_RT_PLAN_VERSION)
    return fail(XPR_RT_EVERSION,
                "the object was compiled for plan format %lld, this libxpr_rt reads format %d: "
                "link the libxpr_rt of the xprc that compiled it",
                (long long)words[1], XPR_RT_PLAN_VERSION);
  reader_t r = {words + 2, 0};
  pl->nsyms = rd_count(&r);
  pl->syms = calloc((size_t)pl->nsyms + 1, sizeof *pl->syms);
  if (!pl->syms) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int i = 0; i < pl->nsyms; ++i) pl->syms[i] = rd_str(&r);
  pl->ni = rd_count(&r);
  pl->in = calloc((size_t)pl->ni + 1, sizeof *pl->in);
  if (!pl->in) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int i = 0; i < pl->ni; ++i) rd_array(&r, &pl->in[i]);
  pl->np = rd_count(&r);
  pl->par = calloc((size_t)pl->np + 1, sizeof *pl->par);
  if (!pl->par) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int i = 0; i < pl->np; ++i) {
    pl->par[i].dtype = (int)rd(&r);
    pl->par[i].name = rd_str(&r);
  }
  pl->no = rd_count(&r);
  pl->out = calloc((size_t)pl->no + 1, sizeof *pl->out);
  if (!pl->out) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int i = 0; i < pl->no; ++i) rd_array(&r, &pl->out[i]);
  pl->ns = rd_count(&r);
  pl->steps = calloc((size_t)pl->ns + 1, sizeof *pl->steps);
  if (!pl->steps) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int s = 0; s < pl->ns && !r.bad; ++s) {
    step_t *st = &pl->steps[s];
    st->rank = rd_count(&r);
    if (st->rank > MAX_RANK) r.bad = 1;
    st->dims = rd_words(&r, st->rank);
    st->nin = rd_count(&r);
    st->in = rd_words(&r, st->nin);
    st->nout = rd_count(&r);
    st->out = rd_words(&r, st->nout);
    st->nslots = rd_count(&r);
    st->slots = rd_words(&r, 2 * (int64_t)st->nslots);
    st->nvar = rd_count(&r);
    st->vars = rd_words(&r, (int64_t)st->nvar * (1 + st->nin + st->nout));
    if (st->nvar < 1) r.bad = 1;
    for (int k = 0; k < st->nin; ++k)
      if (st->in[k] < 0 || st->in[k] >= pl->ni + pl->no) r.bad = 1;
    for (int k = 0; k < st->nout; ++k)
      if (st->out[k] < 0 || st->out[k] >= pl->no) r.bad = 1;
  }
  if (r.bad) return fail(XPR_RT_EINTERNAL, "malformed plan in the xprc object");
  return XPR_RT_OK;
}

/* ---- the thread pool ---- */

/* Chunking as the JIT's executor (runtime/Executor.h, ChunkPolicy): elementwise results never
 * depend on it, but the same cut keeps the same cache behaviour. */
enum { SERIAL_BELOW = 32768, MIN_CHUNK = 8192, CHUNKS_PER_THREAD = 4, VECTOR_WIDTH = 16 };

typedef struct {
  xpr_rt_kernel_fn fn;
  void *const *ptrs;
  const int64_t *strides, *shape;
  const void *params;
  int64_t begin, total, chunk, nchunks;
} job_t;

static void run_chunk(const job_t *j, int64_t c) {
  int64_t b = j->begin + c * j->chunk, e = b + j->chunk;
  if (e > j->begin + j->total) e = j->begin + j->total;
  j->fn(j->ptrs, j->strides, j->params, j->shape, b, e);
}

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake, idle;
  int started;       /* worker threads created */
  int wanted;        /* threads per job, the caller included; 0 = not yet resolved */
  int busy;          /* a job is running: other callers run serially */
  uint64_t gen;      /* bumped per job */
  int active;        /* workers inside the current job */
  job_t job;
  atomic_llong next; /* next chunk to take */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
          .idle = PTHREAD_COND_INITIALIZER};

static int cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static int resolve_threads(int t) {
  if (t > 0) return t > 1024 ? 1024 : t;
  const char *env = getenv("XPR_RT_THREADS");
  if (env && atoi(env) > 0) return atoi(env) > 1024 ? 1024 : atoi(env);
  return cores();
}

static void *worker(void *arg) {
  const int id = (int)(intptr_t)arg; /* 1-based: the caller is participant 0 */
  uint64_t seen = 0;
  pthread_mutex_lock(&pool.mu);
  seen = pool.gen;
  for (;;) {
    while (pool.gen == seen) pthread_cond_wait(&pool.wake, &pool.mu);
    seen = pool.gen;
    if (id >= pool.wanted || !pool.busy) continue;
    job_t j = pool.job;
    ++pool.active;
    pthread_mutex_unlock(&pool.mu);
    for (int64_t c; (c = atomic_fetch_add(&pool.next, 1)) < j.nchunks;) run_chunk(&j, c);
    pthread_mutex_lock(&pool.mu);
    if (--pool.active == 0) pthread_cond_broadcast(&pool.idle);
  }
  return NULL;
}

void xpr_rt_set_threads(int threads) {
  pthread_mutex_lock(&pool.mu);
  pool.wanted = resolve_threads(threads);
  pthread_mutex_unlock(&pool.mu);
}

int xpr_rt_threads(void) {
  pthread_mutex_lock(&pool.mu);
  if (pool.wanted == 0) pool.wanted = resolve_threads(0);
  int n = pool.wanted;
  pthread_mutex_unlock(&pool.mu);
  return n;
}

/* fn over [0, total) in chunks, on the pool when it is free and the work is large enough. */
static void parallel_for(job_t j) {
  const int threads = xpr_rt_threads();
  if (threads <= 1 || j.total < SERIAL_BELOW) {
    j.fn(j.ptrs, j.strides, j.params, j.shape, j.begin, j.begin + j.total);
    return;
  }
  int64_t want = (int64_t)threads * CHUNKS_PER_THREAD;
  int64_t chunk = (j.total + want - 1) / want;
  if (chunk < MIN_CHUNK) chunk = MIN_CHUNK;
  chunk = (chunk + VECTOR_WIDTH - 1) / VECTOR_WIDTH * VECTOR_WIDTH;
  j.chunk = chunk;
  j.nchunks = (j.total + chunk - 1) / chunk;

  pthread_mutex_lock(&pool.mu);
  if (pool.busy) { /* another caller's job is running: do not wait for it */
    pthread_mutex_unlock(&pool.mu);
    for (int64_t c = 0; c < j.nchunks; ++c) run_chunk(&j, c);
    return;
  }
  while (pool.started < threads - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker, (void *)(intptr_t)(pool.started + 1));
    pthread_attr_destroy(&attr);
    if (rc != 0) break; /* fewer workers: the chunks still all run */
    ++pool.started;
  }
  while (pool.active > 0) pthread_cond_wait(&pool.idle, &pool.mu); /* late leavers of the last job */
  pool.busy = 1;
  pool.job = j;
  atomic_store(&pool.next, 0);
  ++pool.gen;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);

  for (int64_t c; (c = atomic_fetch_add(&pool.next, 1)) < j.nchunks;) run_chunk(&j, c);

  pthread_mutex_lock(&pool.mu);
  while (pool.active > 0) pthread_cond_wait(&pool.idle, &pool.mu);
  pool.busy = 0;
  pthread_mutex_unlock(&pool.mu);
}

/* ---- one call ---- */

typedef struct {
  char *p;       /* element 0 */
  int dtype, rank;
  int64_t shape[MAX_RANK], strides[MAX_RANK], count;
} operand_t;

static int dtype_size(int dt) {
  switch (dt) {
  case XPR_RT_BOOL: case XPR_RT_I8: case XPR_RT_U8: return 1;
  case XPR_RT_I16: case XPR_RT_U16: case XPR_RT_F16: case XPR_RT_BF16: return 2;
  case XPR_RT_I32: case XPR_RT_U32: case XPR_RT_F32: return 4;
  default: return 8;
  }
}

/* Exact conversions of a float to f16/bf16, rounding once to nearest even (support/Half.h). */
static uint32_t round_to_format(int neg, uint64_t m, int e, int ebits, int mbits) {
  const uint32_t sign = neg ? (1u << (ebits + mbits)) : 0u;
  const uint32_t inf = ((1u << ebits) - 1u) << mbits;
  if (m == 0) return sign;
  const int bias = (1 << (ebits - 1)) - 1, emin = 1 - bias, qmin = emin - mbits;
  const int lead = e + (64 - __builtin_clzll(m)) - 1;
  const int q = lead < emin ? qmin : lead - mbits;
  if (q > bias + 1) return sign | inf;
  const int shift = q - e;
  uint64_t r;
  if (shift <= 0) {
    r = m << -shift;
  } else if (shift > 64) {
    r = 0;
  } else {
    const uint64_t rem = shift == 64 ? m : m & ((1ull << shift) - 1);
    const uint64_t half = 1ull << (shift - 1);
    r = shift == 64 ? 0 : m >> shift;
    if (rem > half || (rem == half && (r & 1))) ++r;
  }
  const uint64_t bits = ((uint64_t)(q - qmin) << mbits) + r;
  if (bits >= inf) return sign | inf;
  return sign | (uint32_t)bits;
}
static uint16_t float_to_half(float f, int bf) {
  uint32_t b;
  memcpy(&b, &f, 4);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) /* NaN: quiet, keep the top payload */
    return bf ? (uint16_t)((b >> 16) | 0x40u)
              : (uint16_t)(((b >> 16) & 0x8000u) | 0x7e00u | ((b >> 13) & 0x3ffu));
  if ((b & 0x7fffffffu) == 0x7f800000u)
    return bf ? (uint16_t)(b >> 16) : (uint16_t)(((b >> 16) & 0x8000u) | 0x7c00u);
  const int neg = (b >> 31) != 0, ex = (int)((b >> 23) & 0xff);
  uint64_t m = b & 0x7fffffu;
  int e = -149;
  if (ex != 0) {
    m |= 1u << 23;
    e = ex - 150;
  }
  return bf ? (uint16_t)round_to_format(neg, m, e, 8, 7)
            : (uint16_t)round_to_format(neg, m, e, 5, 10);
}

/* The concrete extents of dims; ESHAPE on overflow. */
static int bind(const plan_t *pl, const int64_t *syms, const int64_t *dims, int rank,
                int64_t *shape, int64_t *count, const char *what, str_t name) {
  int64_t c = 1;
  for (int d = 0; d < rank; ++d) {
    shape[d] = dims[d] >= 0 ? dims[d] : syms[-dims[d] - 1];
    if (shape[d] != 0 && c > (INT64_C(1) << 62) / shape[d])
      return fail(XPR_RT_ESHAPE, "%s '%.*s': the element count overflows", what, name.len, name.p);
    c *= shape[d];
  }
  *count = c;
  return XPR_RT_OK;
}

/* The byte interval an operand occupies; empty when it has no elements. */
static void span_of(const operand_t *o, uintptr_t *lo, uintptr_t *hi) {
  if (o->count == 0) {
    *lo = *hi = 0;
    return;
  }
  int64_t l = 0, h = 0;
  for (int d = 0; d < o->rank; ++d) {
    int64_t ext = (o->shape[d] - 1) * o->strides[d];
    if (ext < 0) l += ext; else h += ext;
  }
  int64_t es = dtype_size(o->dtype);
  *lo = (uintptr_t)o->p + (uintptr_t)(l * es);
  *hi = (uintptr_t)o->p + (uintptr_t)((h + 1) * es);
}
static int overlaps(const operand_t *a, const operand_t *b) {
  uintptr_t al, ah, bl, bh;
  span_of(a, &al, &ah);
  span_of(b, &bl, &bh);
  return al < ah && bl < bh && al < bh && bl < ah;
}
static int same_layout(const operand_t *a, const operand_t *b) {
  if (a->p != b->p || a->dtype != b->dtype || a->rank != b->rank) return 0;
  for (int d = 0; d < a->rank; ++d)
    if (a->shape[d] != b->shape[d] || (a->shape[d] > 1 && a->strides[d] != b->strides[d])) return 0;
  return 1;
}

/* runtime/Execute.cpp's map_operand: the operand right-aligned against the iteration space. */
static int map_operand(const operand_t *o, const int64_t *iter, int R, int output, int64_t *st,
                       int *layout, str_t name) {
  const int r = o->rank;
  int64_t size = 1;
  for (int d = 0; d < R; ++d) st[d] = 0;
  for (int d = 0; d < r; ++d) {
    const int id = R - r + d;
    size *= o->shape[d];
    if (o->shape[d] == iter[id]) {
      st[id] = iter[id] == 1 ? 0 : o->strides[d];
    } else if (o->shape[d] != 1) {
      return fail(XPR_RT_ESHAPE, "'%.*s': extent %lld along dimension %d does not broadcast to %lld",
                  name.len, name.p, (long long)o->shape[d], d, (long long)iter[id]);
    }
  }
  if (size == 1) {
    *layout = output ? XPR_RT_CONTIGUOUS : XPR_RT_SCALAR;
    return XPR_RT_OK;
  }
  int64_t expect = 1;
  *layout = XPR_RT_CONTIGUOUS;
  for (int d = R; d-- > 0;) {
    if (iter[d] == 1) continue;
    if (st[d] != expect) {
      *layout = XPR_RT_STRIDED;
      break;
    }
    expect *= iter[d];
  }
  return XPR_RT_OK;
}

static int64_t step_total(const plan_t *pl, const step_t *st, const int64_t *syms, int64_t *iter) {
  int64_t total = 1;
  for (int d = 0; d < st->rank; ++d) {
    iter[d] = st->dims[d] >= 0 ? st->dims[d] : syms[-st->dims[d] - 1];
    total *= iter[d]; /* bounded: every iteration space is the shape of an output */
  }
  return total;
}

static int check_syms(const plan_t *pl, const int64_t *syms) {
  for (int i = 0; i < pl->nsyms; ++i)
    if (syms[i] < 0)
      return fail(XPR_RT_ESHAPE, "size %.*s = %lld: sizes must be >= 0", pl->syms[i].len,
                  pl->syms[i].p, (long long)syms[i]);
  return XPR_RT_OK;
}

static int run_plan(const plan_t *pl, const xpr_rt_kernel_fn *kernels, const uint64_t *args,
                    int64_t lo, int64_t hi, int ranged, operand_t *ops, int64_t *slots,
                    int *writer, int *last_read) {
  const int64_t *syms = (const int64_t *)args;
  int rc = check_syms(pl, syms);
  if (rc) return rc;
  const uint64_t *a = args + pl->nsyms;
  const int nops = pl->ni + pl->no;
  for (int k = 0; k < nops; ++k) {
    const int is_in = k < pl->ni;
    const arr_t *ar = is_in ? &pl->in[k] : &pl->out[k - pl->ni];
    operand_t *o = &ops[k];
    const uint64_t *pa = is_in ? a + 2 * k : a + 2 * pl->ni + pl->np + 2 * (k - pl->ni);
    o->p = (char *)(uintptr_t)pa[0];
    o->dtype = ar->dtype;
    o->rank = ar->rank;
    rc = bind(pl, syms, ar->dims, ar->rank, o->shape, &o->count, is_in ? "input" : "output",
              ar->name);
    if (rc) return rc;
    const int64_t *sp = (const int64_t *)(uintptr_t)pa[1];
    int64_t e = 1;
    for (int d = o->rank; d-- > 0;) {
      o->strides[d] = sp ? sp[d] : e;
      e *= o->shape[d];
    }
    if (o->count > 0 && !o->p)
      return fail(XPR_RT_ENULL, "%s '%.*s' has %lld elements but its pointer is NULL",
                  is_in ? "input" : "output", ar->name.len, ar->name.p, (long long)o->count);
    if (!is_in && o->count > 1)
      for (int d = 0; d < o->rank; ++d)
        if (o->shape[d] > 1 && o->strides[d] == 0)
          return fail(XPR_RT_EOVERLAP,
                      "output '%.*s' has a zero stride, so several of its elements share memory",
                      ar->name.len, ar->name.p);
  }
  for (int i = 0; i < pl->np; ++i) {
    uint64_t raw = a[2 * pl->ni + i];
    const int dt = pl->par[i].dtype;
    if (dt == XPR_RT_F16 || dt == XPR_RT_BF16) {
      float f;
      memcpy(&f, &raw, 4);
      raw = float_to_half(f, dt == XPR_RT_BF16);
    } else if (dtype_size(dt) < 8) {
      raw &= (UINT64_C(1) << (8 * dtype_size(dt))) - 1; /* the driver stored only these bytes */
    }
    slots[i] = (int64_t)raw;
  }

  /* Aliasing: as Program::run_into, except that an unsafe overlap is an error here (no copy). */
  for (int k = 0; k < nops; ++k) writer[k] = last_read[k] = -1;
  int dependent = 0;
  for (int s = 0; s < pl->ns; ++s) {
    const step_t *st = &pl->steps[s];
    for (int k = 0; k < st->nin; ++k) {
      last_read[st->in[k]] = s;
      dependent |= st->in[k] >= pl->ni;
    }
    for (int k = 0; k < st->nout; ++k) writer[pl->ni + st->out[k]] = s;
  }
  for (int x = pl->ni; x < nops; ++x)
    for (int y = x + 1; y < nops; ++y)
      if (overlaps(&ops[x], &ops[y]))
        return fail(XPR_RT_EOVERLAP, "outputs '%.*s' and '%.*s' overlap in memory",
                    pl->out[x - pl->ni].name.len, pl->out[x - pl->ni].name.p,
                    pl->out[y - pl->ni].name.len, pl->out[y - pl->ni].name.p);
  for (int i = 0; i < pl->ni; ++i)
    for (int o = pl->ni; o < nops; ++o) {
      if (!overlaps(&ops[i], &ops[o])) continue;
      /* Harmless when the writing step is the last to read the input (in ranged mode: the only
       * one, since steps then run side by side) and reads each element where it writes it. */
      const int k = writer[o];
      int safe = k >= 0 && same_layout(&ops[i], &ops[o]) && last_read[i] <= k;
      for (int s = 0; safe && ranged && s < pl->ns; ++s)
        if (s != k)
          for (int q = 0; q < pl->steps[s].nin; ++q) safe &= pl->steps[s].in[q] != i;
      if (!safe)
        return fail(XPR_RT_EOVERLAP,
                    "output '%.*s' overlaps input '%.*s' (only the very same elements in the "
                    "same layout may be shared, for in-place updates)",
                    pl->out[o - pl->ni].name.len, pl->out[o - pl->ni].name.p, pl->in[i].name.len,
                    pl->in[i].name.p);
    }

  if (ranged) {
    if (dependent)
      return fail(XPR_RT_EUNSUPPORTED, "this program's steps read each other's outputs: call the "
                                       "whole-array entry instead of _range");
    int64_t work = 0, iter[MAX_RANK];
    for (int s = 0; s < pl->ns; ++s) work += step_total(pl, &pl->steps[s], syms, iter);
    if (lo < 0 || hi < lo || hi > work)
      return fail(XPR_RT_ERANGE, "range [%lld, %lld) is not within [0, %lld)", (long long)lo,
                  (long long)hi, (long long)work);
  }

  int64_t offset = 0; /* of the step's first work item, for ranged calls */
  for (int s = 0; s < pl->ns; ++s) {
    const step_t *st = &pl->steps[s];
    int64_t iter[MAX_RANK];
    const int64_t total = step_total(pl, st, syms, iter);
    const int64_t first = offset;
    offset += total;
    if (total == 0) continue;
    int64_t b = 0, e = total;
    if (ranged) {
      b = lo > first ? lo - first : 0;
      e = hi - first < total ? hi - first : total;
      if (b >= e) continue;
    }
    const int n = st->nin + st->nout;
    void *ptrs[n];
    int64_t strides[n * (st->rank > 0 ? st->rank : 1)];
    int layout[n];
    for (int q = 0; q < n; ++q) {
      const int out = q >= st->nin;
      const int id = out ? pl->ni + (int)st->out[q - st->nin] : (int)st->in[q];
      const str_t name = id < pl->ni ? pl->in[id].name : pl->out[id - pl->ni].name;
      rc = map_operand(&ops[id], iter, st->rank, out, strides + q * st->rank, &layout[q], name);
      if (rc) return rc;
      ptrs[q] = ops[id].p;
    }
    /* The variant compiled for exactly these layouts, else the all-Strided one (last). */
    const int64_t *chosen = st->vars + (int64_t)(st->nvar - 1) * (1 + n);
    for (int v = 0; v < st->nvar; ++v) {
      const int64_t *var = st->vars + (int64_t)v * (1 + n);
      int match = 1;
      for (int q = 0; q < n && match; ++q) match = var[1 + q] == layout[q];
      if (match) {
        chosen = var;
        break;
      }
    }
    int64_t kslots[st->nslots > 0 ? st->nslots : 1];
    for (int q = 0; q < st->nslots; ++q)
      kslots[q] = st->slots[2 * q] >= 0 ? slots[st->slots[2 * q]] : st->slots[2 * q + 1];
    job_t j = {kernels[chosen[0]], ptrs, strides, iter, kslots, b, e - b, 0, 0};
    if (ranged)
      j.fn(j.ptrs, j.strides, j.params, j.shape, b, e);
    else
      parallel_for(j);
  }
  return XPR_RT_OK;
}

int xpr_rt_run(const int64_t *plan, const xpr_rt_kernel_fn *kernels, const uint64_t *args,
               int64_t lo, int64_t hi, int ranged) {
  plan_t pl;
  int rc = decode(plan, &pl);
  if (rc == XPR_RT_OK) {
    const int nops = pl.ni + pl.no;
    operand_t *ops = calloc((size_t)nops + 1, sizeof *ops);
    int64_t *slots = calloc((size_t)pl.np + 1, sizeof *slots);
    int *marks = calloc(2 * (size_t)nops + 2, sizeof *marks);
    if (!ops || !slots || !marks)
      rc = fail(XPR_RT_ENOMEM, "out of memory");
    else
      rc = run_plan(&pl, kernels, args, lo, hi, ranged, ops, slots, marks, marks + nops + 1);
    free(ops);
    free(slots);
    free(marks);
  }
  free_plan(&pl);
  return rc;
}

int64_t xpr_rt_work(const int64_t *plan, const uint64_t *args) {
  plan_t pl;
  int64_t work = -1;
  if (decode(plan, &pl) == XPR_RT_OK && check_syms(&pl, (const int64_t *)args) == XPR_RT_OK) {
    const int64_t *syms = (const int64_t *)args;
    work = 0;
    for (int s = 0; s < pl.ns && work >= 0; ++s) {
      int64_t shape[MAX_RANK], count;
      const step_t *st = &pl.steps[s];
      if (bind(&pl, syms, st->dims, st->rank, shape, &count, "step", (str_t){"", 0}))
        work = -1;
      else
        work += count;
    }
  }
  free_plan(&pl);
  return work;
}
