// tools/xpr/Random.h — the REPL's random numbers: the same seed gives bit-identical arrays on
// every platform and compiler.
//
// Why not std::uniform_real_distribution / std::normal_distribution: their algorithms are not
// specified by the C++ standard, so results differ between standard libraries. The engine,
// std::mt19937_64, is fully specified; the transforms below use only IEEE-754 basic operations
// (+ - * / sqrt, correctly rounded everywhere) and are compiled without FMA contraction.
#pragma once

#include <cstdint>
#include <random>

namespace xpr::rnd {

class Generator {
public:
  explicit Generator(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed);

  /// Uniform on [0, 1) with `bits` random bits (53 for f64, 24 for f32, 11 for f16, 8 for bf16):
  /// the top `bits` bits of one 64-bit draw times 2^-bits, so the result is exact in the target
  /// dtype and never rounds up to 1.
  double uniform(int bits);
  /// Standard normal: Marsaglia's polar method over 53-bit uniforms on (-1, 1), with the
  /// deterministic log below. Values come in pairs; the second is kept for the next call.
  double normal();

private:
  std::mt19937_64 engine_;
  bool have_spare_ = false;
  double spare_ = 0;
};

/// Natural log of a positive finite double from IEEE basic operations only (argument reduction
/// by frexp, then the atanh series), accurate to about 1 ulp and the same on every platform.
double det_log(double x);

} // namespace xpr::rnd
