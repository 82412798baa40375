// runtime/Hash.h — a fast, portable 64-bit hash for cache keys and on-disk checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace xpr::rt {

/// A word-at-a-time multiply-xorshift hash (in the spirit of wyhash/murmur's finalizer). Not
/// cryptographic: it identifies cache entries, whose full key text is compared anyway, and
/// detects accidental corruption of a payload. The value is stable across processes, builds and
/// machines of either endianness-independent input (bytes are read little-endian), which the
/// on-disk format relies on.
inline std::uint64_t hash_mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline std::uint64_t hash_bytes(const void *data, std::size_t n, std::uint64_t seed = 0) {
  const auto *p = static_cast<const unsigned char *>(data);
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h = seed ^ (static_cast<std::uint64_t>(n) * k);
  auto load = [](const unsigned char *q) {
    std::uint64_t w = 0;
    for (int i = 7; i >= 0; --i) w = (w << 8) | q[i];
    return w;
  };
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) h = (h ^ hash_mix(load(p + i) * k)) * 0x2127599bf4325c37ULL;
  std::uint64_t tail = 0;
  for (std::size_t j = n; j > i; --j) tail = (tail << 8) | p[j - 1];
  h = (h ^ hash_mix(tail * k + 1)) * 0x2127599bf4325c37ULL;
  return hash_mix(h);
}

inline std::uint64_t hash_text(std::string_view s, std::uint64_t seed = 0) {
  return hash_bytes(s.data(), s.size(), seed);
}

/// Combines a hash with one more 64-bit value (order matters).
inline std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v) {
  return hash_mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

} // namespace xpr::rt
