// runtime/KernelCache.h — compiled kernels: per-Program memo, process-wide table, on-disk objects.
#pragma once

#include "compiler/codegen/CpuJit.h"
#include "compiler/codegen/Kernel.h"
#include "compiler/passes/Plan.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xpr::rt {

/// Where a Context keeps object code on disk, resolved once from its options and environment.
struct CacheConfig {
  bool disk = false;
  std::string dir;
  std::uint64_t max_bytes = 0;
  std::string off_reason; ///< why `disk` is false, in words
};

/// Options first, then the environment: the disk cache is used unless `option_disk` is false
/// or XPR_CACHE is 0/off/false/no; its directory is `option_dir`, else $XPR_CACHE_DIR, else
/// $XDG_CACHE_HOME/xpr, else $HOME/.cache/xpr. XPR_CACHE_MAX_BYTES overrides a zero
/// `max_bytes` (whose default is 512 MiB).
CacheConfig resolve_cache_config(bool option_disk, const std::string &option_dir,
                                 std::uint64_t max_bytes);

enum class Source : std::uint8_t { Memory, Disk, Compiled };
const char *source_name(Source s);

/// Milliseconds per stage. parse and passes are per Program; the rest add up over its kernels.
struct StageTimes {
  double parse = 0, passes = 0, mlir_build = 0, mlir_lower = 0, llvm_opt = 0, machine_code = 0,
         load = 0, disk_read = 0, disk_write = 0;
  double total() const {
    return parse + passes + mlir_build + mlir_lower + llvm_opt + machine_code + load + disk_read +
           disk_write;
  }
  StageTimes &operator+=(const StageTimes &o);
};

/// How one kernel of a Program was obtained (one per kernel and operand layout).
struct Resolution {
  int kernel = 0; ///< the kernel's index among the Program's kernels
  std::uint64_t key_hash = 0;
  std::string key;
  Source source = Source::Compiled;
  std::string why; ///< for a disk hit or a compile: why the faster levels missed
  StageTimes times;
};

/// A Program's record of its kernel resolutions, for timings() and explain_cache().
class CompileLog {
public:
  void add(Resolution r);
  std::vector<Resolution> resolutions() const;
  void set_front(double parse_ms, double passes_ms);
  StageTimes totals() const;

private:
  mutable std::mutex mu_;
  std::vector<Resolution> v_;
  double parse_ = 0, passes_ = 0;
};

/// The operand layouts of one call, without the allocations of a KernelSpec.
struct SpecRef {
  int rank = 1;
  cg::Precision precision = cg::Precision::Accurate;
  std::span<const cg::Layout> inputs, outputs;
};

/// A fused kernel prepared once per Program: literals hoisted into params, its canonical text
/// and hash (the IR part of the cache key), where each param slot's value comes from, and the
/// functions already resolved for it, one per operand-layout combination. The memo is a
/// lock-free list: a call at run time finds its function with a few compares and no lock.
class KernelCode {
public:
  explicit KernelCode(const passes::KernelStep &ks, int index);
  ~KernelCode();
  KernelCode(const KernelCode &) = delete;
  KernelCode &operator=(const KernelCode &) = delete;

  /// Where a param slot's 8 bytes come from: a program param, or a literal's bits.
  struct Slot {
    int program_param = -1; ///< >= 0: this program param; < 0: `literal`
    std::uint64_t literal = 0;
  };
  const ir::Graph &kernel() const { return kernel_; }
  const std::string &text() const { return text_; }
  std::uint64_t text_hash() const { return text_hash_; }
  const std::vector<Slot> &slots() const { return slots_; }
  int index() const { return index_; }
  /// The memoized function for `spec`, or null.
  cg::KernelFn find(const SpecRef &spec) const;
  /// Memoizes `code` for `spec`; the memo keeps it linked for the lifetime of this KernelCode.
  void remember(const SpecRef &spec, std::shared_ptr<const cg::JitCode> code) const;

private:
  struct Memo;
  ir::Graph kernel_;
  std::string text_;
  std::uint64_t text_hash_ = 0;
  std::vector<Slot> slots_;
  int index_ = 0;
  mutable std::atomic<Memo *> memo_{nullptr};
};

/// Process-wide counters (tests and benchmarks read them).
struct CacheCounters {
  std::uint64_t memory_hits = 0, disk_hits = 0, compiles = 0, disk_writes = 0, disk_rejects = 0,
                write_failures = 0, evictions = 0;
  /// Kernels dropped from the process table by its bound (XPR_JIT_MAX_KERNELS).
  std::uint64_t memory_evictions = 0;
};

/// One process-wide JIT and table of compiled kernels keyed by the full key text (see key()).
/// Thread-safe; concurrent requests for one key compile it once (the others wait for it).
/// The table is bounded (kDefaultMaxKernels, or XPR_JIT_MAX_KERNELS): past the bound the least
/// recently used kernels leave it, and their machine code is freed once no Program holds them.
/// A KernelFn from get() stays valid as long as the KernelCode it was resolved for.
class KernelCache {
public:
  static KernelCache &global();

  /// The function for `code` under `spec`: the Program's memo, else this table, else the disk
  /// cache of `cfg`, else a compile (whose object is then written to disk). Records how in `log`.
  cg::KernelFn get(const KernelCode &code, const SpecRef &spec, const CacheConfig &cfg,
                   CompileLog *log = nullptr);

  /// The full key text: every input of code generation, one "name: value" line each.
  std::string key(std::string_view kernel_text, std::uint64_t text_hash, const SpecRef &spec);
  /// The codegen fingerprint, target and versions that every key contains.
  const std::string &environment() const { return environment_; }

  /// Kernels in the process table now.
  std::size_t size() const;
  std::size_t max_kernels() const;
  /// Changes the bound (0 = kDefaultMaxKernels); evicts at the next new kernel. For tests.
  void set_max_kernels(std::size_t n);
  static constexpr std::size_t kDefaultMaxKernels = 4096;
  /// How many kernels were compiled (not found in memory or on disk) in this process.
  std::size_t compiles() const;
  CacheCounters counters() const;
  /// Forgets the in-memory table (not the Programs' memos, not the JIT's code): the next
  /// request of a key goes to disk. For tests and benchmarks.
  void clear_memory();
  cg::CpuJit &jit() { return jit_; }

private:
  KernelCache();
  struct Entry {
    std::mutex mu;
    std::shared_ptr<const cg::JitCode> code;
    std::atomic<std::uint64_t> last_use{0};
  };
  std::shared_ptr<Entry> entry(const std::string &key);
  void evict_locked(); ///< with mu_ held
  void after_write(const CacheConfig &cfg, std::uint64_t bytes);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> map_;
  struct DirState {
    bool scanned = false;
    std::uint64_t since = 0;    ///< bytes written since the last scan
    std::uint64_t estimate = 0; ///< the directory's size: at the last scan, plus writes since
  };
  std::unordered_map<std::string, DirState> dirs_;
  std::atomic<std::uint64_t> memory_hits_{0}, disk_hits_{0}, compiles_{0}, disk_writes_{0},
      disk_rejects_{0}, write_failures_{0}, evictions_{0}, memory_evictions_{0};
  std::size_t max_kernels_ = kDefaultMaxKernels;
  std::uint64_t clock_ = 0; ///< last-use stamps, under mu_
  cg::CpuJit jit_;
  std::string environment_;
};

/// The spec's part of a cache key: "r2 i:CSS o:C p:a".
std::string spec_key(const cg::KernelSpec &spec);
std::string spec_key(const SpecRef &spec);

} // namespace xpr::rt
