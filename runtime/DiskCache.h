// runtime/DiskCache.h — the on-disk cache of kernel object code: verified reads, atomic writes,
// size-bounded LRU eviction. Safe with several processes sharing one directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::rt::disk {

/// Entry layout (little-endian), see docs/cache.md:
///   0  magic "XPRKOBJ\n"        8 bytes
///   8  format version           u32 (kFormatVersion)
///  12  key length               u32
///  16  key hash                 u64 (hash_text(key))
///  24  payload length           u64
///  32  payload checksum         u64 (hash_bytes(payload, kPayloadSeed))
///  40  header checksum          u64 (hash of bytes 0..39 and the key text)
///  48  key text, then the payload (an ELF relocatable object)
inline constexpr char kMagic[8] = {'X', 'P', 'R', 'K', 'O', 'B', 'J', '\n'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 48;
inline constexpr std::uint64_t kPayloadSeed = 0x7870722d6f626a31ULL; // "xpr-obj1"
inline constexpr const char *kSuffix = ".xprk";

enum class ReadStatus : std::uint8_t { Hit, Missing, Rejected };

struct ReadResult {
  ReadStatus status = ReadStatus::Missing;
  std::string payload; ///< the verified payload on a hit
  std::string why;     ///< on a miss or a rejection: what was wrong, in words
};

/// The path of the entry for `key_hash` in `dir`.
std::string entry_path(const std::string &dir, std::uint64_t key_hash);

/// The bytes of a complete entry (header, key, payload).
std::string encode(std::string_view key, std::uint64_t key_hash, std::string_view payload);

/// Checks an entry's bytes against the key it must hold; on success returns Hit with the payload.
/// A wrong magic, version, length, checksum or key is Rejected with the reason.
ReadResult decode(std::string_view bytes, std::string_view key, std::uint64_t key_hash);

/// Reads and verifies the entry for `key`. A rejected entry is deleted (another process may
/// rebuild it at the same time: deleting a file already replaced is harmless, since the new one
/// is verified on its next read). A hit refreshes the entry's mtime, the LRU clock.
ReadResult read(const std::string &dir, std::string_view key, std::uint64_t key_hash);

/// Writes the entry atomically: a temporary file in `dir`, then rename(2) over the final name,
/// so a reader sees either no entry, an old complete entry or the new complete one. Creates
/// `dir` if needed. Returns false with `why` if the write failed (the cache is best effort).
bool write(const std::string &dir, std::string_view key, std::uint64_t key_hash,
           std::string_view payload, std::string *why = nullptr);

/// Deletes least-recently-used entries (by mtime) until the entries in `dir` total at most
/// `max_bytes`, and temporary files abandoned over an hour ago. Returns the number of entries
/// deleted; `remaining` (if given) receives the bytes left. Files that vanish meanwhile (another
/// process evicting) are skipped.
std::size_t evict(const std::string &dir, std::uint64_t max_bytes,
                  std::uint64_t *remaining = nullptr);

/// The total size in bytes and count of entries in `dir`.
struct Usage {
  std::uint64_t bytes = 0;
  std::size_t entries = 0;
};
Usage usage(const std::string &dir);

/// The key texts of up to `limit` valid-looking entries in `dir` (for explanations of misses).
std::vector<std::string> keys(const std::string &dir, std::size_t limit);

} // namespace xpr::rt::disk
