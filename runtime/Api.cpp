// runtime/Api.cpp — the public API (xpr/xpr.hpp) over the front end, the pass pipeline and the runtime.
#include <xpr/xpr.hpp>

#include "compiler/codegen/CpuJit.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"
#include "runtime/DiskCache.h"
#include "runtime/Execute.h"
#include "runtime/Executor.h"
#include "runtime/FastPath.h"
#include "runtime/Hash.h"
#include "runtime/KernelCache.h"
#include "runtime/cuda/CudaExecute.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace xpr {

namespace {

// The executor is shared by a Context and its Programs; set_threads swaps it for all of them.
struct ExecHolder {
  mutable std::mutex mu;
  std::shared_ptr<rt::Executor> exec;
  std::shared_ptr<rt::Executor> get() const {
    std::lock_guard lock(mu);
    return exec;
  }
};

ValueInfo info_of(const std::string &name, const ir::Type &t) {
  ValueInfo v;
  v.name = name;
  v.dtype = t.dtype;
  for (const auto &d : t.dims) v.dims.push_back(d.is_symbolic() ? d.sym : std::to_string(d.size));
  v.type = ir::to_string(t);
  return v;
}

cg::Precision to_cg(Precision p) {
  return p == Precision::Fast ? cg::Precision::Fast : cg::Precision::Accurate;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// One eval input as the cache key sees it: name, dtype and dims, each dim -1 for a literal 1
// or the number of its size among the distinct sizes of the call (the symbol d<k>).
struct EvalInputSig {
  std::string name;
  DType dtype;
  std::vector<int> dims;
};

} // namespace

struct Program::Impl {
  std::string filename, source;
  bool expression_form = false;
  std::vector<fe::Decl> decls; // expression form only
  ir::Graph sema_graph;
  rt::CompiledPlan cp;
  rt::FastPlan fast;
  std::shared_ptr<ExecHolder> exec;
  std::shared_ptr<rt::cuda::CudaTarget> cuda; // set: runs on this GPU instead of the CPU
  std::vector<ValueInfo> inputs, params, outputs;
};

struct EvalEntry {
  std::string expr;
  std::vector<EvalInputSig> sig;
  std::shared_ptr<const Program::Impl> impl;
};

struct Context::Impl {
  Options options;
  std::shared_ptr<const rt::CacheConfig> cache;
  std::shared_ptr<ExecHolder> exec = std::make_shared<ExecHolder>();
  std::shared_ptr<rt::cuda::CudaTarget> cuda; // Target::cuda: the device, its stream, its kernels
  std::mutex eval_mu;
  // Keyed by a hash of the expression and the inputs' signature; the entries under one hash
  // are compared in full, so a collision costs a compare, never a wrong program.
  std::unordered_map<std::uint64_t, std::vector<EvalEntry>> eval_cache;
  // compile() of a text this context compiled before returns the same Program: keyed by a
  // hash of (filename, text), entries compared in full.
  struct CompiledEntry {
    std::string filename, text;
    std::shared_ptr<const Program::Impl> impl;
  };
  std::unordered_map<std::uint64_t, std::vector<CompiledEntry>> compile_cache;
  // Both caches are bounded: a long-lived Context (a REPL, a server) that keeps meeting new
  // expressions would otherwise hold every Program and, through them, every kernel's machine
  // code. Past the bound a cache starts over; a Program still held by the caller lives on, and
  // its kernels are found again in the process table or on disk, so a dropped entry costs a
  // parse and the passes (tens of microseconds), not a compile.
  static constexpr std::size_t kMaxCachedPrograms = 1024;
  std::size_t eval_entries = 0, compile_entries = 0;
};

namespace {

// The layouts a kernel's operands get when every array is contiguous (what compile() builds
// eagerly): rank-0 and all-ones operands are scalars, operands of the iteration shape are
// contiguous, broadcast ones strided.
rt::SpecRef eager_spec(const passes::Plan &plan, const passes::KernelStep &ks,
                       std::vector<cg::Layout> &storage) {
  storage.clear();
  auto layout = [&](int b, bool output) {
    const ir::Type &t = plan.buffers[static_cast<std::size_t>(b)].type;
    bool ones = true;
    for (const ir::Dim &d : t.dims) ones = ones && !d.is_symbolic() && d.size == 1;
    if (ones && !output) return cg::Layout::Scalar;
    return t.dims == ks.iter_dims ? cg::Layout::Contiguous : cg::Layout::Strided;
  };
  for (int b : ks.inputs) storage.push_back(layout(b, false));
  for (int b : ks.outputs) storage.push_back(layout(b, true));
  const std::span<const cg::Layout> all(storage);
  return rt::SpecRef{static_cast<int>(ks.iter_dims.size()), cg::Precision::Accurate,
                     all.first(ks.inputs.size()), all.subspan(ks.inputs.size())};
}

std::shared_ptr<const Program::Impl> build(ir::Graph g, std::string filename, std::string source,
                                           bool expression_form, std::vector<fe::Decl> decls,
                                           const Options &opts,
                                           std::shared_ptr<const rt::CacheConfig> cache,
                                           std::shared_ptr<ExecHolder> exec, double parse_ms,
                                           bool eager,
                                           std::shared_ptr<rt::cuda::CudaTarget> cuda) {
  auto impl = std::make_shared<Program::Impl>();
  impl->filename = std::move(filename);
  impl->source = std::move(source);
  impl->expression_form = expression_form;
  impl->decls = std::move(decls);
  impl->exec = std::move(exec);
  impl->cuda = std::move(cuda);
  if (impl->cuda) eager = false; // GPU kernels are compiled on first run, for the device's layouts
  for (auto v : g.inputs()) impl->inputs.push_back(info_of(g.node(v).name, g.type(v)));
  for (auto v : g.params()) impl->params.push_back(info_of(g.node(v).name, g.type(v)));
  for (const auto &o : g.outputs) impl->outputs.push_back(info_of(o.name, g.type(o.value)));
  impl->sema_graph = g;
  auto t0 = std::chrono::steady_clock::now();
  impl->cp = rt::prepare(passes::lower_to_plan(std::move(g)), to_cg(opts.precision), cache);
  impl->fast = rt::make_fast_plan(impl->cp);
  impl->cp.log->set_front(parse_ms, ms_since(t0));
  if (eager) {
    std::vector<cg::Layout> storage;
    for (std::size_t s = 0; s < impl->cp.plan.steps.size(); ++s) {
      const passes::Step &st = impl->cp.plan.steps[s];
      if (st.kind != passes::Step::Kind::Kernel) continue;
      rt::SpecRef spec = eager_spec(impl->cp.plan, st.kernel, storage);
      spec.precision = impl->cp.precision;
      rt::KernelCache::global().get(*impl->cp.code[s], spec, *impl->cp.cache, impl->cp.log.get());
    }
  }
  return impl;
}

/// The cpu target reads host memory only: a device array (Context::to_device) is refused with
/// the way back, before any kernel could read a device address.
void reject_device_arrays(const std::map<std::string, Array> &arrays, const char *what) {
  for (const auto &[name, a] : arrays)
    if (a.on_device())
      throw Error(ErrorKind::Runtime,
                  fmt::format("{} '{}' is on cuda:{}, but this context runs on the cpu: copy it "
                              "to the host with Context::to_host first",
                              what, name, a.device()));
}

} // namespace

// ---- Program ----

const Program::Impl &Program::impl() const {
  if (!impl_) throw Error(ErrorKind::Runtime, "this Program is empty (default-constructed)");
  return *impl_;
}

std::vector<Array> Program::run_ordered(const Inputs &inputs, const Params &params) const {
  const Impl &p = impl();
  if (p.cuda) return p.cuda->execute(p.cp, inputs, params, nullptr);
  reject_device_arrays(inputs, "input");
  auto exec = p.exec->get();
  std::vector<Array> out(p.outputs.size());
  if (rt::run_fast(p.cp, p.fast, *exec, inputs, params, nullptr, out.data())) return out;
  return rt::execute(p.cp, *exec, inputs, params, nullptr);
}

Outputs Program::run(const Inputs &inputs, const Params &params) const {
  std::vector<Array> r = run_ordered(inputs, params);
  Outputs out;
  for (std::size_t i = 0; i < r.size(); ++i) out.emplace(impl().outputs[i].name, r[i]);
  return out;
}

void Program::run_into(const Inputs &inputs, const Outputs &outputs, const Params &params) const {
  const Impl &p = impl();
  // The fast path: every output named and no other name (equal counts and all found), so no
  // vector of Array copies and no unknown-name scan.
  constexpr std::size_t kFew = 8;
  if (!p.cuda) {
    reject_device_arrays(inputs, "input");
    reject_device_arrays(outputs, "output");
  }
  if (!p.cuda && p.outputs.size() <= kFew && outputs.size() == p.outputs.size()) {
    const Array *t[kFew];
    bool all = true;
    for (std::size_t i = 0; i < p.outputs.size() && all; ++i) {
      auto it = outputs.find(p.outputs[i].name);
      all = it != outputs.end();
      if (all) t[i] = &it->second;
    }
    if (all) {
      auto exec = p.exec->get();
      if (rt::run_fast(p.cp, p.fast, *exec, inputs, params, t, nullptr)) return;
    }
  }
  std::vector<Array> targets;
  targets.reserve(p.outputs.size());
  for (const auto &o : p.outputs) {
    auto it = outputs.find(o.name);
    if (it == outputs.end())
      throw Error(ErrorKind::Runtime,
                  fmt::format("run_into: no array given for output '{}' ({})", o.name, o.type));
    targets.push_back(it->second);
  }
  for (const auto &[name, a] : outputs) {
    bool known = false;
    for (const auto &o : p.outputs) known = known || o.name == name;
    if (!known)
      throw Error(ErrorKind::Runtime, fmt::format("run_into: the program has no output '{}'", name));
  }
  if (p.cuda) {
    p.cuda->execute(p.cp, inputs, params, &targets);
    return;
  }
  auto exec = p.exec->get();
  rt::execute(p.cp, *exec, inputs, params, &targets);
}

std::string Program::emit(Stage stage) const {
  const Impl &p = impl();
  switch (stage) {
  case Stage::Ast: {
    SourceFile src(p.filename, p.source);
    return fe::dump(fe::parse_module(src, p.expression_form), src);
  }
  case Stage::Ir: return ir::print(p.sema_graph);
  case Stage::Optimized: return ir::print(p.cp.plan.graph);
  case Stage::Fused: return passes::print(p.cp.plan);
  case Stage::Mlir:
  case Stage::MlirLowered:
  case Stage::Llvm:
  case Stage::Asm: break;
  case Stage::Ptx: return rt::cuda::emit_ptx(p.cp, p.cuda ? p.cuda->target_sm() : 80);
  }
  // Code stages: every kernel, for the layout it gets when all its array operands are
  // contiguous (rank-0 operands are broadcast scalars).
  const cg::Stage cs = stage == Stage::Mlir          ? cg::Stage::Mlir
                       : stage == Stage::MlirLowered ? cg::Stage::MlirLowered
                       : stage == Stage::Llvm        ? cg::Stage::Llvm
                                                     : cg::Stage::Asm;
  return rt::emit_kernels(p.cp, cs);
}

StageTimings Program::timings() const {
  const Impl &p = impl();
  rt::StageTimes t = p.cp.log->totals();
  StageTimings r;
  r.parse_ms = t.parse;
  r.passes_ms = t.passes;
  r.mlir_build_ms = t.mlir_build;
  r.mlir_lower_ms = t.mlir_lower;
  r.llvm_opt_ms = t.llvm_opt;
  r.machine_code_ms = t.machine_code;
  r.load_ms = t.load;
  r.disk_read_ms = t.disk_read;
  r.disk_write_ms = t.disk_write;
  for (const rt::Resolution &res : p.cp.log->resolutions()) {
    if (res.source == rt::Source::Compiled) ++r.kernels_compiled;
    else if (res.source == rt::Source::Disk) ++r.kernels_from_disk;
    else ++r.kernels_from_memory;
  }
  return r;
}

namespace {

// "name: value" lines of a key, up to its kernel text.
std::vector<std::pair<std::string, std::string>> key_fields(std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < key.size()) {
    std::size_t nl = key.find('\n', pos);
    if (nl == std::string_view::npos) nl = key.size();
    std::string_view line = key.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == "kernel:") break;
    std::size_t c = line.find(": ");
    if (c == std::string_view::npos) out.emplace_back(std::string(line), "");
    else out.emplace_back(std::string(line.substr(0, c)), std::string(line.substr(c + 2)));
  }
  return out;
}

std::string field(const std::vector<std::pair<std::string, std::string>> &f, std::string_view n) {
  for (const auto &[k, v] : f)
    if (k == n) return v;
  return {};
}

} // namespace

std::string Program::explain_cache() const {
  const Impl &p = impl();
  const rt::CacheConfig &cfg = *p.cp.cache;
  std::vector<rt::Resolution> rs = p.cp.log->resolutions();
  std::string out;
  if (cfg.disk) out += fmt::format("disk cache: {} (bound {} bytes)\n", cfg.dir, cfg.max_bytes);
  else out += fmt::format("disk cache: off ({})\n", cfg.off_reason);
  if (rs.empty()) {
    out += "no kernel resolved yet: kernels are compiled on first use (run the program)\n";
    return out;
  }
  std::vector<std::string> disk_keys;
  bool scanned = false;
  for (const rt::Resolution &r : rs) {
    auto f = key_fields(r.key);
    out += fmt::format("kernel k{} [{} {}, rank {}, {}]: {}", r.kernel, field(f, "layouts"),
                       field(f, "precision"), field(f, "rank"), field(f, "llvm-pipeline"),
                       rt::source_name(r.source));
    if (r.source == rt::Source::Memory) {
      out += " (already compiled or loaded in this process)\n";
    } else {
      out += fmt::format(" in {:.3f} ms\n", r.times.total());
    }
    out += fmt::format("  key {:016x}, kernel IR hash {}\n", r.key_hash, field(f, "kernel-hash"));
    if (r.source == rt::Source::Memory) continue;
    out += fmt::format("  why: {}\n", r.why);
    if (r.source != rt::Source::Compiled || !cfg.disk) continue;
    if (!scanned) {
      disk_keys = rt::disk::keys(cfg.dir, 4096);
      scanned = true;
    }
    // The nearest entries: same kernel IR, differing in the rest of the key.
    int shown = 0, same_ir = 0;
    for (const std::string &k : disk_keys) {
      auto g = key_fields(k);
      if (field(g, "kernel-hash") != field(f, "kernel-hash")) continue;
      ++same_ir;
      std::vector<std::string> diff;
      for (const auto &[name, value] : f)
        if (field(g, name) != value) diff.push_back(name);
      if (diff.empty()) continue; // the entry written by this very compile
      if (shown++ < 5)
        out += fmt::format("  on disk for the same kernel IR, but another {}\n",
                           fmt::join(diff, ", "));
    }
    if (same_ir == 0 || (same_ir == 1 && shown == 0))
      out += "  no other disk entry holds this kernel IR (new expression, or new literals that "
             "were not hoisted)\n";
  }
  return out;
}

int Program::kernel_count() const { return impl().cp.plan.kernel_count(); }
int Program::reduction_count() const { return impl().cp.plan.reduce_count(); }
int Program::intermediate_buffer_count() const { return impl().cp.plan.intermediate_count(); }
const std::vector<ValueInfo> &Program::inputs() const { return impl().inputs; }
const std::vector<ValueInfo> &Program::params() const { return impl().params; }
const std::vector<ValueInfo> &Program::outputs() const { return impl().outputs; }

// ---- Context ----

CacheStats cache_stats() {
  rt::CacheCounters c = rt::KernelCache::global().counters();
  CacheStats s;
  s.memory_hits = c.memory_hits;
  s.disk_hits = c.disk_hits;
  s.compiles = c.compiles;
  s.disk_writes = c.disk_writes;
  s.disk_rejects = c.disk_rejects;
  s.write_failures = c.write_failures;
  s.evictions = c.evictions;
  s.memory_evictions = c.memory_evictions;
  return s;
}

Context::Context(Options options) : impl_(std::make_shared<Impl>()) {
  impl_->options = options;
  impl_->cache = std::make_shared<const rt::CacheConfig>(
      rt::resolve_cache_config(options.cache.disk, options.cache.dir, options.cache.max_bytes));
  impl_->exec->exec = std::make_shared<rt::Executor>(options.threads);
  // The GPU is acquired now, so a machine without one fails here, with the reason, and not at
  // the first run.
  if (options.target.kind() == Target::Kind::Cuda)
    impl_->cuda = std::make_shared<rt::cuda::CudaTarget>(options.target.device());
}
Context::Context(Target target, Options options) : Context([&] {
  options.target = target;
  return options;
}()) {}

Context::~Context() = default;
Context::Context(Context &&) noexcept = default;
Context &Context::operator=(Context &&) noexcept = default;

const Options &Context::options() const { return impl_->options; }

std::string Context::cache_dir() const { return impl_->cache->disk ? impl_->cache->dir : ""; }

void Context::set_threads(int threads) {
  auto e = std::make_shared<rt::Executor>(threads);
  std::lock_guard lock(impl_->exec->mu);
  impl_->options.threads = threads;
  impl_->exec->exec = std::move(e);
}

int Context::threads() const { return impl_->exec->get()->threads(); }

Array Context::to_device(const Array &a) const {
  if (!impl_->cuda)
    throw Error(ErrorKind::Runtime,
                "to_device needs a cuda Context (Target::cuda()); this one runs on the cpu");
  return impl_->cuda->to_device(a);
}

Array Context::to_host(const Array &a) const {
  if (!a.on_device()) return a;
  if (!impl_->cuda)
    throw Error(ErrorKind::Runtime,
                fmt::format("this array is on cuda:{}; a cpu Context cannot copy it: use the "
                            "to_host of a cuda Context",
                            a.device()));
  return impl_->cuda->to_host(a);
}

void Context::synchronize() const {
  if (impl_->cuda) impl_->cuda->synchronize();
}

std::string Context::target_description() const {
  return impl_->cuda ? impl_->cuda->description() : "cpu";
}

int Context::target_sm() const { return impl_->cuda ? impl_->cuda->target_sm() : 0; }

// ---- Target ----

Target Target::parse(std::string_view text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.substr(0, 5) == "cuda:" && text.size() > 5 && text.size() < 9) {
    int d = 0;
    for (char c : text.substr(5)) {
      if (c < '0' || c > '9') d = -1;
      if (d >= 0) d = d * 10 + (c - '0');
    }
    if (d >= 0) return cuda(d);
  }
  throw Error(ErrorKind::Runtime,
              fmt::format("unknown target '{}': expected cpu, cuda or cuda:N", text));
}

std::string Target::name() const {
  return kind_ == Kind::Cpu ? "cpu" : fmt::format("cuda:{}", device_);
}

Program Context::compile(std::string_view script, std::string_view filename) {
  const std::uint64_t h = rt::hash_text(script, rt::hash_text(filename));
  {
    std::lock_guard lock(impl_->eval_mu);
    if (auto it = impl_->compile_cache.find(h); it != impl_->compile_cache.end())
      for (const auto &e : it->second)
        if (e.text == script && e.filename == filename) return Program(e.impl);
  }
  auto t0 = std::chrono::steady_clock::now();
  SourceFile src{std::string(filename), std::string(script)};
  ir::Graph g = fe::compile_script(src);
  const double parse_ms = ms_since(t0);
  auto impl = build(std::move(g), std::string(filename), std::string(script), false, {},
                    impl_->options, impl_->cache, impl_->exec, parse_ms, impl_->options.eager,
                    impl_->cuda);
  std::lock_guard lock(impl_->eval_mu);
  if (++impl_->compile_entries > Impl::kMaxCachedPrograms) {
    impl_->compile_cache.clear();
    impl_->compile_entries = 1;
  }
  impl_->compile_cache[h].push_back({std::string(filename), std::string(script), impl});
  return Program(impl);
}

Array Context::eval(std::string_view expr, const Inputs &inputs) {
  // The signature of this call: per input its name, dtype and dims, each dim a literal 1 or the
  // number of its size among the call's distinct sizes other than 1 (in order of first
  // appearance), so equal extents unify and a 1 broadcasts. Computed into per-thread storage
  // and hashed: a cached call builds no string and allocates nothing here.
  thread_local std::vector<std::int64_t> sizes;
  thread_local std::vector<int> codes;
  sizes.clear();
  codes.clear();
  std::uint64_t h = rt::hash_text(expr);
  for (const auto &[name, a] : inputs) {
    h = rt::hash_combine(h, rt::hash_text(name));
    h = rt::hash_combine(h, (static_cast<std::uint64_t>(a.dtype()) << 8) |
                                static_cast<std::uint64_t>(a.rank()));
    for (std::int64_t n : a.shape()) {
      int code = -1;
      if (n != 1) {
        auto it = std::find(sizes.begin(), sizes.end(), n);
        code = static_cast<int>(it - sizes.begin());
        if (it == sizes.end()) sizes.push_back(n);
      }
      codes.push_back(code);
      h = rt::hash_combine(h, static_cast<std::uint64_t>(code + 1));
    }
  }
  auto matches = [&](const EvalEntry &e) {
    if (e.expr != expr || e.sig.size() != inputs.size()) return false;
    std::size_t i = 0, c = 0;
    for (const auto &[name, a] : inputs) {
      const EvalInputSig &s = e.sig[i++];
      if (s.name != name || s.dtype != a.dtype() || s.dims.size() != a.shape().size()) return false;
      for (int d : s.dims)
        if (d != codes[c++]) return false;
    }
    return true;
  };
  std::shared_ptr<const Program::Impl> impl;
  {
    std::lock_guard lock(impl_->eval_mu);
    if (auto it = impl_->eval_cache.find(h); it != impl_->eval_cache.end())
      for (const EvalEntry &e : it->second)
        if (matches(e)) {
          impl = e.impl;
          break;
        }
  }
  if (!impl) {
    EvalEntry entry;
    entry.expr = std::string(expr);
    std::vector<fe::Decl> decls;
    std::size_t c = 0;
    for (const auto &[name, a] : inputs) {
      fe::Decl d;
      d.name = name;
      d.type.dtype = a.dtype();
      EvalInputSig sig{name, a.dtype(), {}};
      for (std::size_t k = 0; k < a.shape().size(); ++k) {
        const int code = codes[c++];
        sig.dims.push_back(code);
        d.type.dims.push_back(code < 0 ? ir::Dim::fixed(1)
                                       : ir::Dim::symbol(fmt::format("d{}", code)));
      }
      entry.sig.push_back(std::move(sig));
      decls.push_back(std::move(d));
    }
    auto t0 = std::chrono::steady_clock::now();
    SourceFile src{"<expr>", std::string(expr)};
    ir::Graph g = fe::compile_expression(src, decls);
    const double parse_ms = ms_since(t0);
    impl = build(std::move(g), "<expr>", std::string(expr), true, decls, impl_->options,
                 impl_->cache, impl_->exec, parse_ms, false, impl_->cuda);
    entry.impl = impl;
    std::lock_guard lock(impl_->eval_mu);
    if (++impl_->eval_entries > Impl::kMaxCachedPrograms) {
      impl_->eval_cache.clear();
      impl_->eval_entries = 1;
    }
    impl_->eval_cache[h].push_back(std::move(entry));
  }
  if (!impl->cuda) reject_device_arrays(inputs, "input");
  if (impl->outputs.size() == 1 && !impl->cuda) {
    Array out;
    auto exec = impl->exec->get();
    if (rt::run_fast(impl->cp, impl->fast, *exec, inputs, {}, nullptr, &out)) return out;
  }
  return Program(impl).run_ordered(inputs).at(0);
}

} // namespace xpr
