// runtime/Executor.h — the CPU executor: splits an index range into chunks and runs them on oneTBB.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace xpr::rt {

/// How [0, total) is cut. Chunk boundaries depend only on (total, threads, policy), never on
/// scheduling, so a run is deterministic whatever thread computes which chunk.
struct ChunkPolicy {
  /// Chunk sizes are multiples of this (the widest vector of elements a kernel processes per
  /// iteration), so only the last chunk has a scalar tail.
  std::int64_t vector_width = 16;
  /// Below this many elements the work runs on the calling thread with no synchronization:
  /// waking workers costs more than the loop. Measured on the 2-core dev machine with a
  /// memory-bound f32 `a*b+c` loop: at 32K elements one thread took 4.4 us and two 6.8 us; two
  /// threads won only from ~128K. Kernels with transcendentals cost ~10x more per element and
  /// win earlier, so 32K is a compromise until the threshold takes the kernel's cost into account.
  std::int64_t serial_below = 32768;
  /// The smallest chunk handed to a worker.
  std::int64_t min_chunk = 8192;
  /// Chunks per thread, for load balance when threads are uneven.
  int chunks_per_thread = 4;
};

struct Chunk {
  std::int64_t begin, end;
};

/// The chunks covering [0, total) exactly once, in order. Empty for total <= 0.
std::vector<Chunk> split_range(std::int64_t total, int threads, const ChunkPolicy &p = {});

class Executor {
public:
  /// `threads` <= 0 means every core the process may use.
  explicit Executor(int threads = 0, ChunkPolicy policy = {});
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  int threads() const { return threads_; }
  const ChunkPolicy &policy() const { return policy_; }

  /// Calls fn(begin, end) once per chunk of split_range(total, threads()), in parallel when
  /// there is more than one chunk. The first exception thrown by fn is rethrown here.
  void parallel_for(std::int64_t total, const std::function<void(std::int64_t, std::int64_t)> &fn);

private:
  struct Arena;
  int threads_;
  ChunkPolicy policy_;
  std::unique_ptr<Arena> arena_;
};

/// The number of cores the process may use.
int hardware_threads();

} // namespace xpr::rt
