// runtime/cuda/CudaExecute.cpp — one run of a fused plan on the GPU: shape binding, device
// buffers, transfers, kernel lookup (memory, then the disk cache's cubins, then PTX through the
// driver's JIT), launches configured from occupancy.
#include "runtime/cuda/CudaExecute.h"

#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/ReduceKernel.h"
#include "compiler/ir/Bind.h"
#include "runtime/DiskCache.h"
#include "runtime/Hash.h"
#include "runtime/KernelCache.h"
#include "runtime/Reduce.h"
#include "runtime/cuda/CudaDriver.h"

#include "CodegenFingerprint.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <tuple>
#include <unordered_map>

namespace xpr::rt::cuda {

using passes::BufferKind;
using passes::Plan;
using passes::Step;

namespace {

/// One MLIR context for the process's PTX compiles (the same as the CPU JIT: built once).
cg::GpuJit &gpu_jit() {
  static cg::GpuJit jit;
  return jit;
}

const char *layout_name(cg::Layout l) {
  switch (l) {
  case cg::Layout::Contiguous:
    return "contiguous";
  case cg::Layout::Scalar:
    return "scalar";
  case cg::Layout::Strided:
    return "strided";
  }
  return "?";
}

/// An array in device memory: `base` is where element offset 0 lives (it may point before the
/// allocation when strides are negative; only valid offsets are ever added to it).
struct DevView {
  CUdeviceptr base = 0;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape, strides;
};

std::vector<std::int64_t> c_strides(const std::vector<std::int64_t> &shape) {
  std::vector<std::int64_t> s(shape.size());
  std::int64_t acc = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    s[d] = acc;
    acc *= std::max<std::int64_t>(shape[d], 1);
  }
  return s;
}

/// Copies a contiguous host array into a view of any strides, element by element.
void scatter(const Array &src, const Array &dst) {
  const std::size_t es = static_cast<std::size_t>(dtype_size(src.dtype()));
  const std::int64_t n = src.size();
  const int r = dst.rank();
  std::vector<std::int64_t> idx(static_cast<std::size_t>(r), 0);
  const char *s = static_cast<const char *>(src.data());
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t off = 0;
    for (int d = 0; d < r; ++d)
      off += idx[static_cast<std::size_t>(d)] * dst.strides()[static_cast<std::size_t>(d)];
    std::memcpy(static_cast<char *>(dst.data()) + off * static_cast<std::int64_t>(es),
                s + i * static_cast<std::int64_t>(es), es);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<std::size_t>(d)] < dst.shape()[static_cast<std::size_t>(d)]) break;
      idx[static_cast<std::size_t>(d)] = 0;
    }
  }
}

/// What the GPU reduces: the reductions with a CPU reduce kernel, and argmin/argmax (GPU
/// kernels of their own). Anything else is refused before anything reaches the device.
void check_supported(const CompiledPlan &cp) {
  for (std::size_t s = 0; s < cp.plan.steps.size(); ++s) {
    const Step &st = cp.plan.steps[s];
    if (st.kind != Step::Kind::Reduce) continue;
    const ir::Graph &m = st.reduce.map.kernel;
    if (m.outputs.size() == 1 &&
        cg::gpu_reduce_supported(st.reduce.op, m.type(m.outputs[0].value).dtype))
      continue;
    throw Error(ErrorKind::Runtime,
                fmt::format("the cuda target does not run {} of {} yet; use the cpu target for it",
                            ir::op_name(st.reduce.op),
                            dtype_name(m.type(m.outputs.at(0).value).dtype)));
  }
}

/// A kernel loaded on a target, with what it was compiled from: a lookup compares the spec and
/// the kernel's whole text, so a collision of their hash can never pick the wrong kernel.
struct LoadedKernel {
  std::string text;
  cg::GpuKernelSpec spec;
  std::unique_ptr<Module> module;
  Function fn; ///< with its launch limits, asked of the driver once per loaded kernel
  int params = 0; ///< its parameter count (cg::gpu_param_count), which every launch checks

  /// Every field of the spec (a defaulted ==, so a field added later counts too) and the text.
  bool is(const KernelCode &code, const cg::GpuKernelSpec &s) const {
    return spec == s && text == code.text();
  }
  /// The lookup hash of (code, s): the text's hash (kept by KernelCode) combined with the spec.
  /// Computed on every launch, so it formats and allocates nothing.
  static std::uint64_t hash(const KernelCode &code, const cg::GpuKernelSpec &s) {
    std::uint64_t h = code.text_hash();
    const auto mix = [&h](std::uint64_t v) { h = hash_combine(h, v); };
    mix(static_cast<std::uint64_t>(s.spec.rank));
    mix(static_cast<std::uint64_t>(s.spec.precision));
    mix(s.index64 ? 1 : 0);
    mix(static_cast<std::uint64_t>(s.vector));
    for (cg::Layout l : s.spec.inputs)
      mix(static_cast<std::uint64_t>(l));
    mix(~std::uint64_t{0}); // inputs end here: [a, b] -> [] and [a] -> [b] differ
    for (cg::Layout l : s.spec.outputs)
      mix(static_cast<std::uint64_t>(l));
    return h;
  }
};

/// A target's stream, shared with the device arrays whose last use was queued on it: they wait
/// for it before their memory is freed, and other targets wait for it before they touch them.
struct Queue {
  std::shared_ptr<Device> devp; // before `stream`: a stream is destroyed in its device's context
  Stream stream;
  std::mutex mu;
  /// A buffer kept for queued work, with the Device it was allocated through: a device array
  /// of another context may be retired here, and its Device object must outlive the free.
  struct Held {
    std::shared_ptr<Device> devp; // before `buf`, so destroyed after it
    DeviceBuffer buf;
  };
  /// Temporaries of runs still queued (reduction partials, copies of overlapped inputs) and
  /// dropped device arrays they may use: freed once the stream has passed them, at the next sync.
  std::vector<Held> retired;
  std::size_t retired_bytes = 0;
  /// Whether runs were queued since the last wait: other queues then order their work on this
  /// one's arrays after it (Impl::claim). Set after the work is queued and cleared before a
  /// wait, so a race can only leave it set without need.
  std::atomic<bool> queued{false};

  explicit Queue(std::shared_ptr<Device> d) : devp(std::move(d)), stream(*devp) {}
  ~Queue() { sync_quietly(); }
  /// Waits for everything queued; a kernel's failure surfaces here as Error(Runtime).
  void sync() {
    std::lock_guard lock(mu);
    devp->use();
    queued = false;
    stream.sync();
    retired.clear();
    retired_bytes = 0;
  }
  /// The same for destructors: a failure was, or will be, reported by a sync that can throw.
  void sync_quietly() noexcept {
    try {
      sync();
    } catch (...) {
    }
  }
  /// Keeps `bufs` (allocated through `owner`) until the stream has passed the work queued so
  /// far; waits now when what is kept grows large, so that a long chain of queued runs cannot
  /// pile up device memory.
  void retire(std::vector<DeviceBuffer> &bufs, const std::shared_ptr<Device> &owner) {
    bool full;
    {
      std::lock_guard lock(mu);
      // Room first: if it cannot be had, nothing has moved and the caller still holds `bufs`.
      retired.reserve(retired.size() + bufs.size());
      for (DeviceBuffer &b : bufs) {
        retired_bytes += b.bytes();
        retired.push_back(Held{owner, std::move(b)});
      }
      bufs.clear();
      full = retired_bytes > kRetiredBytes || retired.size() > kRetiredBuffers;
    }
    if (full) sync();
  }
  /// The same for one buffer, from a destructor. Without host memory to keep it, it waits for
  /// the stream instead: `b`, or `one`, is then freed after the work that may use it.
  void retire_quietly(DeviceBuffer &b, const std::shared_ptr<Device> &owner) noexcept {
    std::vector<DeviceBuffer> one;
    try {
      one.push_back(std::move(b));
      retire(one, owner);
    } catch (...) {
      sync_quietly();
    }
  }
  static constexpr std::size_t kRetiredBytes = std::size_t{256} << 20;
  static constexpr std::size_t kRetiredBuffers = 1024;
};

/// The memory of a device array (its Array's owner) and the stream of its last use.
struct DeviceMemory {
  std::shared_ptr<Device> devp; // before `buf`: memory is freed in its device's context
  DeviceBuffer buf;
  std::mutex mu;
  std::weak_ptr<Queue> user; // the queue of the last run that read or wrote it
  DeviceMemory(std::shared_ptr<Device> d, std::size_t bytes)
      : devp(std::move(d)), buf(*devp, bytes) {}
  ~DeviceMemory() {
    // Queued work may still read or write it: the stream frees it once past that work, so that
    // dropping the intermediates of a chain of queued runs does not wait. A stream that is gone
    // has finished its work.
    if (std::shared_ptr<Queue> q = user.lock()) q->retire_quietly(buf, devp);
  }
};

} // namespace
} // namespace xpr::rt::cuda

namespace xpr::detail {
/// Makes the device arrays of runtime/cuda: C-contiguous, owning their memory through `owner`.
struct ArrayFactory {
  static Array on_device(std::uint64_t ptr, DType dtype, std::vector<std::int64_t> shape,
                         std::shared_ptr<void> owner, int device) {
    Array a;
    a.dtype_ = dtype;
    a.strides_ = rt::cuda::c_strides(shape);
    a.shape_ = std::move(shape);
    a.data_ = reinterpret_cast<void *>(static_cast<std::uintptr_t>(ptr));
    a.owner_ = std::move(owner);
    a.device_ = device;
    return a;
  }
  /// What on_device() gave `a` as its owner.
  static void *owner(const Array &a) { return a.owner_.get(); }
};
} // namespace xpr::detail

namespace xpr::rt::cuda {

struct CudaTarget::Impl {
  // Shared with the device arrays this target makes: their memory is freed in the device's
  // context, which may be after the target is gone.
  std::shared_ptr<Device> devp;
  Device &dev;
  std::shared_ptr<Queue> queue;
  const Stream &stream; // queue's
  int sm;
  std::mutex mu;
  /// By LoadedKernel::hash. Not by key(): formatting the key, the kernel's text included, was
  /// a sixth of a small run's host time. Nodes keep their address: get() returns references.
  std::unordered_multimap<std::uint64_t, LoadedKernel> kernels;
  std::string ptx_target;                      // GpuJit's description of the target, once
  explicit Impl(int device)
      : devp(std::make_shared<Device>(device)), dev(*devp), queue(std::make_shared<Queue>(devp)),
        stream(queue->stream), sm(cg::gpu_target_sm(dev.compute_capability())),
        ptx_target(gpu_jit().target_description(sm)) {}
  // Queued runs finish before the kernels they launch are unloaded.
  ~Impl() { queue->sync_quietly(); }

  /// The key of a compiled kernel: everything that shapes its cubin.
  std::string key(const KernelCode &code, const cg::GpuKernelSpec &s) const {
    std::string layouts;
    for (cg::Layout l : s.spec.inputs)
      layouts += std::string(layout_name(l)) + " ";
    layouts += "->";
    for (cg::Layout l : s.spec.outputs)
      layouts += std::string(" ") + layout_name(l);
    return fmt::format("target: cuda\nsm: {}\ndevice: {} (cc {})\ndriver: {}\nptx-target: {}\n"
                       "codegen: {}\nprecision: {}\nrank: {}\nlayouts: {}\nindex64: {}\n"
                       "vector: {}\nkernel-hash: {:016x}\nkernel:\n{}",
                       sm, dev.name(), dev.compute_capability(), dev.driver().version(), ptx_target,
                       XPR_CODEGEN_FINGERPRINT,
                       s.spec.precision == cg::Precision::Fast ? "fast" : "accurate", s.spec.rank,
                       layouts, s.index64 ? 1 : 0, s.vector, code.text_hash(), code.text());
  }

  /// A device array owning a new buffer of `dtype`[shape] (its memory freed in the device's
  /// context when the last copy of the Array goes, whenever that is).
  Array device_array(DType dtype, const std::vector<std::int64_t> &shape) {
    std::int64_t n = 1;
    for (auto e : shape)
      n *= e;
    auto mem =
        std::make_shared<DeviceMemory>(devp, static_cast<std::size_t>(n * dtype_size(dtype)));
    mem->user = queue;
    const CUdeviceptr ptr = mem->buf.ptr();
    return detail::ArrayFactory::on_device(ptr, dtype, shape, std::move(mem), dev.ordinal());
  }
  /// Before this target queues work on device array `a`: work another target queued on it
  /// comes first (this stream waits on the GPU for what the other has queued so far; the host
  /// does not wait), and `a`'s last use becomes this stream's. Memory retired to this stream
  /// is then freed only after the other's work on it too, since this stream runs after it.
  void claim(const Array &a) {
    if (!a.on_device()) return;
    auto &m = *static_cast<DeviceMemory *>(detail::ArrayFactory::owner(a));
    std::lock_guard lock(m.mu);
    std::shared_ptr<Queue> last = m.user.lock();
    if (last && last != queue && last->queued) stream.wait_for(last->stream);
    m.user = queue;
  }
  /// Throws unless `a` is a host array or on this device. The error names the array as `what`
  /// with `name` in place of its "{}": formatted only when it throws, not on every run.
  void check_device(const Array &a, std::string_view what, std::string_view name = {}) const {
    if (a.on_device() && a.device() != dev.ordinal())
      throw Error(ErrorKind::Runtime,
                  fmt::format("{} is on cuda:{}, but this context runs on cuda:{}",
                              fmt::format(fmt::runtime(what), name), a.device(), dev.ordinal()));
  }

  /// The kernels that combine partials, by (op, value dtype).
  std::map<std::pair<ir::Op, DType>, std::shared_ptr<const KernelCode>> combine_codes;
  /// argmin/argmax first passes (they have no CPU reduce kernel in the plan), by op and map
  /// kernel text: made once per target, not once per run.
  std::map<std::pair<ir::Op, std::string>, std::shared_ptr<const KernelCode>> arg_codes;
  /// The kernels that finish a reduction (the mean's division, the output cast), by (op, result
  /// dtype, output dtype). The mean's count is their program param 0.
  std::map<std::tuple<ir::Op, DType, DType>, std::shared_ptr<const KernelCode>> finish_codes;

  void run_elementwise(const KernelCode &code, const std::vector<std::int64_t> &iter,
                       const std::vector<const DevView *> &ins,
                       const std::vector<const DevView *> &outs,
                       const std::vector<std::uint64_t> &slots, cg::Precision precision,
                       const CacheConfig &cfg);
  void run_reduce(const CompiledPlan &cp, std::size_t step, std::vector<DevView> &views,
                  std::vector<DeviceBuffer> &owned, const std::vector<std::uint64_t> &slots,
                  const ir::SymbolSizes &syms);
  void launch_with(const LoadedKernel &k, std::vector<std::uint64_t> &vals, LaunchConfig lc);
  static void append_slots(std::vector<std::uint64_t> &vals, const KernelCode &code,
                           const std::vector<std::uint64_t> &slots);

  /// The kernel for `code` and `s`, loaded once per target (a reference into `kernels`).
  const LoadedKernel &get(const KernelCode &code, const cg::GpuKernelSpec &s,
                          const CacheConfig &cfg) {
    const std::uint64_t lh = LoadedKernel::hash(code, s);
    for (auto [it, end] = kernels.equal_range(lh); it != end; ++it)
      if (it->second.is(code, s)) return it->second;
    const std::string k = key(code, s);
    const std::uint64_t h = hash_text(k);
    const std::string name = "xpr_gpu_kernel";
    LoadedKernel lk{code.text(), s, nullptr, {}, cg::gpu_param_count(code.kernel(), s.spec)};
    if (cfg.disk) {
      disk::ReadResult r = disk::read(cfg.dir, k, h);
      if (r.status == disk::ReadStatus::Hit) {
        try {
          lk.module = Module::from_cubin(dev, r.payload);
        } catch (const Error &) {
          lk.module.reset(); // a cubin the driver refuses is recompiled, never trusted
        }
      }
    }
    if (!lk.module) {
      cg::GpuKernel gk{&code.kernel(), s, name};
      std::string ptx = gpu_jit().compile_ptx({gk}, sm);
      std::string cubin;
      lk.module = Module::from_ptx(dev, ptx, &cubin);
      if (cfg.disk) {
        disk::write(cfg.dir, k, h, cubin);
        disk::evict(cfg.dir, cfg.max_bytes);
      }
    }
    lk.fn = lk.module->function(name);
    return kernels.emplace(lh, std::move(lk))->second;
  }
};

/// Launches the elementwise kernel `code` over `iter` (non-empty) on device arrays: each operand
/// mapped onto the iteration space as on the CPU, 32-bit indexing where every index fits, vector
/// loads where every contiguous operand is aligned to the whole vector.
void CudaTarget::Impl::run_elementwise(const KernelCode &code,
                                       const std::vector<std::int64_t> &iter,
                                       const std::vector<const DevView *> &ins,
                                       const std::vector<const DevView *> &outs,
                                       const std::vector<std::uint64_t> &slots,
                                       cg::Precision precision, const CacheConfig &cfg) {
  std::int64_t total = 1;
  for (auto e : iter)
    total *= e;
  cg::GpuKernelSpec gs;
  gs.spec.rank = static_cast<int>(iter.size());
  gs.spec.precision = precision;
  // The arguments in the kernel's order: the operands' pointers first. Sized once: a run's host
  // time is a few small allocations, and growing these one value at a time doubled them.
  const std::size_t nops = ins.size() + outs.size();
  std::vector<std::uint64_t> vals, strided;
  vals.reserve(nops + code.slots().size() + iter.size() * (1 + nops) + 1);
  strided.reserve(iter.size() * nops);
  std::vector<std::int64_t> elem_size; // per operand, for the alignment test
  elem_size.reserve(nops);
  gs.spec.inputs.reserve(ins.size());
  gs.spec.outputs.reserve(outs.size());
  std::int64_t max_off = total;
  auto add = [&](const DevView &v, bool output) {
    OperandMap m = map_operand(v.shape, v.strides, iter);
    if (output && m.layout == cg::Layout::Scalar) m.layout = cg::Layout::Contiguous;
    if (gs.spec.rank == 0 && m.layout == cg::Layout::Strided) m.layout = cg::Layout::Contiguous;
    (output ? gs.spec.outputs : gs.spec.inputs).push_back(m.layout);
    vals.push_back(v.base);
    elem_size.push_back(m.layout == cg::Layout::Contiguous ? dtype_size(v.dtype) : 0);
    if (m.layout == cg::Layout::Strided) {
      std::int64_t off = 0;
      for (std::size_t d = 0; d < iter.size(); ++d) {
        off += std::abs(m.strides[d]) * (iter[d] - 1);
        strided.push_back(static_cast<std::uint64_t>(m.strides[d]));
      }
      max_off = std::max(max_off, off);
    }
  };
  for (const DevView *v : ins)
    add(*v, false);
  for (const DevView *v : outs)
    add(*v, true);
  // 32-bit indexing while every index and offset fits (the grid-stride step too).
  gs.index64 = max_off >= (std::int64_t{1} << 30);
  // Vector loads where every contiguous operand is aligned to the whole vector (device
  // allocations are; views into the middle of an input may not be).
  gs.vector = cg::gpu_vector_width(code.kernel(), gs.spec);
  for (std::size_t k = 0; k < nops && gs.vector > 1; ++k)
    if (elem_size[k] && vals[k] % static_cast<std::uint64_t>(gs.vector * elem_size[k]) != 0)
      gs.vector = 1;
  const LoadedKernel &k = get(code, gs, cfg);

  append_slots(vals, code, slots);
  for (auto e : iter)
    vals.push_back(static_cast<std::uint64_t>(e));
  vals.insert(vals.end(), strided.begin(), strided.end());
  vals.push_back(static_cast<std::uint64_t>(total));
  launch_with(k, vals, launch_config(k.fn, total));
}

void CudaTarget::Impl::launch_with(const LoadedKernel &k, std::vector<std::uint64_t> &vals,
                                   LaunchConfig lc) {
  if (static_cast<int>(vals.size()) != k.params)
    throw Error(ErrorKind::Internal, "cuda: kernel argument count mismatch");
  std::vector<void *> args(vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i)
    args[i] = &vals[i];
  launch(stream, k.fn, lc, args.data());
}

void CudaTarget::Impl::append_slots(std::vector<std::uint64_t> &vals, const KernelCode &code,
                                    const std::vector<std::uint64_t> &slots) {
  for (const KernelCode::Slot &sl : code.slots())
    vals.push_back(sl.program_param >= 0 ? slots.at(static_cast<std::size_t>(sl.program_param))
                                         : sl.literal);
}

/// One reduce step: the map fused into the first pass of reduce kernels over [rows, n] (the
/// kept dims in order, then the reduced ones), further passes over the partials while a row
/// has more than one chunk, then the mean's division and the output dtype where they apply.
void CudaTarget::Impl::run_reduce(const CompiledPlan &cp, std::size_t step,
                                  std::vector<DevView> &views, std::vector<DeviceBuffer> &owned,
                                  const std::vector<std::uint64_t> &slots,
                                  const ir::SymbolSizes &syms) {
  const passes::ReduceStep &r = cp.plan.steps[step].reduce;
  const passes::KernelStep &mk = r.map;
  const bool arg = cg::is_arg_reduce(r.op);
  const KernelCode *code = reduce_kernel_code(cp, step);
  // argmin/argmax have no CPU reduce kernel (and CPU reduce kernels can be switched off):
  // the GPU's first pass is then made here, as make_reduce_code makes the CPU's, and kept.
  // The same map text gives the same kernel and param slots whatever the step's index.
  if (!code) {
    std::shared_ptr<const KernelCode> &own = arg_codes[{r.op, cp.kernel_text.at(step)}];
    if (!own) {
      passes::KernelStep ks = mk;
      ks.kernel = cg::make_reduce_kernel(mk.kernel, r.op);
      own = std::make_shared<const KernelCode>(ks, static_cast<int>(step));
    }
    code = own.get();
  }
  const DType value = mk.kernel.type(mk.kernel.outputs.at(0).value).dtype;
  // argmin/argmax partials carry values in their compute type (halves compare in f32) beside
  // i64 indices; the result is the index.
  const DType vt = cg::reduce_partial_dtype(r.op, value);
  const DType result = arg ? DType::I64 : value;
  const std::vector<std::int64_t> S = ir::concrete_shape(ir::Type{DType::Bool, mk.iter_dims}, syms);
  const int rank = static_cast<int>(S.size());
  std::vector<bool> red(static_cast<std::size_t>(rank), false);
  for (int a : r.axes) {
    if (a < 0 || a >= rank) throw Error(ErrorKind::Internal, "cuda: reduction axis out of range");
    red[static_cast<std::size_t>(a)] = true;
  }
  std::vector<int> perm;
  for (int pass = 0; pass < 2; ++pass)
    for (int d = 0; d < rank; ++d)
      if (red[static_cast<std::size_t>(d)] == (pass == 1)) perm.push_back(d);
  std::int64_t rows = 1, n = 1;
  std::vector<std::int64_t> P;
  for (int d : perm) {
    P.push_back(S[static_cast<std::size_t>(d)]);
    (red[static_cast<std::size_t>(d)] ? n : rows) *= P.back();
  }
  check_reduce_extent(r.op, n);
  if (rows == 0) return;

  // The map's inputs over the permuted space.
  cg::GpuKernelSpec gs;
  gs.spec.rank = rank;
  gs.spec.precision = cp.precision;
  std::vector<std::uint64_t> ptrs, strided;
  std::int64_t max_off = rows * std::max<std::int64_t>(n, 1);
  // A column reduction: some input has its rows adjacent in memory (unit stride on the innermost
  // kept dim, 16 rows or more side by side), so the first pass runs the column schedule, whose
  // warps load 32 rows' values at once, rather than one value from each of 32 rows.
  const auto kept = static_cast<std::size_t>(std::count(red.begin(), red.end(), false));
  bool columns = false;
  for (int b : mk.inputs) {
    const DevView &v = views[static_cast<std::size_t>(b)];
    OperandMap om = map_operand(v.shape, v.strides, S);
    std::vector<std::int64_t> st;
    for (int d : perm)
      st.push_back(om.strides[static_cast<std::size_t>(d)]);
    cg::Layout l = om.layout == cg::Layout::Scalar ? cg::Layout::Scalar
                                                   : map_operand(P, st, P).layout;
    if (rank == 0 && l == cg::Layout::Strided) l = cg::Layout::Contiguous;
    if (l == cg::Layout::Strided && kept > 0 && std::abs(st[kept - 1]) == 1 &&
        P[kept - 1] >= cg::kGpuReduceColumnRows / 2)
      columns = true;
    gs.spec.inputs.push_back(l);
    ptrs.push_back(v.base);
    if (l == cg::Layout::Strided) {
      std::int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        off += std::abs(st[static_cast<std::size_t>(d)]) * (P[static_cast<std::size_t>(d)] - 1);
        strided.push_back(static_cast<std::uint64_t>(st[static_cast<std::size_t>(d)]));
      }
      max_off = std::max(max_off, off);
    }
  }
  const std::vector<cg::Layout> partial_layouts(arg ? 2 : 1, cg::Layout::Contiguous);
  gs.spec.outputs = partial_layouts;

  DevView &dst = views[static_cast<std::size_t>(r.output)];
  // The last pass writes the output itself unless a division or a cast follows.
  const bool direct = r.op != ir::Op::Mean && dst.dtype == result;
  auto chunks_of = [](std::int64_t len) {
    return std::max<std::int64_t>(1, (len + cg::kGpuReduceChunk - 1) / cg::kGpuReduceChunk);
  };
  auto scratch = [&](std::int64_t count, DType t) {
    owned.emplace_back(dev, static_cast<std::size_t>(count * dtype_size(t)));
    return owned.back().ptr();
  };
  // Where a pass with `chunks` chunks per row stores: the values (and argmin/argmax's indices).
  auto targets = [&](std::int64_t chunks) {
    const bool last = chunks == 1 && direct;
    std::vector<std::uint64_t> t{!arg && last ? dst.base : scratch(rows * chunks, vt)};
    if (arg) t.push_back(last ? dst.base : scratch(rows * chunks, DType::I64));
    return t;
  };
  auto run_pass = [&](const KernelCode &kc, cg::GpuKernelSpec spec, std::vector<std::uint64_t> vals,
                      const std::vector<std::int64_t> &shape, const std::vector<std::uint64_t> &st,
                      std::int64_t len, std::int64_t chunks, std::int64_t biggest,
                      bool column_schedule) {
    const std::int64_t units = rows * chunks;
    spec.index64 = std::max(biggest, units) >= (std::int64_t{1} << 30);
    const LoadedKernel &k = get(kc, spec, *cp.cache);
    const Function &f = k.fn;
    for (auto e : shape)
      vals.push_back(static_cast<std::uint64_t>(e));
    vals.insert(vals.end(), st.begin(), st.end());
    const std::int64_t clen = (len + chunks - 1) / chunks;
    for (std::int64_t x : {len, units, chunks, std::max<std::int64_t>(clen, 1)})
      vals.push_back(static_cast<std::uint64_t>(x));
    // Short chunks: a warp per unit, or per 32 / 2^⌈log2 clen⌉ units for chunks of at most 32
    // values (the same bits, GpuJit.h), 4 warps per block.
    const std::int64_t c1 = std::max<std::int64_t>(clen, 1);
    const bool warps = cg::gpu_reduce_warp_schedule(c1);
    int threads = warps ? cg::kGpuReduceWarpBlock : cg::kGpuReduceThreads;
    const std::int64_t per_block = threads / 32 * cg::gpu_reduce_units_per_warp(c1);
    std::int64_t blocks = warps ? (units + per_block - 1) / per_block : units;
    // Chunks of at most 32 values would leave 14 of the column schedule's 16 warps without a
    // value (only the block schedule's first 32 threads have one): the segments serve them.
    // Fewer groups of 32 rows than multiprocessors would leave some idle: the block schedule
    // then keeps them busy, its extra sectors partly served from L2. A kernel with too many
    // registers for 512 threads a block keeps the other schedules.
    const std::int64_t groups =
        (rows + cg::kGpuReduceColumnRows - 1) / cg::kGpuReduceColumnRows * chunks;
    if (column_schedule && c1 > cg::kGpuReduceSegmentMax && groups >= dev.multiprocessors() &&
        f.max_block_threads() >= cg::kGpuReduceColumnBlock) {
      threads = cg::kGpuReduceColumnBlock;
      blocks = groups;
    }
    launch_with(k, vals,
                launch_config_blocks(f, blocks, static_cast<unsigned>(threads),
                                     cg::gpu_reduce_shared_bytes(threads, arg)));
  };

  // Pass 1: the map, fused.
  std::int64_t len = n, chunks = chunks_of(n);
  std::vector<std::uint64_t> outs = targets(chunks);
  {
    std::vector<std::uint64_t> vals = ptrs;
    vals.insert(vals.end(), outs.begin(), outs.end());
    append_slots(vals, *code, slots);
    run_pass(*code, gs, std::move(vals), P, strided, len, chunks, max_off, columns);
  }
  // Further passes over the partials, [rows, chunks] each.
  while (chunks > 1) {
    auto &cc = combine_codes[{r.op, vt}];
    if (!cc) {
      passes::KernelStep ks;
      ks.kernel = cg::make_combine_kernel(r.op, vt);
      cc = std::make_shared<const KernelCode>(ks, 0);
    }
    len = chunks;
    chunks = chunks_of(len);
    std::vector<std::uint64_t> vals = outs;
    outs = targets(chunks);
    vals.insert(vals.end(), outs.begin(), outs.end());
    cg::GpuKernelSpec spec;
    spec.spec.rank = 1;
    spec.spec.precision = cp.precision;
    spec.spec.inputs = partial_layouts;
    spec.spec.outputs = partial_layouts;
    run_pass(*cc, spec, std::move(vals), {rows * len}, {}, len, chunks, rows * len, false);
  }
  if (direct) return;
  // The mean's division and the cast to the output dtype, as the CPU's put().
  auto &fc = finish_codes[{r.op, result, dst.dtype}];
  if (!fc) {
    passes::KernelStep ks;
    ks.kernel = cg::make_finish_kernel(r.op, result, dst.dtype);
    if (r.op == ir::Op::Mean) ks.params = {0};
    fc = std::make_shared<const KernelCode>(ks, 0);
  }
  std::uint64_t count = 0;
  const double nd = static_cast<double>(n);
  std::memcpy(&count, &nd, sizeof nd);
  DevView res{outs.back(), result, {rows}, {1}};
  DevView to{dst.base, dst.dtype, {rows}, {1}};
  run_elementwise(*fc, {rows}, {&res}, {&to}, {count}, cp.precision, *cp.cache);
}

CudaTarget::CudaTarget(int device) : impl_(std::make_unique<Impl>(device)) {}
CudaTarget::~CudaTarget() = default;

std::string CudaTarget::description() const {
  return fmt::format("cuda:{} ({}, sm_{})", impl_->dev.ordinal(), impl_->dev.name(),
                     impl_->dev.compute_capability());
}

int CudaTarget::target_sm() const { return impl_->sm; }

std::vector<Array> CudaTarget::execute(const CompiledPlan &cp,
                                       const std::map<std::string, Array> &inputs,
                                       const std::map<std::string, Scalar> &params,
                                       const std::vector<Array> *targets) {
  Impl &I = *impl_;
  const Plan &p = cp.plan;
  check_supported(cp);
  const ir::SymbolSizes syms = ir::bind_shapes(p.graph, inputs);
  if (targets && targets->size() != p.output_buffers.size())
    throw Error(ErrorKind::Runtime, fmt::format("run_into: the program has {} output(s), {} given",
                                                p.output_buffers.size(), targets->size()));
  // Device inputs are read in place; with any of them, new outputs stay on the device.
  bool device_outputs = false, host_inputs = false;
  for (int i : p.input_buffers) {
    const auto &buf = p.buffers[static_cast<std::size_t>(i)];
    const Array &a = inputs.at(buf.name);
    I.check_device(a, "input '{}'", buf.name);
    device_outputs = device_outputs || a.on_device();
    host_inputs = host_inputs || !a.on_device();
  }
  if (targets)
    for (std::size_t o = 0; o < targets->size(); ++o)
      I.check_device((*targets)[o], "run_into's output '{}'",
                     p.buffers[static_cast<std::size_t>(p.output_buffers[o])].name);
  std::lock_guard lock(I.mu);
  I.dev.use();
  // Device arrays another context queued work on: that work finishes first.
  for (int i : p.input_buffers)
    I.claim(inputs.at(p.buffers[static_cast<std::size_t>(i)].name));
  if (targets)
    for (const Array &t : *targets)
      I.claim(t);

  std::vector<DeviceBuffer> owned;
  // If the run throws, work already queued may use the temporaries about to be freed (this
  // guard goes before `owned` does) and read host inputs: wait for it first.
  struct WaitOnThrow {
    Queue &q;
    int before = std::uncaught_exceptions();
    ~WaitOnThrow() {
      if (std::uncaught_exceptions() > before) q.sync_quietly();
    }
  } wait_on_throw{*I.queue};
  std::vector<DevView> views(p.buffers.size());
  std::vector<Array> out(p.output_buffers.size());
  std::vector<bool> on_device(p.output_buffers.size(), false); // written in place, no copy back
  for (std::size_t i = 0; i < p.buffers.size(); ++i) {
    const auto &buf = p.buffers[i];
    DevView &v = views[i];
    v.dtype = buf.type.dtype;
    const std::int64_t es = dtype_size(buf.type.dtype);
    if (buf.kind == BufferKind::Input) {
      const Array &a = inputs.at(buf.name);
      v.shape = a.shape();
      v.strides = a.strides();
      const ElementExtent e = element_extent(a);
      if (a.on_device()) {
        v.base = static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(a.data()));
        // A device input that a device output overlaps is read from a copy, so that every
        // input is as it was before the run (on the host, the staging copy does this).
        bool overlapped = false;
        if (targets)
          for (const Array &t : *targets)
            overlapped = overlapped || (t.on_device() && overlaps(a, t));
        if (overlapped) {
          const std::size_t bytes = static_cast<std::size_t>((e.hi - e.lo) * es);
          owned.emplace_back(I.dev, bytes);
          I.stream.copy(owned.back().ptr(), v.base + static_cast<CUdeviceptr>(e.lo * es), bytes);
          v.base = owned.back().ptr() - static_cast<CUdeviceptr>(e.lo * es);
        }
        continue;
      }
      // A host input's extent in memory goes over as it is, strides and all: the kernel sees
      // the same layout as on the CPU, and no gather runs on the host.
      const std::size_t bytes = static_cast<std::size_t>((e.hi - e.lo) * es);
      owned.emplace_back(I.dev, bytes);
      I.stream.to_device(owned.back().ptr(), static_cast<const char *>(a.data()) + e.lo * es,
                         bytes);
      v.base = owned.back().ptr() - static_cast<CUdeviceptr>(e.lo * es);
      continue;
    }
    v.shape = ir::concrete_shape(buf.type, syms);
    v.strides = c_strides(v.shape);
    if (buf.kind == BufferKind::Output && targets) {
      const Array &t = (*targets)[static_cast<std::size_t>(buf.index)];
      if (!t.valid() || t.dtype() != buf.type.dtype || t.shape() != v.shape)
        throw Error(ErrorKind::Runtime,
                    fmt::format("run_into: output '{}' must be {}[{}] (declared {}), but the "
                                "array given is {}[{}]",
                                buf.name, dtype_name(buf.type.dtype), fmt::join(v.shape, ", "),
                                ir::to_string(buf.type), dtype_name(t.dtype()),
                                fmt::join(t.shape(), ", ")));
      if (t.on_device()) {
        // Device arrays are C-contiguous (to_device and runs make no others).
        v.base = static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(t.data()));
        out[static_cast<std::size_t>(buf.index)] = t;
        on_device[static_cast<std::size_t>(buf.index)] = true;
        continue;
      }
    } else if (buf.kind == BufferKind::Output && device_outputs) {
      Array d = I.device_array(buf.type.dtype, v.shape);
      v.base = static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(d.data()));
      out[static_cast<std::size_t>(buf.index)] = d;
      on_device[static_cast<std::size_t>(buf.index)] = true;
      continue;
    }
    std::int64_t n = 1;
    for (auto e : v.shape)
      n *= e;
    owned.emplace_back(I.dev, static_cast<std::size_t>(n * es));
    v.base = owned.back().ptr();
  }

  const std::vector<std::uint64_t> slots = pack_params(p, params);

  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    if (p.steps[s].kind == Step::Kind::Reduce) {
      I.run_reduce(cp, s, views, owned, slots, syms);
      continue;
    }
    const passes::KernelStep &ks = p.steps[s].kernel;
    std::vector<std::int64_t> iter = ir::concrete_shape(ir::Type{DType::Bool, ks.iter_dims}, syms);
    if (std::find(iter.begin(), iter.end(), 0) != iter.end()) continue;
    std::vector<const DevView *> ins, outs;
    ins.reserve(ks.inputs.size());
    outs.reserve(ks.outputs.size());
    for (int b : ks.inputs)
      ins.push_back(&views[static_cast<std::size_t>(b)]);
    for (int b : ks.outputs)
      outs.push_back(&views[static_cast<std::size_t>(b)]);
    I.run_elementwise(*cp.code[s], iter, ins, outs, slots, cp.precision, *cp.cache);
  }

  // A run on device arrays only is queued and returns: the stream keeps its order, and whatever
  // needs its results (to_host, a run with host arrays, synchronize) waits for it.
  if (!host_inputs && std::all_of(on_device.begin(), on_device.end(), [](bool d) { return d; })) {
    I.queue->queued = true;
    I.queue->retire(owned, I.devp);
    return out;
  }
  // Host results back: into fresh arrays, or into the caller's (any strides). Device results
  // are already where they belong.
  std::vector<Array> staged(p.output_buffers.size());
  for (std::size_t o = 0; o < p.output_buffers.size(); ++o) {
    if (on_device[o]) continue;
    const std::size_t b = static_cast<std::size_t>(p.output_buffers[o]);
    const DevView &v = views[b];
    Array dst;
    if (targets && (*targets)[o].is_contiguous())
      dst = (*targets)[o];
    else
      dst = Array::empty(v.dtype, v.shape);
    I.stream.to_host(dst.data(), v.base,
                     static_cast<std::size_t>(dst.size() * dtype_size(v.dtype)));
    staged[o] = dst;
  }
  I.queue->sync(); // a kernel's failure surfaces here, before anything is returned
  for (std::size_t o = 0; o < staged.size(); ++o) {
    if (on_device[o]) continue;
    if (targets) {
      const Array &t = (*targets)[o];
      if (staged[o].data() != t.data()) scatter(staged[o], t);
      out[o] = t;
    } else {
      out[o] = staged[o];
    }
  }
  return out;
}

void CudaTarget::synchronize() { impl_->queue->sync(); }

Array CudaTarget::to_device(const Array &a) {
  Impl &I = *impl_;
  I.check_device(a, "the array");
  if (a.on_device()) return a;
  const Array src = a.is_contiguous() ? a : a.contiguous_copy();
  std::lock_guard lock(I.mu);
  Array d = I.device_array(a.dtype(), a.shape());
  I.stream.to_device(static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(d.data())),
                     src.data(), static_cast<std::size_t>(a.size() * dtype_size(a.dtype())));
  I.queue->sync(); // `src` may go as soon as this returns
  return d;
}

Array CudaTarget::to_host(const Array &a) {
  Impl &I = *impl_;
  I.check_device(a, "the array");
  if (!a.on_device()) return a;
  Array h = Array::empty(a.dtype(), a.shape());
  std::lock_guard lock(I.mu);
  I.dev.use();
  I.claim(a);
  I.stream.to_host(h.data(), static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(a.data())),
                   static_cast<std::size_t>(a.size() * dtype_size(a.dtype())));
  I.queue->sync(); // this run's kernels, and any queued before it, fail here if they failed
  return h;
}

std::string emit_ptx(const CompiledPlan &cp, int sm, cg::GpuTimings *timings) {
  std::string outp;
  std::vector<cg::GpuKernel> ks;
  std::deque<ir::Graph> arg_kernels; // argmin/argmax: the GPU's own reduce kernels
  for (std::size_t s = 0; s < cp.plan.steps.size(); ++s) {
    const Step &st = cp.plan.steps[s];
    const bool is_reduce = st.kind == Step::Kind::Reduce;
    const bool arg = is_reduce && cg::is_arg_reduce(st.reduce.op);
    const KernelCode *code = is_reduce ? reduce_kernel_code(cp, s) : cp.code[s].get();
    const ir::Graph *graph = code ? &code->kernel() : nullptr;
    if (!graph && arg)
      graph = &arg_kernels.emplace_back(cg::make_reduce_kernel(st.reduce.map.kernel, st.reduce.op));
    if (!graph) {
      outp += fmt::format("// step {}: {} reduction: not run by the cuda target yet\n", s,
                          ir::op_name(st.reduce.op));
      continue;
    }
    // A reduce step shows its first pass (the map fused into the block reduction) for a row of
    // contiguous values.
    const passes::KernelStep &kst = is_reduce ? st.reduce.map : st.kernel;
    cg::GpuKernel k;
    k.kernel = graph;
    k.spec.spec.rank = static_cast<int>(kst.iter_dims.size());
    k.spec.spec.precision = cp.precision;
    for (int b : kst.inputs)
      k.spec.spec.inputs.push_back(cp.plan.buffers[static_cast<std::size_t>(b)].type.rank() == 0 &&
                                           k.spec.spec.rank > 0
                                       ? cg::Layout::Scalar
                                       : cg::Layout::Contiguous);
    k.spec.spec.outputs.assign(is_reduce ? (arg ? 2 : 1) : kst.outputs.size(),
                               cg::Layout::Contiguous);
    k.spec.index64 = false;
    k.spec.vector = is_reduce ? 1 : cg::gpu_vector_width(*k.kernel, k.spec.spec);
    k.name = fmt::format("k{}", s);
    ks.push_back(std::move(k));
  }
  if (!ks.empty()) outp += gpu_jit().compile_ptx(ks, sm, timings);
  return outp;
}

} // namespace xpr::rt::cuda
