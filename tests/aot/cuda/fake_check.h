/* tests/aot/cuda/fake_check.h — shared by the C programs that test xprc cuda objects
 * (saxpy_main.c, reduce_main.c): a CHECK that counts failures, and tests/gpu's fake
 * libcuda.so.1 controls. */
#ifndef XPR_TESTS_AOT_CUDA_FAKE_CHECK_H
#define XPR_TESTS_AOT_CUDA_FAKE_CHECK_H

#include <dlfcn.h>
#include <stdio.h>

static int failures = 0;
#define CHECK(cond, ...)                                                                         \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      ++failures;                                                                                \
      printf("FAILED %s:%d: ", __FILE__, __LINE__);                                              \
      printf(__VA_ARGS__);                                                                       \
      printf("\n");                                                                              \
    }                                                                                            \
  } while (0)

/* A kernel as the fake driver runs it: the launch's parameter values, in the GPU ABI's order. */
typedef void (*fake_kernel_fn)(void **args, int nargs, unsigned grid, unsigned block);

/* The fake driver's counters (tests/gpu/FakeCuda.cpp). */
typedef struct {
  int (*launches)(void);
  int (*modules)(void);
  const char *(*last_module)(void);
  int (*queries)(void); /* cuFuncGetAttribute and cuOccupancyMaxPotentialBlockSize calls */
  void (*fail_alloc_after)(int); /* the cuMemAlloc after n more fails (-1: none) */
  int (*live_allocations)(void);
  void (*fail_next_launch)(void); /* the next launch fails when its stream runs it */
} fake_driver_t;

/* Registers `kernel` with the fake libcuda.so.1, the same instance libxpr_rt will dlopen, and
 * resolves its counters. Returns 0, saying why, when the fake is not on the library path. */
static int fake_driver_open(fake_kernel_fn kernel, fake_driver_t *fd) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  void (*set_kernel)(fake_kernel_fn) =
      lib ? (void (*)(fake_kernel_fn))dlsym(lib, "xpr_fake_cuda_set_kernel") : NULL;
  if (!set_kernel) {
    printf("FAILED: the fake libcuda.so.1 is not on the library path\n");
    return 0;
  }
  set_kernel(kernel);
  fd->launches = (int (*)(void))dlsym(lib, "xpr_fake_cuda_launches");
  fd->modules = (int (*)(void))dlsym(lib, "xpr_fake_cuda_modules_loaded");
  fd->last_module = (const char *(*)(void))dlsym(lib, "xpr_fake_cuda_last_module");
  fd->queries = (int (*)(void))dlsym(lib, "xpr_fake_cuda_queries");
  fd->fail_alloc_after = (void (*)(int))dlsym(lib, "xpr_fake_cuda_fail_alloc_after");
  fd->live_allocations = (int (*)(void))dlsym(lib, "xpr_fake_cuda_live_allocations");
  fd->fail_next_launch = (void (*)(void))dlsym(lib, "xpr_fake_cuda_fail_next_launch");
  return fd->launches && fd->modules && fd->last_module && fd->queries && fd->fail_alloc_after &&
         fd->live_allocations && fd->fail_next_launch;
}

#endif
