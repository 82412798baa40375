// tests/gpu/PtxSim.h — a PTX interpreter for the fake driver (tests/gpu/FakeCuda.cpp), so that the
// GPU test suite can run the PTX our backend emits on a machine without a GPU.
//
// Why: the fake driver alone checks everything the runtime does around a kernel (arguments,
// passes, transfers), but a C emulation of each kernel stands in for the kernel itself. The
// simulator runs the kernel's own PTX instead: thread and block indices, warp shuffles, shared
// memory and barriers with the semantics of the PTX ISA, one block after another, so reduction
// trees, chunking and the map fused into them are checked instruction by instruction.
//
// Scope: the instructions our NVPTX lowering emits for reductions and arithmetic (integer and
// float arithmetic, comparisons, selects, conversions including f16/bf16, loads and stores of
// the global, shared and param spaces, shfl.sync, bar.sync). A kernel that uses anything else
// (libdevice's transcendental approximations, for one) fails its launch with a message naming
// the instruction: a test then fails loudly, never passes by accident. Timing, occupancy,
// memory coalescing and races between blocks are outside it.
#pragma once

#include <string>

namespace xpr::ptxsim {

/// Runs entry `name` of the PTX module `text` on a grid of `grid` blocks of `block` threads,
/// with `args` the launch's parameter pointers (each parameter 8 bytes or less, as
/// cuLaunchKernel receives them). Global addresses are host addresses (the fake driver's device
/// memory is host memory). Returns an empty string on success, else why the launch failed.
std::string launch(const std::string &text, const std::string &name, unsigned grid, unsigned block,
                   void **args);

} // namespace xpr::ptxsim
