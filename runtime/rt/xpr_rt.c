/* runtime/rt/xpr_rt.c — libxpr_rt: runs the plans embedded in xprc objects (sizes, strides,
 * layout choice, param slots, aliasing checks) on a small pthread pool. Plain C and pthreads:
 * linking an xprc object needs neither LLVM, MLIR nor a C++ runtime. */
#define _GNU_SOURCE
#include "xpr_rt.h"
#include "xpr_rt_plan.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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
  case XPR_RT_EDEVICE: return "CUDA device error";
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
  int kind, rank, nin, nout, nslots, nvar;
  const int64_t *dims, *in, *out, *slots, *vars;
  /* reduce steps */
  int op, value_dt, keepdims, naxes, has_block, nbslots;
  int64_t bkernel;
  const int64_t *axes, *bslots, *blayouts;
  /* reduce steps of cuda objects: the GPU's later passes */
  int has_gpu, partial_dt, ncslots, nfslots;
  int64_t ckernel, fkernel;
  const int64_t *cslots, *fslots;
} step_t;
typedef struct {
  int nsyms, ni, np, no, nt, ns;
  str_t *syms;
  arr_t *in, *out, *tmp;
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
  free(pl->tmp);
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
  pl->nt = rd_count(&r);
  pl->tmp = calloc((size_t)pl->nt + 1, sizeof *pl->tmp);
  if (!pl->tmp) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int i = 0; i < pl->nt; ++i) rd_array(&r, &pl->tmp[i]);
  const int nops = pl->ni + pl->no + pl->nt;
  pl->ns = rd_count(&r);
  pl->steps = calloc((size_t)pl->ns + 1, sizeof *pl->steps);
  if (!pl->steps) return fail(XPR_RT_ENOMEM, "out of memory decoding the plan");
  for (int s = 0; s < pl->ns && !r.bad; ++s) {
    step_t *st = &pl->steps[s];
    st->kind = (int)rd(&r);
    if (st->kind != XPR_RT_STEP_KERNEL && st->kind != XPR_RT_STEP_REDUCE) r.bad = 1;
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
      if (st->in[k] < 0 || st->in[k] >= nops) r.bad = 1;
    for (int k = 0; k < st->nout; ++k)
      if (st->out[k] < pl->ni || st->out[k] >= nops) r.bad = 1;
    if (st->kind == XPR_RT_STEP_REDUCE && !r.bad) {
      st->op = (int)rd(&r);
      st->value_dt = (int)rd(&r);
      st->keepdims = (int)rd(&r);
      st->naxes = rd_count(&r);
      st->axes = rd_words(&r, st->naxes);
      st->has_block = (int)rd(&r);
      if (st->has_block) {
        st->bkernel = rd(&r);
        st->nbslots = rd_count(&r);
        st->bslots = rd_words(&r, 2 * (int64_t)st->nbslots);
        st->blayouts = rd_words(&r, st->nin);
      }
      st->has_gpu = (int)rd(&r);
      if (st->has_gpu) {
        st->partial_dt = (int)rd(&r);
        st->ckernel = rd(&r);
        st->ncslots = rd_count(&r);
        st->cslots = rd_words(&r, 2 * (int64_t)st->ncslots);
        st->fkernel = rd(&r);
        st->nfslots = rd_count(&r);
        st->fslots = rd_words(&r, 2 * (int64_t)st->nfslots);
        if (st->partial_dt < XPR_RT_BOOL || st->partial_dt > XPR_RT_F64) r.bad = 1;
      }
      if (st->nout != 1 || st->op < XPR_RT_OP_SUM || st->op > XPR_RT_OP_ARGMAX) r.bad = 1;
      for (int k = 0; k < st->naxes && !r.bad; ++k)
        if (st->axes[k] < 0 || st->axes[k] >= st->rank) r.bad = 1;
    }
  }
  if (r.bad) return fail(XPR_RT_EINTERNAL, "malformed plan in the xprc object");
  return XPR_RT_OK;
}

/* ---- the thread pool ---- */

/* Chunking as the JIT's executor (runtime/Executor.h, ChunkPolicy): elementwise results never
 * depend on it, but the same cut keeps the same cache behaviour. */
enum { SERIAL_BELOW = 32768, MIN_CHUNK = 8192, CHUNKS_PER_THREAD = 4, VECTOR_WIDTH = 16 };

/* A parallel loop: fn(ctx, b, e) over [0, total) in chunks of `chunk` items. */
typedef void (*task_fn)(void *ctx, int64_t b, int64_t e);
typedef struct {
  task_fn fn;
  void *ctx;
  int64_t total, chunk, nchunks;
} job_t;

static void run_chunk(const job_t *j, int64_t c) {
  int64_t b = c * j->chunk, e = b + j->chunk;
  if (e > j->total) e = j->total;
  j->fn(j->ctx, b, e);
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

/* A caller's pool (xpr_rt_set_parallel): when set, pool_run hands every job's chunks to it. */
static struct {
  pthread_mutex_t mu;
  xpr_rt_parallel_fn fn;
  void *ctx;
  int threads;
} user_pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

void xpr_rt_set_parallel(xpr_rt_parallel_fn fn, void *ctx, int threads) {
  pthread_mutex_lock(&user_pool.mu);
  user_pool.fn = fn;
  user_pool.ctx = ctx;
  user_pool.threads = threads < 1 ? 1 : threads > 1024 ? 1024 : threads;
  pthread_mutex_unlock(&user_pool.mu);
}

static void user_chunk(void *arg, int64_t c) { run_chunk((const job_t *)arg, c); }

void xpr_rt_set_threads(int threads) {
  pthread_mutex_lock(&pool.mu);
  pool.wanted = resolve_threads(threads);
  pthread_mutex_unlock(&pool.mu);
}

int xpr_rt_threads(void) {
  pthread_mutex_lock(&user_pool.mu);
  const int user = user_pool.fn ? user_pool.threads : 0;
  pthread_mutex_unlock(&user_pool.mu);
  if (user) return user;
  pthread_mutex_lock(&pool.mu);
  if (pool.wanted == 0) pool.wanted = resolve_threads(0);
  int n = pool.wanted;
  pthread_mutex_unlock(&pool.mu);
  return n;
}

/* j over the pool when it is free (chunking already set). */
static void pool_run(job_t j) {
  pthread_mutex_lock(&user_pool.mu);
  const xpr_rt_parallel_fn ufn = user_pool.fn;
  void *uctx = user_pool.ctx;
  pthread_mutex_unlock(&user_pool.mu);
  if (ufn) { /* the caller's threads run the chunks; the cut is already made */
    ufn(uctx, j.nchunks, user_chunk, &j);
    return;
  }
  const int threads = xpr_rt_threads();
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

/* A kernel call over iterations [begin, begin + total), cut as the JIT's executor cuts it
 * (runtime/Executor.h, ChunkPolicy): elementwise results never depend on the cut, but the same
 * cut keeps the same cache behaviour. */
typedef struct {
  xpr_rt_kernel_fn fn;
  void *const *ptrs;
  const int64_t *strides, *shape;
  const void *params;
  int64_t begin;
} launch_t;

static void launch_task(void *ctx, int64_t b, int64_t e) {
  const launch_t *l = (const launch_t *)ctx;
  l->fn(l->ptrs, l->strides, l->params, l->shape, l->begin + b, l->begin + e);
}

static void parallel_for(launch_t *l, int64_t total) {
  const int threads = xpr_rt_threads();
  if (threads <= 1 || total < SERIAL_BELOW) {
    launch_task(l, 0, total);
    return;
  }
  int64_t want = (int64_t)threads * CHUNKS_PER_THREAD;
  int64_t chunk = (total + want - 1) / want;
  if (chunk < MIN_CHUNK) chunk = MIN_CHUNK;
  chunk = (chunk + VECTOR_WIDTH - 1) / VECTOR_WIDTH * VECTOR_WIDTH;
  job_t j = {launch_task, l, total, chunk, (total + chunk - 1) / chunk};
  pool_run(j);
}

/* Reduction units: every unit is computed whole by one thread, so the cut changes who computes
 * a unit, never its value. `weight` is a unit's size in map values, for the serial threshold. */
static void parallel_units(task_fn fn, void *ctx, int64_t units, int64_t weight) {
  if (units <= 0) return;
  const int threads = xpr_rt_threads();
  if (threads <= 1 || units == 1 || units * weight < SERIAL_BELOW) {
    fn(ctx, 0, units);
    return;
  }
  int64_t want = (int64_t)threads * CHUNKS_PER_THREAD;
  int64_t chunk = (units + want - 1) / want;
  if (chunk * weight < MIN_CHUNK) chunk = (MIN_CHUNK + weight - 1) / weight;
  job_t j = {fn, ctx, units, chunk, (units + chunk - 1) / chunk};
  if (j.nchunks <= 1)
    fn(ctx, 0, units);
  else
    pool_run(j);
}

/* ---- the CPU level, for multi-versioned objects ---- */

/* The x86-64 psABI micro-architecture levels, from cpuid and (for the AVX and AVX-512 register
 * state) xgetbv: what LLVM's x86-64-vN CPUs assume. */
static int detect_level(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 1;
  const unsigned c1 = c;
  unsigned ec = 0;
  if (__get_cpuid(0x80000001u, &a, &b, &c, &d)) ec = c;
  /* v2: SSE3, SSSE3, CMPXCHG16B, SSE4.1, SSE4.2, POPCNT, LAHF/SAHF */
  const unsigned v2c = (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23);
  if ((c1 & v2c) != v2c || !(ec & 1u)) return 1;
  /* v3: FMA, MOVBE, OSXSAVE, AVX, F16C, LZCNT, and AVX2, BMI1, BMI2 (leaf 7); YMM state on */
  const unsigned v3c = (1u << 12) | (1u << 22) | (1u << 27) | (1u << 28) | (1u << 29);
  if ((c1 & v3c) != v3c || !(ec & (1u << 5))) return 2;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return 2;
  const unsigned v3b = (1u << 3) | (1u << 5) | (1u << 8);
  if ((lo & 6u) != 6u || (b7 & v3b) != v3b) return 2;
  /* v4: AVX512F, DQ, CD, BW, VL; opmask and ZMM state on */
  const unsigned v4b = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
  if ((lo & 0xe0u) != 0xe0u || (b7 & v4b) != v4b) return 3;
  return 4;
#else
  return 0;
#endif
}

static atomic_int cpu_level = -1;
static _Thread_local int picked_level;

int xpr_rt_picked_level(void) { return picked_level; }

int xpr_rt_cpu_level(void) {
  int l = atomic_load(&cpu_level);
  if (l >= 0) return l;
  l = detect_level();
  const char *env = getenv("XPR_RT_CPU_LEVEL");
  if (env && *env) {
    const char *v = strrchr(env, 'v'); /* "v3", "x86-64-v3" or "3" */
    const int cap = atoi(v ? v + 1 : env);
    if (cap >= 1 && cap < l) l = cap;
  }
  atomic_store(&cpu_level, l);
  return l;
}

const xpr_rt_kernel_fn *xpr_rt_pick(const xpr_rt_kernel_fn *const *tables, const int64_t *levels,
                                    int n) {
  const int have = xpr_rt_cpu_level();
  for (int i = n; i-- > 0;)
    if (levels[i] <= have) {
      picked_level = (int)levels[i];
      return tables[i];
    }
  fail(XPR_RT_EUNSUPPORTED,
       "this object's lowest kernels need an x86-64-v%lld CPU, and this CPU is x86-64-v%d%s",
       n > 0 ? (long long)levels[0] : 0LL, have,
       getenv("XPR_RT_CPU_LEVEL") ? " (as capped by XPR_RT_CPU_LEVEL)" : "");
  return NULL;
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

/* double -> f16/bf16, rounding once to nearest even (support/Half.h, f64_to_f16/bf16). */
static uint16_t double_to_half(double d, int bf) {
  uint64_t b;
  memcpy(&b, &d, 8);
  const uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) {
    const uint64_t man = b & 0xfffffffffffffull;
    if (bf)
      return man ? (uint16_t)(sign | 0x7fc0u | ((man >> 45) & 0x7fu)) : (uint16_t)(sign | 0x7f80u);
    return man ? (uint16_t)(sign | 0x7e00u | ((man >> 42) & 0x3ffu)) : (uint16_t)(sign | 0x7c00u);
  }
  const int neg = (b >> 63) != 0, ex = (int)((b >> 52) & 0x7ff);
  uint64_t m = b & ((UINT64_C(1) << 52) - 1);
  int e = -1074;
  if (ex != 0) {
    m |= UINT64_C(1) << 52;
    e = ex - 1075;
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

/* Contiguous when `st` walks `shape` in C order (size-1 dims aside), else Strided. */
static int c_order_layout(const int64_t *st, const int64_t *shape, int R) {
  int64_t expect = 1;
  for (int d = R; d-- > 0;) {
    if (shape[d] == 1) continue;
    if (st[d] != expect) return XPR_RT_STRIDED;
    expect *= shape[d];
  }
  return XPR_RT_CONTIGUOUS;
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
  *layout = c_order_layout(st, iter, R);
  return XPR_RT_OK;
}

/* The variant of a step compiled for exactly these `nops` layouts, else the last, all-Strided
 * one: its kernel index, then its layouts. */
static const int64_t *pick_variant(const step_t *st, const int *layout, int nops) {
  for (int v = 0; v < st->nvar; ++v) {
    const int64_t *var = st->vars + (int64_t)v * (1 + nops);
    int match = 1;
    for (int q = 0; q < nops && match; ++q) match = var[1 + q] == layout[q];
    if (match) return var;
  }
  return st->vars + (int64_t)(st->nvar - 1) * (1 + nops);
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

static str_t operand_name(const plan_t *pl, int id) {
  if (id < pl->ni) return pl->in[id].name;
  if (id < pl->ni + pl->no) return pl->out[id - pl->ni].name;
  return pl->tmp[id - pl->ni - pl->no].name;
}

/* ---- reductions: runtime/Reduce.cpp's scheme, in C ---- */

/* The blocking (compiler/codegen/ReduceKernel.h and runtime/Reduce.cpp): constants, because
 * changing any of them changes the last bits of float sums. */
enum {
  KLANES = 16, KLEAF = 256, KBLOCK = 4096, KLEAFROWS = 16, KROWBLOCK = 256, KTILE = 1024,
  KSCRATCH = 4096, KFILL = 1024, KLEVELS = 6
};

typedef struct {
  int op, inner, nin, out_dt, nkept, out_contiguous;
  int64_t value_size, nbatch, m, n, out_size;
  xpr_rt_kernel_fn fn;        /* the map kernel (C loops), or NULL with block_fn */
  xpr_rt_kernel_fn block_fn;  /* the block kernel, when its layouts match */
  void **ptrs;                /* nin map inputs, then the value slot */
  const int64_t *strides;     /* per operand, over the permuted iteration space */
  int64_t shape[MAX_RANK];    /* the permuted iteration space */
  const int64_t *params, *bparams;
  char *out;
  int64_t kshape[MAX_RANK], kstrides[MAX_RANK]; /* the output's kept dims */
  /* per run */
  int64_t b0, o0, nb, ubase;
  void *partials;
  atomic_int nomem;
} rjob_t;

typedef int (*reduce_fn)(rjob_t *j, int64_t b0, int64_t b1);

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static char *out_at(const rjob_t *j, int64_t o) {
  if (j->out_contiguous) return j->out + o * j->out_size;
  int64_t off = 0;
  for (int d = j->nkept; d-- > 0;) {
    off += (o % j->kshape[d]) * j->kstrides[d];
    o /= j->kshape[d];
  }
  return j->out + off * j->out_size;
}

/* `base` moved back by `first` elements of `size` bytes: the kernels index with absolute
 * iteration (or unit) numbers. */
static void *shifted(void *base, int64_t first, int64_t size) {
  return (void *)((uintptr_t)base - (uintptr_t)(first * size));
}

/* Stores v converted to dt as runtime/Reduce.cpp's put<S> does: a C cast from v's own type. */
#define PUT(p, dt, v)                                                                            \
  do {                                                                                           \
    switch (dt) {                                                                                \
    case XPR_RT_BOOL: { uint8_t x_ = (uint8_t)((v) != 0); memcpy((p), &x_, 1); break; }        \
    case XPR_RT_I8: { int8_t x_ = (int8_t)(v); memcpy((p), &x_, 1); break; }                   \
    case XPR_RT_I16: { int16_t x_ = (int16_t)(v); memcpy((p), &x_, 2); break; }                \
    case XPR_RT_I32: { int32_t x_ = (int32_t)(v); memcpy((p), &x_, 4); break; }                \
    case XPR_RT_I64: { int64_t x_ = (int64_t)(v); memcpy((p), &x_, 8); break; }                \
    case XPR_RT_U8: { uint8_t x_ = (uint8_t)(v); memcpy((p), &x_, 1); break; }                 \
    case XPR_RT_U16: { uint16_t x_ = (uint16_t)(v); memcpy((p), &x_, 2); break; }              \
    case XPR_RT_U32: { uint32_t x_ = (uint32_t)(v); memcpy((p), &x_, 4); break; }              \
    case XPR_RT_U64: { uint64_t x_ = (uint64_t)(v); memcpy((p), &x_, 8); break; }              \
    case XPR_RT_F16: { uint16_t x_ = double_to_half((double)(v), 0); memcpy((p), &x_, 2); break; } \
    case XPR_RT_BF16: { uint16_t x_ = double_to_half((double)(v), 1); memcpy((p), &x_, 2); break; } \
    case XPR_RT_F32: { float x_ = (float)(v); memcpy((p), &x_, 4); break; }                    \
    case XPR_RT_F64: { double x_ = (double)(v); memcpy((p), &x_, 8); break; }                  \
    }                                                                                            \
  } while (0)

/* Per task: the map's value block (KSCRATCH values, 64-byte aligned), the pointer array of the
 * map call, and the outer schedule's accumulators. */
typedef struct {
  void *raw;
  char *block, *acc;
  void **pp;
} scratch_t;

static int scratch_init(scratch_t *sc, rjob_t *j, size_t acc_bytes) {
  const size_t pp_bytes = (size_t)(j->nin + 1) * sizeof(void *);
  sc->raw = malloc(KSCRATCH * 8 + 64 + pp_bytes + acc_bytes + 16);
  if (!sc->raw) {
    atomic_store(&j->nomem, 1);
    return 0;
  }
  uintptr_t p = ((uintptr_t)sc->raw + 63) & ~(uintptr_t)63;
  sc->block = (char *)p;
  sc->pp = (void **)(sc->block + KSCRATCH * 8);
  sc->acc = (char *)((((uintptr_t)(sc->pp + j->nin + 1)) + 15) & ~(uintptr_t)15);
  return 1;
}
static void scratch_free(scratch_t *sc) { free(sc->raw); }

/* Evaluates the map over linear iterations [b, e) into sc->block (block[0] is iteration b). */
static void fill(const rjob_t *j, scratch_t *sc, int64_t b, int64_t e) {
  memcpy(sc->pp, j->ptrs, (size_t)j->nin * sizeof(void *));
  sc->pp[j->nin] = shifted(sc->block, b, j->value_size);
  j->fn(sc->pp, j->strides, j->params, j->shape, b, e);
}

static void for_units(rjob_t *j, int64_t units, int64_t weight, task_fn task) {
  parallel_units(task, j, units, weight);
}

/* Macros, not enums: xpr_rt_reduce.inc tests them with #if. */
#define R_SUM 1
#define R_PROD 2
#define R_MIN 3
#define R_MAX 4
#define R_ARGMIN 5
#define R_ARGMAX 6
#define R_ANY 7
#define R_ALL 8
#define R_TYPES_BOOL 1
#define R_TYPES_ACC 2
#define R_TYPES_ALL 3

#define KNAME sum
#define R_KIND R_SUM
#define R_TYPES R_TYPES_ACC
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME prod
#define R_KIND R_PROD
#define R_TYPES R_TYPES_ACC
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME min
#define R_KIND R_MIN
#define R_TYPES R_TYPES_ALL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME max
#define R_KIND R_MAX
#define R_TYPES R_TYPES_ALL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME argmin
#define R_KIND R_ARGMIN
#define R_TYPES R_TYPES_ALL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME argmax
#define R_KIND R_ARGMAX
#define R_TYPES R_TYPES_ALL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME any
#define R_KIND R_ANY
#define R_TYPES R_TYPES_BOOL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES
#define KNAME all
#define R_KIND R_ALL
#define R_TYPES R_TYPES_BOOL
#include "xpr_rt_reduce_types.inc"
#undef KNAME
#undef R_KIND
#undef R_TYPES

static const char *op_name(int op) {
  static const char *names[] = {"sum", "prod", "min", "max", "mean", "any", "all", "argmin", "argmax"};
  return op >= 0 && op <= XPR_RT_OP_ARGMAX ? names[op] : "?";
}

static reduce_fn reducer_of(int op, int value_dt) {
  switch (op) {
  case XPR_RT_OP_SUM:
  case XPR_RT_OP_MEAN: return pick_sum(value_dt);
  case XPR_RT_OP_PROD: return pick_prod(value_dt);
  case XPR_RT_OP_MIN: return pick_min(value_dt);
  case XPR_RT_OP_MAX: return pick_max(value_dt);
  case XPR_RT_OP_ARGMIN: return pick_argmin(value_dt);
  case XPR_RT_OP_ARGMAX: return pick_argmax(value_dt);
  case XPR_RT_OP_ANY: return pick_any(value_dt);
  case XPR_RT_OP_ALL: return pick_all(value_dt);
  }
  return NULL;
}

static int needs_elements(int op) {
  return op == XPR_RT_OP_MIN || op == XPR_RT_OP_MAX || op == XPR_RT_OP_ARGMIN ||
         op == XPR_RT_OP_ARGMAX;
}

/* The permutation of a reduce step's iteration space (runtime/Reduce.cpp, make_job): batch dims,
 * then (kept, reduced) for the inner schedule or (reduced, kept) for the outer one. */
typedef struct {
  int perm[MAX_RANK], red[MAX_RANK], inner;
  int64_t S[MAX_RANK], nbatch, m, n;
} rshape_t;

static void reduce_shape(const step_t *st, const int64_t *syms, rshape_t *r) {
  const int R = st->rank;
  for (int d = 0; d < R; ++d) {
    r->S[d] = st->dims[d] >= 0 ? st->dims[d] : syms[-st->dims[d] - 1];
    r->red[d] = 0;
  }
  for (int k = 0; k < st->naxes; ++k) r->red[st->axes[k]] = 1;
  const int p = st->naxes == 0 ? R : (int)st->axes[0];
  r->inner = st->naxes == 0 || r->red[R - 1];
  int np = 0;
  r->nbatch = r->m = r->n = 1;
  for (int d = 0; d < p; ++d) {
    r->perm[np++] = d;
    r->nbatch *= r->S[d];
  }
  for (int pass = 0; pass < 2; ++pass) {
    /* inner: kept then reduced; outer: reduced then kept */
    const int want_red = r->inner ? pass == 1 : pass == 0;
    for (int d = p; d < R; ++d)
      if (r->red[d] == want_red) r->perm[np++] = d;
  }
  for (int d = p; d < R; ++d) {
    if (r->red[d]) r->n *= r->S[d];
    else r->m *= r->S[d];
  }
}

static int run_reduce(const plan_t *pl, const step_t *st, const xpr_rt_kernel_fn *kernels,
                      operand_t *ops, const int64_t *slots, const int64_t *syms) {
  const int R = st->rank, nin = st->nin;
  rshape_t rs;
  reduce_shape(st, syms, &rs);
  reduce_fn run = reducer_of(st->op, st->value_dt);
  if (!run)
    return fail(XPR_RT_EINTERNAL, "no reducer for %s over dtype %d", op_name(st->op), st->value_dt);

  rjob_t j;
  memset(&j, 0, sizeof j);
  atomic_init(&j.nomem, 0);
  j.op = st->op;
  j.inner = rs.inner;
  j.nin = nin;
  j.nbatch = rs.nbatch;
  j.m = rs.m;
  j.n = rs.n;
  j.value_size = dtype_size(st->value_dt);
  for (int d = 0; d < R; ++d) j.shape[d] = rs.S[rs.perm[d]];

  const int nops = nin + 1;
  void *ptrs[nops];
  int64_t strides[nops * (R > 0 ? R : 1)];
  int layout[nops];
  for (int q = 0; q < nin; ++q) {
    const int id = (int)st->in[q];
    int64_t st_un[MAX_RANK];
    int lay;
    int rc = map_operand(&ops[id], rs.S, R, 0, st_un, &lay, operand_name(pl, id));
    if (rc) return rc;
    for (int d = 0; d < R; ++d) strides[q * R + d] = st_un[rs.perm[d]];
    if (lay != XPR_RT_SCALAR) lay = c_order_layout(strides + q * R, j.shape, R); /* permuted */
    layout[q] = lay;
    ptrs[q] = ops[id].p;
  }
  { /* the value slot: C-contiguous over the permuted space */
    int64_t e = 1;
    for (int d = R; d-- > 0;) {
      strides[nin * R + d] = e;
      e *= j.shape[d];
    }
    layout[nin] = XPR_RT_CONTIGUOUS;
    ptrs[nin] = NULL;
  }
  j.ptrs = ptrs;
  j.strides = strides;

  /* The block kernel when the JIT would use one (inner schedule, no strided operand) and its
   * compiled layouts are these; the map kernel and the C loops otherwise: the same bits. */
  int64_t bparams[st->nbslots > 0 ? st->nbslots : 1];
  int64_t mparams[st->nslots > 0 ? st->nslots : 1];
  int block = st->has_block && j.inner && j.n > 0 && j.m > 0 && j.nbatch > 0;
  for (int q = 0; q < nin && block; ++q) block = layout[q] == st->blayouts[q];
  if (block) {
    j.block_fn = kernels[st->bkernel];
    for (int q = 0; q < st->nbslots; ++q)
      bparams[q] = st->bslots[2 * q] >= 0 ? slots[st->bslots[2 * q]] : st->bslots[2 * q + 1];
    j.bparams = bparams;
  } else {
    j.fn = kernels[pick_variant(st, layout, nops)[0]];
    for (int q = 0; q < st->nslots; ++q)
      mparams[q] = st->slots[2 * q] >= 0 ? slots[st->slots[2 * q]] : st->slots[2 * q + 1];
    j.params = mparams;
  }

  /* The output: its kept dims, in order, are the batch dims then the other kept dims. */
  const operand_t *out = &ops[st->out[0]];
  j.out = out->p;
  j.out_dt = out->dtype;
  j.out_size = dtype_size(out->dtype);
  int64_t expect = 1;
  j.out_contiguous = 1;
  for (int d = out->rank; d-- > 0;) {
    if (out->shape[d] == 1) continue;
    if (out->strides[d] != expect) j.out_contiguous = 0;
    expect *= out->shape[d];
  }
  for (int d = 0, od = 0; d < R; ++d) {
    if (!rs.red[d]) {
      j.kshape[j.nkept] = rs.S[d];
      j.kstrides[j.nkept++] = out->strides[od];
    }
    if (!rs.red[d] || st->keepdims) ++od;
  }
  return run(&j, 0, j.nbatch);
}

static int run_kernel_step(const plan_t *pl, const step_t *st, const xpr_rt_kernel_fn *kernels,
                           operand_t *ops, const int64_t *slots, const int64_t *iter, int64_t b,
                           int64_t e, int ranged) {
  const int n = st->nin + st->nout;
  void *ptrs[n];
  int64_t strides[n * (st->rank > 0 ? st->rank : 1)];
  int layout[n];
  for (int q = 0; q < n; ++q) {
    const int out = q >= st->nin;
    const int id = out ? (int)st->out[q - st->nin] : (int)st->in[q];
    int rc = map_operand(&ops[id], iter, st->rank, out, strides + q * st->rank, &layout[q],
                         operand_name(pl, id));
    if (rc) return rc;
    ptrs[q] = ops[id].p;
  }
  const int64_t *chosen = pick_variant(st, layout, n);
  int64_t kslots[st->nslots > 0 ? st->nslots : 1];
  for (int q = 0; q < st->nslots; ++q)
    kslots[q] = st->slots[2 * q] >= 0 ? slots[st->slots[2 * q]] : st->slots[2 * q + 1];
  launch_t l = {kernels[chosen[0]], ptrs, strides, iter, kslots, b};
  if (ranged)
    launch_task(&l, 0, e - b);
  else
    parallel_for(&l, e - b);
  return XPR_RT_OK;
}

/* Everything a call checks before it writes anything: sizes bound onto every operand (ops;
 * intermediates get their shape and C strides, not memory), params into their slots, aliasing,
 * empty min/max extents and, for ranged calls, the range. Shared by the CPU and cuda runners. */
static int check_call(const plan_t *pl, const uint64_t *args, int64_t lo, int64_t hi, int ranged,
                      operand_t *ops, int64_t *slots, int *writer, int *last_read) {
  const int64_t *syms = (const int64_t *)args;
  int rc = check_syms(pl, syms);
  if (rc) return rc;
  const uint64_t *a = args + pl->nsyms;
  const int nio = pl->ni + pl->no, nops = nio + pl->nt;
  for (int k = 0; k < nops; ++k) {
    const int is_in = k < pl->ni, is_tmp = k >= nio;
    const arr_t *ar = is_in ? &pl->in[k] : is_tmp ? &pl->tmp[k - nio] : &pl->out[k - pl->ni];
    operand_t *o = &ops[k];
    o->dtype = ar->dtype;
    o->rank = ar->rank;
    rc = bind(pl, syms, ar->dims, ar->rank, o->shape, &o->count,
              is_in ? "input" : is_tmp ? "intermediate" : "output", ar->name);
    if (rc) return rc;
    if (is_tmp) { /* allocated below, once every check has passed */
      int64_t e = 1;
      for (int d = o->rank; d-- > 0;) {
        o->strides[d] = e;
        e *= o->shape[d];
      }
      continue;
    }
    const uint64_t *pa = is_in ? a + 2 * k : a + 2 * pl->ni + pl->np + 2 * (k - pl->ni);
    o->p = (char *)(uintptr_t)pa[0];
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
  int dependent = 0, reduces = 0;
  for (int s = 0; s < pl->ns; ++s) {
    const step_t *st = &pl->steps[s];
    reduces |= st->kind == XPR_RT_STEP_REDUCE;
    for (int k = 0; k < st->nin; ++k) {
      last_read[st->in[k]] = s;
      dependent |= st->in[k] >= pl->ni;
    }
    for (int k = 0; k < st->nout; ++k) writer[st->out[k]] = s;
  }
  for (int x = pl->ni; x < nio; ++x)
    for (int y = x + 1; y < nio; ++y)
      if (overlaps(&ops[x], &ops[y]))
        return fail(XPR_RT_EOVERLAP, "outputs '%.*s' and '%.*s' overlap in memory",
                    pl->out[x - pl->ni].name.len, pl->out[x - pl->ni].name.p,
                    pl->out[y - pl->ni].name.len, pl->out[y - pl->ni].name.p);
  for (int i = 0; i < pl->ni; ++i)
    for (int o = pl->ni; o < nio; ++o) {
      if (!overlaps(&ops[i], &ops[o])) continue;
      /* Harmless when the writing step is the last to read the input (in ranged mode: the only
       * one, since steps then run side by side), is an elementwise kernel, and reads each element
       * where it writes it (a parallel reduction may write while others still read). */
      const int k = writer[o];
      int safe = k >= 0 && same_layout(&ops[i], &ops[o]) && last_read[i] <= k &&
                 pl->steps[k].kind == XPR_RT_STEP_KERNEL;
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

  /* min/max/argmin/argmax of nothing: an error before anything is written (the JIT's message). */
  for (int s = 0; s < pl->ns; ++s) {
    const step_t *st = &pl->steps[s];
    if (st->kind != XPR_RT_STEP_REDUCE || !needs_elements(st->op)) continue;
    rshape_t rs;
    reduce_shape(st, syms, &rs);
    if (rs.n == 0)
      return fail(XPR_RT_ESHAPE, "%s of an empty array has no identity", op_name(st->op));
  }

  if (ranged) {
    if (reduces)
      return fail(XPR_RT_EUNSUPPORTED, "this program has reductions: call the whole-array entry "
                                       "instead of _range");
    if (dependent)
      return fail(XPR_RT_EUNSUPPORTED, "this program's steps read each other's outputs: call the "
                                       "whole-array entry instead of _range");
    int64_t work = 0, iter[MAX_RANK];
    for (int s = 0; s < pl->ns; ++s) work += step_total(pl, &pl->steps[s], syms, iter);
    if (lo < 0 || hi < lo || hi > work)
      return fail(XPR_RT_ERANGE, "range [%lld, %lld) is not within [0, %lld)", (long long)lo,
                  (long long)hi, (long long)work);
  }
  return XPR_RT_OK;
}

static int run_plan(const plan_t *pl, const xpr_rt_kernel_fn *kernels, const uint64_t *args,
                    int64_t lo, int64_t hi, int ranged, operand_t *ops, int64_t *slots,
                    int *writer, int *last_read) {
  int rc = check_call(pl, args, lo, hi, ranged, ops, slots, writer, last_read);
  if (rc) return rc;
  const int64_t *syms = (const int64_t *)args;
  const int nio = pl->ni + pl->no, nops = nio + pl->nt;
  for (int k = nio; k < nops; ++k) {
    const size_t bytes = (size_t)ops[k].count * (size_t)dtype_size(ops[k].dtype);
    ops[k].p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!ops[k].p)
      return fail(XPR_RT_ENOMEM, "out of memory for intermediate '%.*s' (%lld bytes)",
                  operand_name(pl, k).len, operand_name(pl, k).p, (long long)bytes);
  }

  int64_t offset = 0; /* of the step's first work item, for ranged calls */
  for (int s = 0; s < pl->ns; ++s) {
    const step_t *st = &pl->steps[s];
    if (st->kind == XPR_RT_STEP_REDUCE) {
      /* Row groups run step by step: tiling them only changes which thread computes a block. */
      rc = run_reduce(pl, st, kernels, ops, slots, syms);
      if (rc) return rc;
      continue;
    }
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
    rc = run_kernel_step(pl, st, kernels, ops, slots, iter, b, e, ranged);
    if (rc) return rc;
  }
  return XPR_RT_OK;
}

int xpr_rt_run(const int64_t *plan, const xpr_rt_kernel_fn *kernels, const uint64_t *args,
               int64_t lo, int64_t hi, int ranged) {
  plan_t pl;
  int rc = decode(plan, &pl);
  if (rc == XPR_RT_OK) {
    const int nops = pl.ni + pl.no + pl.nt;
    operand_t *ops = calloc((size_t)nops + 1, sizeof *ops);
    int64_t *slots = calloc((size_t)pl.np + 1, sizeof *slots);
    int *marks = calloc(2 * (size_t)nops + 2, sizeof *marks);
    if (!ops || !slots || !marks)
      rc = fail(XPR_RT_ENOMEM, "out of memory");
    else
      rc = run_plan(&pl, kernels, args, lo, hi, ranged, ops, slots, marks, marks + nops + 1);
    if (ops)
      for (int k = pl.ni + pl.no; k < nops; ++k) free(ops[k].p);
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

#include "xpr_rt_cuda.inc" /* the cuda target: xpr_rt_cuda_run */
