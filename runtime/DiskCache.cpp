// runtime/DiskCache.cpp — verified entry files, atomic writes and mtime-LRU eviction (POSIX).
#include "runtime/DiskCache.h"

#include "runtime/Hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace xpr::rt::disk {

namespace {

void put_u32(std::string &s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string &s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

std::uint64_t header_checksum(std::string_view header40, std::string_view key) {
  return hash_text(key, hash_text(header40));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Whole-file read through one descriptor; false if the file cannot be opened or read.
bool read_all(const std::string &path, std::string &out, int *fd_out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got); // a file truncated under us reads short and fails verification
  *fd_out = fd;
  return true;
}

bool make_dirs(const std::string &dir) {
  if (dir.empty()) return false;
  std::string cur;
  std::size_t i = 0;
  while (i <= dir.size()) {
    std::size_t j = dir.find('/', i);
    if (j == std::string::npos) j = dir.size();
    cur = dir.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return false;
    i = j + 1;
  }
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct FileInfo {
  std::string path;
  std::uint64_t bytes;
  struct timespec mtime;
};

template <class F> void for_each_file(const std::string &dir, F &&f) {
  DIR *d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent *e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + std::string(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue; // vanished: skip
    f(name, path, st);
  }
  ::closedir(d);
}

} // namespace

std::string entry_path(const std::string &dir, std::uint64_t key_hash) {
  return fmt::format("{}/{:016x}{}", dir, key_hash, kSuffix);
}

std::string encode(std::string_view key, std::uint64_t key_hash, std::string_view payload) {
  std::string s;
  s.reserve(kHeaderSize + key.size() + payload.size());
  s.append(kMagic, sizeof kMagic);
  put_u32(s, kFormatVersion);
  put_u32(s, static_cast<std::uint32_t>(key.size()));
  put_u64(s, key_hash);
  put_u64(s, payload.size());
  put_u64(s, hash_bytes(payload.data(), payload.size(), kPayloadSeed));
  put_u64(s, header_checksum(s, key));
  s.append(key);
  s.append(payload);
  return s;
}

ReadResult decode(std::string_view bytes, std::string_view key, std::uint64_t key_hash) {
  ReadResult r;
  r.status = ReadStatus::Rejected;
  if (bytes.size() < kHeaderSize) {
    r.why = fmt::format("truncated: {} bytes, shorter than the {}-byte header", bytes.size(),
                        kHeaderSize);
    return r;
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    r.why = "not an xpr cache entry (bad magic)";
    return r;
  }
  const auto version = static_cast<std::uint32_t>(get_le(bytes, 8, 4));
  if (version != kFormatVersion) {
    r.why = fmt::format("format version {}, this xpr reads version {}", version, kFormatVersion);
    return r;
  }
  const std::uint64_t key_len = get_le(bytes, 12, 4), hash = get_le(bytes, 16, 8),
                      payload_len = get_le(bytes, 24, 8), payload_sum = get_le(bytes, 32, 8),
                      header_sum = get_le(bytes, 40, 8);
  if (key_len > bytes.size() || payload_len > bytes.size() ||
      kHeaderSize + key_len + payload_len != bytes.size()) {
    r.why = fmt::format("truncated or padded: header says {} + {} + {} bytes, the file has {}",
                        kHeaderSize, key_len, payload_len, bytes.size());
    return r;
  }
  std::string_view stored_key = bytes.substr(kHeaderSize, key_len);
  if (header_checksum(bytes.substr(0, 40), stored_key) != header_sum) {
    r.why = "header checksum mismatch (corrupt header or key)";
    return r;
  }
  if (hash != key_hash || stored_key != key) {
    r.why = hash != key_hash ? "holds another key (foreign entry under this name)"
                             : "holds another key with the same hash (a collision)";
    return r;
  }
  std::string_view payload = bytes.substr(kHeaderSize + key_len);
  if (hash_bytes(payload.data(), payload.size(), kPayloadSeed) != payload_sum) {
    r.why = "payload checksum mismatch (corrupt object code)";
    return r;
  }
  r.status = ReadStatus::Hit;
  r.payload.assign(payload);
  return r;
}

ReadResult read(const std::string &dir, std::string_view key, std::uint64_t key_hash) {
  const std::string path = entry_path(dir, key_hash);
  std::string bytes;
  int fd = -1;
  if (!read_all(path, bytes, &fd)) {
    ReadResult r;
    r.why = fmt::format("no entry {}", path);
    return r;
  }
  ReadResult r = decode(bytes, key, key_hash);
  if (r.status == ReadStatus::Hit) {
    ::futimens(fd, nullptr); // the LRU clock; failure (read-only cache) is harmless
  } else {
    ::unlink(path.c_str());
    r.why = fmt::format("entry {} rejected: {}", path, r.why);
  }
  ::close(fd);
  return r;
}

bool write(const std::string &dir, std::string_view key, std::uint64_t key_hash,
           std::string_view payload, std::string *why) {
  auto fail = [&](const std::string &what) {
    if (why) *why = fmt::format("{}: {}", what, std::strerror(errno));
    return false;
  };
  if (!make_dirs(dir)) return fail(fmt::format("cannot create {}", dir));
  static std::atomic<std::uint64_t> counter{0};
  const std::string tmp = fmt::format("{}/.tmp.{}.{}.{:016x}", dir, ::getpid(),
                                      counter.fetch_add(1), key_hash);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail(fmt::format("cannot create {}", tmp));
  const std::string bytes = encode(key, key_hash, payload);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e;
      return fail(fmt::format("cannot write {}", tmp));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    return fail(fmt::format("cannot write {}", tmp));
  }
  if (::rename(tmp.c_str(), entry_path(dir, key_hash).c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    return fail("cannot rename the new entry into place");
  }
  return true;
}

std::size_t evict(const std::string &dir, std::uint64_t max_bytes, std::uint64_t *remaining) {
  std::vector<FileInfo> entries;
  std::uint64_t total = 0;
  const std::time_t now = std::time(nullptr);
  for_each_file(dir, [&](std::string_view name, const std::string &path, const struct stat &st) {
    if (name.starts_with(".tmp.")) {
      // A writer that died between create and rename; a live one renames within milliseconds.
      if (now - st.st_mtim.tv_sec > 3600) ::unlink(path.c_str());
      return;
    }
    if (!ends_with(name, kSuffix)) return;
    entries.push_back({path, static_cast<std::uint64_t>(st.st_size), st.st_mtim});
    total += static_cast<std::uint64_t>(st.st_size);
  });
  if (remaining) *remaining = total;
  if (total <= max_bytes) return 0;
  std::sort(entries.begin(), entries.end(), [](const FileInfo &a, const FileInfo &b) {
    return a.mtime.tv_sec != b.mtime.tv_sec ? a.mtime.tv_sec < b.mtime.tv_sec
                                            : a.mtime.tv_nsec < b.mtime.tv_nsec;
  });
  std::size_t removed = 0;
  for (const FileInfo &f : entries) {
    if (total <= max_bytes) break;
    if (::unlink(f.path.c_str()) == 0) ++removed;
    total -= f.bytes; // gone either way: by us, or by another process evicting too
  }
  if (remaining) *remaining = total;
  return removed;
}

Usage usage(const std::string &dir) {
  Usage u;
  for_each_file(dir, [&](std::string_view name, const std::string &, const struct stat &st) {
    if (!ends_with(name, kSuffix)) return;
    u.bytes += static_cast<std::uint64_t>(st.st_size);
    ++u.entries;
  });
  return u;
}

std::vector<std::string> keys(const std::string &dir, std::size_t limit) {
  std::vector<std::string> out;
  for_each_file(dir, [&](std::string_view name, const std::string &path, const struct stat &) {
    if (out.size() >= limit || !ends_with(name, kSuffix)) return;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char header[kHeaderSize];
    if (::pread(fd, header, kHeaderSize, 0) == static_cast<ssize_t>(kHeaderSize) &&
        std::memcmp(header, kMagic, sizeof kMagic) == 0) {
      std::string_view h(header, kHeaderSize);
      const std::uint64_t key_len = get_le(h, 12, 4);
      std::string key(key_len, '\0');
      if (key_len < (1u << 20) &&
          ::pread(fd, key.data(), key_len, kHeaderSize) == static_cast<ssize_t>(key_len))
        out.push_back(std::move(key));
    }
    ::close(fd);
  });
  return out;
}

} // namespace xpr::rt::disk
