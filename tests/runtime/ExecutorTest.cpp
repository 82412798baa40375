// tests/runtime/ExecutorTest.cpp — chunking covers [0, total) exactly once, for any size and grain.
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace xpr::rt {
namespace {

const std::int64_t kSizes[] = {0, 1, 2, 15, 16, 17, 1000, 32767, 32768, 32769, 65536, 100003,
                               1 << 20, (1 << 20) + 7};

TEST(SplitRange, CoversEveryIndexOnceInOrder) {
  for (int threads : {1, 2, 3, 7, 64})
    for (std::int64_t vw : {1, 8, 16})
      for (std::int64_t min_chunk : {1, 100, 8192})
        for (std::int64_t total : kSizes) {
          ChunkPolicy p;
          p.vector_width = vw;
          p.min_chunk = min_chunk;
          p.serial_below = 1000;
          auto chunks = split_range(total, threads, p);
          std::int64_t next = 0;
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            EXPECT_EQ(chunks[i].begin, next);
            EXPECT_LT(chunks[i].begin, chunks[i].end);
            // Every chunk but the last is a whole number of vectors.
            if (i + 1 < chunks.size()) EXPECT_EQ((chunks[i].end - chunks[i].begin) % vw, 0);
            next = chunks[i].end;
          }
          EXPECT_EQ(next, total) << "threads " << threads << " total " << total;
          if (total == 0) EXPECT_TRUE(chunks.empty());
        }
}

TEST(SplitRange, SmallArraysRunAsOneChunk) {
  ChunkPolicy p; // defaults
  EXPECT_EQ(split_range(p.serial_below - 1, 16, p).size(), 1u);
  EXPECT_GT(split_range(p.serial_below * 64, 16, p).size(), 1u);
  EXPECT_EQ(split_range(1 << 24, 1, p).size(), 1u); // one thread: no splitting at all
}

TEST(SplitRange, DependsOnlyOnItsArguments) {
  auto a = split_range(1'000'003, 7);
  auto b = split_range(1'000'003, 7);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].begin, b[i].begin);
    EXPECT_EQ(a[i].end, b[i].end);
  }
}

TEST(Executor, ParallelForTouchesEachIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 7}) {
    ChunkPolicy p;
    p.serial_below = 64;
    p.min_chunk = 16;
    Executor ex(threads, p);
    EXPECT_EQ(ex.threads(), threads);
    for (std::int64_t total : kSizes) {
      auto hits = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(total) + 1);
      ex.parallel_for(total, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      std::int64_t bad = 0;
      for (std::int64_t i = 0; i < total; ++i) bad += hits[static_cast<std::size_t>(i)] != 1;
      EXPECT_EQ(bad, 0) << "threads " << threads << " total " << total;
    }
  }
}

TEST(Executor, RethrowsExceptionsFromChunks) {
  ChunkPolicy p;
  p.serial_below = 1;
  p.min_chunk = 1;
  Executor ex(3, p);
  EXPECT_THROW(ex.parallel_for(1000,
                               [](std::int64_t b, std::int64_t) {
                                 if (b > 0) throw std::runtime_error("boom");
                               }),
               std::runtime_error);
}

TEST(Executor, ZeroMeansAllCores) {
  Executor ex(0);
  EXPECT_EQ(ex.threads(), hardware_threads());
  EXPECT_GE(ex.threads(), 1);
}

} // namespace
} // namespace xpr::rt
