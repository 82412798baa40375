// tests/reduce/DifferentialTest.cpp — the reduction matrix (Matrix.h) on the CPU JIT, rank by
// rank.
#include "Matrix.h"

namespace xpr::reduce_test {
namespace {

TEST(ReduceDifferential, Rank1) { run_rank(1); }
TEST(ReduceDifferential, Rank2) { run_rank(2); }
TEST(ReduceDifferential, Rank3) { run_rank(3); }
TEST(ReduceDifferential, Rank4) { run_rank(4); }

} // namespace
} // namespace xpr::reduce_test
