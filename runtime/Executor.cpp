// runtime/Executor.cpp — chunking and parallel execution in a oneTBB task_arena of N threads.
#include "runtime/Executor.h"

#include <xpr/error.hpp>

#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>

// libtbb is not built with ThreadSanitizer, so TSan cannot see how TBB hands a functor from the
// thread that calls task_arena::execute to the thread that runs it (when several application
// threads share one arena, a caller that finds its slots taken delegates its functor), nor how
// a chunk's results come back to the caller when parallel_for returns. These annotations state
// exactly those two hand-offs; without TSan they are nothing.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XPR_TSAN 1
#endif
#endif
#if defined(XPR_TSAN)
#include <sanitizer/tsan_interface.h>
#define XPR_HANDOFF_RELEASE(p) __tsan_release(p)
#define XPR_HANDOFF_ACQUIRE(p) __tsan_acquire(p)
#else
#define XPR_HANDOFF_RELEASE(p) ((void)(p))
#define XPR_HANDOFF_ACQUIRE(p) ((void)(p))
#endif

namespace xpr::rt {

int hardware_threads() { return std::max(1, tbb::info::default_concurrency()); }

std::vector<Chunk> split_range(std::int64_t total, int threads, const ChunkPolicy &p) {
  std::vector<Chunk> out;
  if (total <= 0) return out;
  const std::int64_t vw = std::max<std::int64_t>(1, p.vector_width);
  if (threads <= 1 || total < p.serial_below) {
    out.push_back({0, total});
    return out;
  }
  const std::int64_t want = static_cast<std::int64_t>(threads) * std::max(1, p.chunks_per_thread);
  std::int64_t chunk = (total + want - 1) / want;
  chunk = std::max(chunk, std::max<std::int64_t>(p.min_chunk, 1));
  chunk = (chunk + vw - 1) / vw * vw;
  for (std::int64_t b = 0; b < total; b += chunk) out.push_back({b, std::min(total, b + chunk)});
  return out;
}

struct Executor::Arena {
  explicit Arena(int n) : arena(n) {}
  tbb::task_arena arena;
};

Executor::Executor(int threads, ChunkPolicy policy)
    : threads_(threads > 0 ? threads : hardware_threads()), policy_(policy) {
  if (threads_ > 1) arena_ = std::make_unique<Arena>(threads_);
}

Executor::~Executor() = default;

void Executor::parallel_for(std::int64_t total,
                            const std::function<void(std::int64_t, std::int64_t)> &fn) {
  std::vector<Chunk> chunks = split_range(total, threads_, policy_);
  if (chunks.empty()) return;
  if (chunks.size() == 1 || !arena_) {
    // The common small case: no tasks, no synchronization.
    for (const Chunk &c : chunks) fn(c.begin, c.end);
    return;
  }
  // One task per chunk (simple_partitioner, grain 1): boundaries stay exactly those of
  // split_range. TBB propagates the first exception out of parallel_for.
  XPR_HANDOFF_RELEASE(&chunks);
  arena_->arena.execute([&] {
    XPR_HANDOFF_ACQUIRE(&chunks);
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, chunks.size(), 1),
        [&](const tbb::blocked_range<std::size_t> &r) {
          XPR_HANDOFF_ACQUIRE(&chunks);
          for (std::size_t i = r.begin(); i != r.end(); ++i) fn(chunks[i].begin, chunks[i].end);
          XPR_HANDOFF_RELEASE(&chunks);
        },
        tbb::simple_partitioner());
    XPR_HANDOFF_RELEASE(&chunks);
  });
  XPR_HANDOFF_ACQUIRE(&chunks);
}

} // namespace xpr::rt
