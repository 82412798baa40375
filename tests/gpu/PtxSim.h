// tests/gpu/PtxSim.h — a PTX interpreter for the fake driver (tests/gpu/FakeCuda.cpp), so that the
// GPU test suite can run the PTX our backend emits on a machine without a GPU.
//
// Why: the fake driver alone checks everything the runtime does around a kernel (arguments,
// passes, transfers), but a C emulation of each kernel stands in for the kernel itself. The
// simulator runs the kernel's own PTX instead: thread and block indices, warp shuffles, shared
// memory and barriers with the semantics of the PTX ISA, one block after another, so reduction
// trees, chunking and the map fused into them are checked instruction by instruction.
//
// Scope: the instructions our NVPTX lowering emits, libdevice's included — integer and float
// arithmetic with every rounding modifier (directed roundings through the C rounding mode),
// carry chains, comparisons, selects, bit fields, conversions (f16/bf16 with one rounding, .sat),
// loads and stores of the param, global, shared (static and dynamic) and local spaces, module
// .global tables, calls (inlined per call site), shfl.sync and bar.sync. The .approx
// instructions are computed with the C library, not the hardware's bits. 16-bit float arithmetic
// (f16/f16x2 add, mul, ...) and anything else fail the launch with a message naming the
// instruction: a test then fails loudly, never passes by accident. Where running threads one
// after another would hide a bug a GPU shows, the launch fails instead: shared memory races
// within a barrier interval, two threads of a launch storing to one global byte or one loading
// what another stores (no bar.sync of their block between them), shuffles reading exited
// lanes or outside their membermask, threads at different bar.sync instructions, misaligned
// accesses, and (set_global_check) global accesses outside device allocations; registers,
// shared and local memory start as all ones, not zeros (docs/gpu.md, "Stricter than a GPU"). Timing
// and memory coalescing are outside it; the sectors of each warp's load requests and the warps'
// shuffles are counted on request (LaunchStats), which shows whether a schedule coalesces and how
// many steps its trees take.
#pragma once

#include <cstdint>
#include <string>

namespace xpr::ptxsim {

/// Runs entry `name` of the PTX module `text` on a grid of `grid` blocks of `block` threads,
/// with `args` the launch's parameter pointers (each parameter 8 bytes or less, as
/// cuLaunchKernel receives them). Global addresses are host addresses (the fake driver's device
/// memory is host memory). Returns an empty string on success, else why the launch failed.
std::string launch(const std::string &text, const std::string &name, unsigned grid, unsigned block,
                   void **args);

/// What a launch did, counted as a GPU would. Memory coalescing: the k-th global load of each
/// lane of a warp make one request, which touches the distinct 32-byte sectors their bytes lie
/// in (32 lanes reading adjacent f32 values: 4 sectors; reading values rows apart: 32). And
/// the shfl.sync instructions the warps executed (one per warp, whatever its active lanes).
struct LaunchStats {
  std::uint64_t requests = 0, sectors = 0;
  std::uint64_t shuffles = 0;
};
/// launch(), counting into `stats` when it is not null, with `dynamic_shared`
/// bytes of dynamic shared memory per block (cuLaunchKernel's sharedMemBytes): the module's
/// `.extern .shared` arrays, all at its start, after the entry's static shared memory.
std::string launch(const std::string &text, const std::string &name, unsigned grid, unsigned block,
                   void **args, LaunchStats *stats, unsigned dynamic_shared = 0);

/// Whether [at, at + bytes) is memory a kernel may touch (the fake driver: inside one device
/// allocation).
using GlobalCheck = bool (*)(std::uint64_t at, std::uint64_t bytes);
/// From now on every global access of a launch, besides the thread's local memory and the
/// module's .global arrays, must pass `check`, or the launch fails naming the access: a GPU
/// faults there (CUDA_ERROR_ILLEGAL_ADDRESS), or reads a neighbour's data, where host memory
/// would only be read. nullptr (the default) checks nothing. Not thread-safe: set it before
/// launching.
void set_global_check(GlobalCheck check);

} // namespace xpr::ptxsim
