// fuzz/fuzz_cache.cpp — the on-disk kernel cache's entry reader (runtime/DiskCache.h) on arbitrary
// bytes: what a corrupt, truncated, foreign or hostile file in ~/.cache/xpr looks like.
//
// Properties: decode() never crashes and never reads outside the bytes; it answers Hit or
// Rejected, a rejection says why; a Hit's payload is exactly the bytes after the key, and the
// entry is exactly encode(key, hash, payload) (so no two byte strings verify as the same entry).
// The key checked against is the one the entry claims (so the fuzzer can reach the payload
// checks) or, when the first byte is odd, a fixed key that never matches.
#include "FuzzCommon.h"

#include "runtime/DiskCache.h"
#include "runtime/Hash.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace xpr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char *>(data), size);
  std::string key = "xpr kernel cache key (fuzz)\n";
  if (size >= rt::disk::kHeaderSize && (data[0] & 1) == 0) {
    std::uint32_t klen = 0;
    std::memcpy(&klen, data + 12, sizeof klen);
    if (klen <= size - rt::disk::kHeaderSize)
      key.assign(bytes.substr(rt::disk::kHeaderSize, klen));
  }
  const std::uint64_t key_hash = rt::hash_text(key);
  rt::disk::ReadResult r = rt::disk::decode(bytes, key, key_hash);
  switch (r.status) {
  case rt::disk::ReadStatus::Hit: {
    const std::size_t at = rt::disk::kHeaderSize + key.size();
    if (at > size || bytes.substr(at) != r.payload)
      fuzz::finding("a hit's payload is not the bytes after the key");
    if (rt::disk::encode(key, key_hash, r.payload) != bytes)
      fuzz::finding("a verified entry differs from the canonical encoding of its contents");
    break;
  }
  case rt::disk::ReadStatus::Rejected:
    if (r.why.empty()) fuzz::finding("a rejection without a reason");
    if (!r.payload.empty()) fuzz::finding("a rejection that hands out a payload");
    break;
  case rt::disk::ReadStatus::Missing: fuzz::finding("decode of present bytes said Missing");
  }
  return 0;
}
