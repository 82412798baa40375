/* runtime/rt/xpr_rt.h — the public C API of libxpr_rt, the run-time library of xprc objects. */
/* xprc copies the declarations between the XPR_RT_H guards into every header it generates, so a
 * user needs only the generated header; this file is the single source of that text. */
#ifndef XPR_RT_H
#define XPR_RT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes returned by xprc-generated functions (0 is success). */
enum {
  XPR_RT_OK = 0,          /**< success */
  XPR_RT_ESHAPE = 1,      /**< a symbolic size is negative, or an element count overflows */
  XPR_RT_ENULL = 2,       /**< a null data pointer for an array that has elements */
  XPR_RT_EOVERLAP = 3,    /**< outputs overlap each other or an input (other than in place) */
  XPR_RT_ERANGE = 4,      /**< a _range call with lo/hi outside [0, work] or lo > hi */
  XPR_RT_EUNSUPPORTED = 5,/**< a _range call on a program whose steps read each other's outputs */
  XPR_RT_EVERSION = 6,    /**< the object needs another version of libxpr_rt */
  XPR_RT_ENOMEM = 7,      /**< out of memory */
  XPR_RT_EINTERNAL = 8,   /**< a bug in xpr */
  XPR_RT_EDEVICE = 9      /**< cuda objects: no CUDA driver or GPU, or a CUDA call failed */
};

/** A message about the last failing call on this thread: names the array, symbol or value. */
const char *xpr_rt_last_error(void);
/** A fixed description of an error code ("shape", "null pointer", ...). */
const char *xpr_rt_error_string(int code);
/** Worker threads used by later calls (1 = the calling thread only; <= 0 = every core the
 * process may use, the default, which XPR_RT_THREADS=N in the environment overrides). */
void xpr_rt_set_threads(int threads);
/** The worker thread count in use. */
int xpr_rt_threads(void);
/** A caller's own thread pool: must run task(arg, i) once for every i in [0, n), on any threads,
 * and return when all have returned. */
typedef void (*xpr_rt_parallel_fn)(void *ctx, int64_t n, void (*task)(void *arg, int64_t i),
                                   void *arg);
/** Runs every later call's parallel work (elementwise chunks and reduction units alike) through
 * `fn` instead of libxpr_rt's threads, cut for `threads` workers; results are the same bits as
 * on libxpr_rt's own pool. fn = NULL restores the own pool (and its thread count). For callers
 * that bring their own threads to programs _range cannot serve (reductions, dependent loops). */
void xpr_rt_set_parallel(xpr_rt_parallel_fn fn, void *ctx, int threads);
/** The x86-64 micro-architecture level of this CPU as multi-versioned objects see it: 1 (baseline
 * x86-64), 2, 3 or 4 (x86-64-v2/v3/v4: the psABI feature sets, with the OS saving the AVX/AVX-512
 * state); 0 on other architectures. XPR_RT_CPU_LEVEL=v1..v4 in the environment caps it. Read once
 * and cached. */
int xpr_rt_cpu_level(void);
/** cuda objects (xprc --target cuda:sm_XX) run on this CUDA device ordinal; default 0, or
 * XPR_RT_CUDA_DEVICE=N in the environment. Takes effect before the first cuda call only. */
void xpr_rt_cuda_set_device(int ordinal);
/** The x86-64 level (2, 3 or 4) of the kernels that the last call of a multi-versioned object
 * on this thread ran; 0 before any such call. For diagnostics and tests. */
int xpr_rt_picked_level(void);

#ifdef __cplusplus
}
#endif

#endif /* XPR_RT_H */
