// runtime/KernelCache.cpp — kernel lookup: Program memo → process table → disk → compile.
#include "runtime/KernelCache.h"

#include "CodegenFingerprint.h"
#include "compiler/passes/HoistLiterals.h"
#include "runtime/DiskCache.h"
#include "runtime/Hash.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>



namespace xpr::rt {

namespace {

// Every cached object defines its kernel under this name; each is linked into a JITDylib of
// its own, so the names never clash.
const std::string kSymbol = "xpr_kernel";
constexpr std::uint64_t kDefaultMaxBytes = 512ull << 20;

char layout_char(cg::Layout l) {
  switch (l) {
  case cg::Layout::Contiguous: return 'C';
  case cg::Layout::Scalar: return 'S';
  case cg::Layout::Strided: return 'X';
  }
  return '?';
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

const char *env(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? v : nullptr;
}

cg::KernelSpec to_spec(const SpecRef &s) {
  cg::KernelSpec k;
  k.rank = s.rank;
  k.precision = s.precision;
  k.inputs.assign(s.inputs.begin(), s.inputs.end());
  k.outputs.assign(s.outputs.begin(), s.outputs.end());
  return k;
}

SpecRef to_ref(const cg::KernelSpec &s) {
  return SpecRef{s.rank, s.precision, s.inputs, s.outputs};
}

} // namespace

// ---- configuration ----

CacheConfig resolve_cache_config(bool option_disk, const std::string &option_dir,
                                 std::uint64_t max_bytes) {
  CacheConfig c;
  c.max_bytes = max_bytes;
  if (c.max_bytes == 0) {
    c.max_bytes = kDefaultMaxBytes;
    if (const char *m = env("XPR_CACHE_MAX_BYTES")) {
      char *end = nullptr;
      unsigned long long v = std::strtoull(m, &end, 10);
      if (end && *end == '\0' && v > 0) c.max_bytes = v;
    }
  }
  if (!option_disk) {
    c.off_reason = "switched off by Options::cache.disk = false";
    return c;
  }
  if (const char *e = env("XPR_CACHE")) {
    std::string v = e;
    if (v == "0" || v == "off" || v == "false" || v == "no") {
      c.off_reason = fmt::format("switched off by XPR_CACHE={}", v);
      return c;
    }
  }
  if (!option_dir.empty()) c.dir = option_dir;
  else if (const char *d = env("XPR_CACHE_DIR")) c.dir = d;
  else if (const char *x = env("XDG_CACHE_HOME")) c.dir = std::string(x) + "/xpr";
  else if (const char *h = env("HOME")) c.dir = std::string(h) + "/.cache/xpr";
  if (c.dir.empty()) {
    c.off_reason = "no cache directory (neither XPR_CACHE_DIR, XDG_CACHE_HOME nor HOME is set)";
    return c;
  }
  c.disk = true;
  return c;
}

const char *source_name(Source s) {
  switch (s) {
  case Source::Memory: return "memory";
  case Source::Disk: return "disk";
  case Source::Compiled: return "compiled";
  }
  return "?";
}

StageTimes &StageTimes::operator+=(const StageTimes &o) {
  parse += o.parse;
  passes += o.passes;
  mlir_build += o.mlir_build;
  mlir_lower += o.mlir_lower;
  llvm_opt += o.llvm_opt;
  machine_code += o.machine_code;
  load += o.load;
  disk_read += o.disk_read;
  disk_write += o.disk_write;
  return *this;
}

// ---- CompileLog ----

void CompileLog::add(Resolution r) {
  std::lock_guard lock(mu_);
  v_.push_back(std::move(r));
}
std::vector<Resolution> CompileLog::resolutions() const {
  std::lock_guard lock(mu_);
  return v_;
}
void CompileLog::set_front(double parse_ms, double passes_ms) {
  std::lock_guard lock(mu_);
  parse_ = parse_ms;
  passes_ = passes_ms;
}
StageTimes CompileLog::totals() const {
  std::lock_guard lock(mu_);
  StageTimes t;
  for (const Resolution &r : v_) t += r.times;
  t.parse = parse_;
  t.passes = passes_;
  return t;
}

// ---- KernelCode ----

struct KernelCode::Memo {
  int rank;
  cg::Precision precision;
  std::vector<cg::Layout> inputs, outputs;
  std::shared_ptr<const cg::JitCode> code; ///< keeps the function linked while the Program lives
  Memo *next;
  bool matches(const SpecRef &s) const {
    // std::equal, not memcmp: a kernel without inputs has empty spans whose data() may be null.
    return rank == s.rank && precision == s.precision &&
           std::equal(inputs.begin(), inputs.end(), s.inputs.begin(), s.inputs.end()) &&
           std::equal(outputs.begin(), outputs.end(), s.outputs.begin(), s.outputs.end());
  }
};

KernelCode::KernelCode(const passes::KernelStep &ks, int index) : index_(index) {
  passes::HoistedKernel h = passes::hoist_literals(ks.kernel);
  kernel_ = std::move(h.kernel);
  text_ = ir::print(kernel_);
  text_hash_ = hash_text(text_);
  for (int origin : h.param_origin) {
    Slot s;
    if (origin >= 0) {
      s.program_param = ks.params.at(static_cast<std::size_t>(origin));
    } else {
      const ir::ConstValue &c = h.literals.at(static_cast<std::size_t>(-1 - origin));
      if (c.dtype == DType::F32) {
        float f = static_cast<float>(c.f);
        std::memcpy(&s.literal, &f, sizeof f);
      } else {
        std::memcpy(&s.literal, &c.f, sizeof c.f);
      }
    }
    slots_.push_back(s);
  }
}

KernelCode::~KernelCode() {
  for (Memo *m = memo_.load(); m;) {
    Memo *next = m->next;
    delete m;
    m = next;
  }
}

cg::KernelFn KernelCode::find(const SpecRef &spec) const {
  for (const Memo *m = memo_.load(std::memory_order_acquire); m; m = m->next)
    if (m->matches(spec)) return m->code->fn;
  return nullptr;
}

void KernelCode::remember(const SpecRef &spec, std::shared_ptr<const cg::JitCode> code) const {
  if (find(spec)) return;
  auto *m = new Memo{spec.rank, spec.precision,
                     std::vector<cg::Layout>(spec.inputs.begin(), spec.inputs.end()),
                     std::vector<cg::Layout>(spec.outputs.begin(), spec.outputs.end()),
                     std::move(code), memo_.load(std::memory_order_relaxed)};
  // Two threads may both add the same spec; the list then holds it twice, which is harmless.
  while (!memo_.compare_exchange_weak(m->next, m, std::memory_order_release,
                                      std::memory_order_relaxed)) {
  }
}

// ---- KernelCache ----

KernelCache::KernelCache() {
  // XPR_JIT_MAX_KERNELS bounds the process table (docs/cache.md); tests set it low to exercise
  // eviction. A value that does not parse, or 0, keeps the default.
  if (const char *v = std::getenv("XPR_JIT_MAX_KERNELS")) {
    char *end = nullptr;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (end != v && *end == '\0' && n > 0) max_kernels_ = static_cast<std::size_t>(n);
  }
  environment_ = fmt::format("xpr: {}\ncodegen: {}\nllvm: {}\ntarget: {}\n", XPR_VERSION_STRING,
                             XPR_CODEGEN_FINGERPRINT, XPR_LLVM_VERSION_STRING,
                             jit_.target_description());
}

KernelCache &KernelCache::global() {
  // Never destroyed: kernels may still run from static destructors of user code, and the JIT
  // must outlive every JitCode handed out.
  static KernelCache *cache = new KernelCache();
  return *cache;
}

std::string spec_key(const SpecRef &spec) {
  std::string k = "r" + std::to_string(spec.rank) + " i:";
  for (auto l : spec.inputs) k += layout_char(l);
  k += " o:";
  for (auto l : spec.outputs) k += layout_char(l);
  k += spec.precision == cg::Precision::Fast ? " p:f" : " p:a";
  return k;
}

std::string spec_key(const cg::KernelSpec &spec) { return spec_key(to_ref(spec)); }

std::string KernelCache::key(std::string_view kernel_text, std::uint64_t text_hash,
                             const SpecRef &spec) {
  std::string in, out;
  for (auto l : spec.inputs) in += layout_char(l);
  for (auto l : spec.outputs) out += layout_char(l);
  return fmt::format("xpr kernel cache key {}\n{}llvm-pipeline: {}\nprecision: {}\nrank: {}\n"
                     "layouts: in={} out={}\nkernel-hash: {:016x}\nkernel:\n{}",
                     disk::kFormatVersion, environment_,
                     cg::pipeline_name(jit_.llvm_pipeline()),
                     spec.precision == cg::Precision::Fast ? "fast" : "accurate", spec.rank, in,
                     out, text_hash, kernel_text);
}

std::shared_ptr<KernelCache::Entry> KernelCache::entry(const std::string &key) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Entry> &slot = map_[key];
  if (!slot) slot = std::make_shared<Entry>();
  std::shared_ptr<Entry> e = slot; // before eviction may rehash the table
  e->last_use.store(++clock_, std::memory_order_relaxed);
  if (map_.size() > max_kernels_) evict_locked();
  return e;
}

void KernelCache::evict_locked() {
  // Down to 7/8 of the bound at once, so the O(n) scan runs once per n/8 new kernels. Oldest
  // last use first; entries being compiled (locked) or not filled yet are left alone. An evicted
  // kernel's code stays linked while a Program still holds it (KernelCode's memo) and is freed
  // with the last of them.
  const std::size_t target = max_kernels_ - max_kernels_ / 8;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  order.reserve(map_.size());
  for (const auto &[k, e] : map_) order.emplace_back(e->last_use.load(std::memory_order_relaxed), k);
  std::sort(order.begin(), order.end());
  for (const auto &[use, key] : order) {
    if (map_.size() <= target) break;
    auto it = map_.find(key);
    std::unique_lock lk(it->second->mu, std::try_to_lock);
    if (!lk.owns_lock() || !it->second->code) continue;
    lk.unlock();
    map_.erase(it);
    ++memory_evictions_;
  }
}

void KernelCache::after_write(const CacheConfig &cfg, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  DirState &d = dirs_[cfg.dir];
  d.estimate += bytes;
  d.since += bytes;
  // Scan the directory on the first write of the process, whenever this process's estimate of
  // its size passes the bound, and after every eighth of the bound written (other processes
  // write too). Between scans a write costs nothing extra.
  if (d.scanned && d.estimate <= cfg.max_bytes && d.since < cfg.max_bytes / 8) return;
  d.scanned = true;
  d.since = 0;
  evictions_ += disk::evict(cfg.dir, cfg.max_bytes, &d.estimate);
}

cg::KernelFn KernelCache::get(const KernelCode &code, const SpecRef &spec,
                              const CacheConfig &cfg, CompileLog *log) {
  if (cg::KernelFn fn = code.find(spec)) return fn;
  std::shared_ptr<const cg::JitCode> jc;
  Resolution r;
  r.kernel = code.index();
  r.key = key(code.text(), code.text_hash(), spec);
  r.key_hash = hash_text(r.key);
  std::shared_ptr<Entry> e = entry(r.key);
  {
    // Held while compiling: a concurrent request for this key waits here, then finds `code`.
    std::lock_guard lock(e->mu);
    if (e->code) {
      ++memory_hits_;
      jc = e->code;
      r.source = Source::Memory;
    } else {
      std::string why = "not in memory: first use in this process";
      cg::CompileTimings ct;
      if (cfg.disk) {
        auto t0 = std::chrono::steady_clock::now();
        disk::ReadResult rr = disk::read(cfg.dir, r.key, r.key_hash);
        r.times.disk_read = ms_since(t0);
        if (rr.status == disk::ReadStatus::Hit) {
          try {
            jc = jit_.load_object(rr.payload, kSymbol, &ct);
            r.times.load = ct.load_ms;
            ++disk_hits_;
            r.source = Source::Disk;
          } catch (const Error &err) {
            // Verified bytes that do not link were written by a broken build: never use them.
            ++disk_rejects_;
            std::remove(disk::entry_path(cfg.dir, r.key_hash).c_str());
            why += fmt::format("; the disk entry did not link ({})", err.what());
          }
        } else {
          if (rr.status == disk::ReadStatus::Rejected) ++disk_rejects_;
          why += "; on disk: " + rr.why;
        }
      } else {
        why += "; on disk: " + cfg.off_reason;
      }
      if (!jc) {
        std::string obj = jit_.compile_to_object(code.kernel(), to_spec(spec), kSymbol, &ct);
        ++compiles_;
        r.times.mlir_build = ct.mlir_build_ms;
        r.times.mlir_lower = ct.mlir_lower_ms;
        r.times.llvm_opt = ct.llvm_opt_ms;
        r.times.machine_code = ct.codegen_ms;
        if (cfg.disk) {
          auto t0 = std::chrono::steady_clock::now();
          std::string werr;
          if (disk::write(cfg.dir, r.key, r.key_hash, obj, &werr)) {
            ++disk_writes_;
            r.times.disk_write = ms_since(t0);
            after_write(cfg, rt::disk::kHeaderSize + r.key.size() + obj.size());
          } else {
            ++write_failures_;
            why += "; not stored on disk: " + werr;
          }
        }
        jc = jit_.load_object(obj, kSymbol, &ct);
        r.times.load = ct.load_ms;
        r.source = Source::Compiled;
      }
      r.why = std::move(why);
      e->code = jc;
    }
  }
  cg::KernelFn fn = jc->fn;
  code.remember(spec, std::move(jc));
  if (log) log->add(std::move(r));
  return fn;
}

std::size_t KernelCache::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

std::size_t KernelCache::max_kernels() const {
  std::lock_guard lock(mu_);
  return max_kernels_;
}

void KernelCache::set_max_kernels(std::size_t n) {
  std::lock_guard lock(mu_);
  max_kernels_ = n ? n : kDefaultMaxKernels;
}

std::size_t KernelCache::compiles() const { return compiles_.load(); }

CacheCounters KernelCache::counters() const {
  CacheCounters c;
  c.memory_hits = memory_hits_.load();
  c.disk_hits = disk_hits_.load();
  c.compiles = compiles_.load();
  c.disk_writes = disk_writes_.load();
  c.disk_rejects = disk_rejects_.load();
  c.write_failures = write_failures_.load();
  c.evictions = evictions_.load();
  c.memory_evictions = memory_evictions_.load();
  return c;
}

void KernelCache::clear_memory() {
  std::lock_guard lock(mu_);
  map_.clear();
}

} // namespace xpr::rt
