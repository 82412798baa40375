/* runtime/rt/xpr_rt_plan.h — the private contract between xprc-generated objects and libxpr_rt:
 * the encoding of the embedded plan and the entry points the generated drivers call. */
#ifndef XPR_RT_PLAN_H
#define XPR_RT_PLAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why a plan and not generated loops: the plan is data, so one tested interpreter in libxpr_rt
 * (binding sizes, strides onto iteration spaces, layout choice, param slots, threading) serves
 * every object, and the generated code is only the kernels (the JIT's own lowering) plus a
 * driver that stores its arguments in an array.
 *
 * The plan is an array of int64 words. A string is its byte length, then its bytes packed
 * little-endian into ceil(length / 8) words. A dim is >= 0 for a literal size, -(k + 1) for
 * symbol k. An operand is an index into inputs, then outputs, then temporaries (input i is i,
 * output j is ninputs + j, temporary t is ninputs + noutputs + t).
 *   XPR_RT_PLAN_MAGIC, XPR_RT_PLAN_VERSION
 *   nsyms,    nsyms x name
 *   ninputs,  per input:  dtype, rank, rank x dim, name
 *   nparams,  per param:  dtype, name
 *   noutputs, per output: dtype, rank, rank x dim, name
 *   ntemps,   per temporary: dtype, rank, rank x dim, name   (allocated C-contiguous per call)
 *   nsteps,   per step:   kind (XPR_RT_STEP_*), rank, rank x dim (the iteration space),
 *                         nin, nin x operand, nout, nout x operand,
 *                         nslots, nslots x (program param index or -1, literal bits),
 *                         nvariants, nvariants x (kernel index, (nin + nout) x layout)
 *             and, for a reduce step only:
 *                         op (XPR_RT_OP_*), value dtype (what the map writes), keepdims,
 *                         naxes, naxes x axis,
 *                         has_block (0 or 1), then when 1: kernel index, nslots, nslots x slot,
 *                         nin x layout (the block kernel of compiler/codegen/ReduceKernel.h),
 *                         has_gpu (0 or 1), then when 1 (cuda objects only):
 *                           partial dtype (what the GPU's passes store),
 *                           combine kernel index, nslots, nslots x slot,
 *                           finish kernel index (-1: the last pass writes the output itself),
 *                           nslots, nslots x slot
 * The last variant of every step has every input Strided: it serves any layout. A reduce step
 * has one "output", the reduction's result; its variants are the map kernel (its outputs are
 * one Contiguous value per iteration) over the permuted iteration space of runtime/Reduce.cpp.
 * In a cuda object they are the GPU's first pass instead (the map fused into the block
 * reduction of compiler/codegen/GpuJit.h), over the space ordered [kept dims, reduced dims];
 * the combine kernel reduces the partials of the passes after it, and the finish kernel is the
 * elementwise mean division and output cast. A finish slot whose program param index is
 * XPR_RT_SLOT_COUNT holds the number of values each result reduces, as an f64.
 *
 * The argument array (one 8-byte slot each, values stored at the start of their slot in their C
 * type): the symbol sizes, then per input its data pointer and strides pointer, per param its
 * value (f16/bf16 params as a float), per output its data pointer and strides pointer. */
#define XPR_RT_PLAN_MAGIC 0x31544e414c505258LL /* "XRPLANT1" */
/* Also raised when what a kernel expects of its launch changes: 4, a cuda object's reduce
 * kernels take the column schedule's slots from the launch's dynamic shared memory, which a
 * libxpr_rt of format 3 does not give. */
#define XPR_RT_PLAN_VERSION 4
/* A slot's source: the count of values a GPU reduction's results reduce (see above). */
#define XPR_RT_SLOT_COUNT (-2)

/* Element types, numbered as xpr::DType (include/xpr/dtype.hpp). */
enum {
  XPR_RT_BOOL, XPR_RT_I8, XPR_RT_I16, XPR_RT_I32, XPR_RT_I64, XPR_RT_U8, XPR_RT_U16, XPR_RT_U32,
  XPR_RT_U64, XPR_RT_F16, XPR_RT_BF16, XPR_RT_F32, XPR_RT_F64
};
/* Step kinds and reduction ops. */
enum { XPR_RT_STEP_KERNEL = 0, XPR_RT_STEP_REDUCE = 1 };
enum {
  XPR_RT_OP_SUM, XPR_RT_OP_PROD, XPR_RT_OP_MIN, XPR_RT_OP_MAX, XPR_RT_OP_MEAN, XPR_RT_OP_ANY,
  XPR_RT_OP_ALL, XPR_RT_OP_ARGMIN, XPR_RT_OP_ARGMAX
};
/* Operand layouts, numbered as xpr::cg::Layout (compiler/codegen/Kernel.h). */
enum { XPR_RT_CONTIGUOUS = 0, XPR_RT_SCALAR = 1, XPR_RT_STRIDED = 2 };

/* A compiled kernel: the calling convention of compiler/codegen/Kernel.h (KernelFn). */
typedef void (*xpr_rt_kernel_fn)(void *const *ptrs, const int64_t *strides, const void *params,
                                 const int64_t *shape, int64_t begin, int64_t end);

/* Runs a plan. ranged = 0: everything, on the thread pool (lo, hi ignored); ranged = 1: work
 * items [lo, hi) on the calling thread. Returns an XPR_RT_* code. */
int xpr_rt_run(const int64_t *plan, const xpr_rt_kernel_fn *kernels, const uint64_t *args,
               int64_t lo, int64_t hi, int ranged);
/* Multi-versioned objects (xprc --target x86-64-v2,x86-64-v3,...): the object's kernel tables,
 * one per level, levels ascending. Returns the table of the highest level not above
 * xpr_rt_cpu_level(); NULL (and a message) when the CPU is below the lowest. */
const xpr_rt_kernel_fn *xpr_rt_pick(const xpr_rt_kernel_fn *const *tables, const int64_t *levels,
                                    int n);
/* The number of work items of the _range entry: the sum of the steps' iteration counts; -1 (and
 * a message) when the sizes are invalid. Reads only the symbol sizes of `args`. */
int64_t xpr_rt_work(const int64_t *plan, const uint64_t *args);

/* cuda objects (xprc --target cuda:sm_XX): the module the object embeds, and libxpr_rt's state
 * for it (one per object and process: the loaded CUmodule and its functions). Every field is 8
 * bytes, so the generated LLVM IR declares it as { ptr, ptr, i64, i64, i64, ptr }. Kernel k of
 * the plan is the module's entry "xk<k>", compiled with 64-bit indexing (GpuKernelSpec) and, where
 * no operand is Strided, gpu_vector_width's vector width. */
typedef struct {
  const char *ptx;            /* NUL-terminated PTX for sm */
  const unsigned char *cubin; /* ptxas's cubin for sm; NULL when xprc found no ptxas */
  int64_t cubin_size;
  int64_t nkernels;
  int64_t sm;                 /* major * 10 + minor */
  void *state;                /* NULL until the first call; owned by libxpr_rt */
} xpr_rt_cuda_object;

/* Runs a plan on the GPU: host arrays in (each copied to the device per call), every step on
 * the device, outputs copied back. Returns an XPR_RT_* code. */
int xpr_rt_cuda_run(const int64_t *plan, xpr_rt_cuda_object *obj, const uint64_t *args);
/* The _range entry of a cuda object: XPR_RT_EUNSUPPORTED, with a message. */
int xpr_rt_cuda_range(void);

#ifdef __cplusplus
}
#endif

#endif /* XPR_RT_PLAN_H */
