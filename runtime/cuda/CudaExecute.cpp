// runtime/cuda/CudaExecute.cpp — one run of a fused plan on the GPU: shape binding, device
// buffers, transfers, kernel lookup (memory, then the disk cache's cubins, then PTX through the
// driver's JIT), launches configured from occupancy.
#include "runtime/cuda/CudaExecute.h"

#include "compiler/codegen/GpuJit.h"
#include "compiler/ir/Bind.h"
#include "runtime/DiskCache.h"
#include "runtime/Hash.h"
#include "runtime/KernelCache.h"
#include "runtime/cuda/CudaDriver.h"

#include "CodegenFingerprint.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

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

struct LoadedKernel {
  std::unique_ptr<Module> module;
  CUfunction fn = nullptr;
};

} // namespace

struct CudaTarget::Impl {
  Device dev;
  Stream stream;
  int sm;
  std::mutex mu;
  std::map<std::string, LoadedKernel> kernels; // by key text
  std::string ptx_target;                      // GpuJit's description of the target, once
  explicit Impl(int device)
      : dev(device), stream(dev), sm(cg::gpu_target_sm(dev.compute_capability())),
        ptx_target(gpu_jit().target_description(sm)) {}

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

  CUfunction get(const KernelCode &code, const cg::GpuKernelSpec &s, const CacheConfig &cfg) {
    const std::string k = key(code, s);
    if (auto it = kernels.find(k); it != kernels.end()) return it->second.fn;
    const std::uint64_t h = hash_text(k);
    const std::string name = "xpr_gpu_kernel";
    LoadedKernel lk;
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
    CUfunction f = lk.fn;
    kernels.emplace(k, std::move(lk));
    return f;
  }
};

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
  for (const Step &st : p.steps)
    if (st.kind == Step::Kind::Reduce)
      throw Error(ErrorKind::Runtime,
                  fmt::format("the cuda target does not run reductions yet ({} in this program); "
                              "use the cpu target for it",
                              ir::op_name(st.reduce.op)));
  const ir::SymbolSizes syms = ir::bind_shapes(p.graph, inputs);
  if (targets && targets->size() != p.output_buffers.size())
    throw Error(ErrorKind::Runtime, fmt::format("run_into: the program has {} output(s), {} given",
                                                p.output_buffers.size(), targets->size()));
  std::lock_guard lock(I.mu);
  I.dev.use();

  std::vector<DeviceBuffer> owned;
  std::vector<DevView> views(p.buffers.size());
  std::vector<Array> out(p.output_buffers.size());
  for (std::size_t i = 0; i < p.buffers.size(); ++i) {
    const auto &buf = p.buffers[i];
    DevView &v = views[i];
    v.dtype = buf.type.dtype;
    const std::int64_t es = dtype_size(buf.type.dtype);
    if (buf.kind == BufferKind::Input) {
      // The input's extent in memory goes over as it is, strides and all: the kernel sees the
      // same layout as on the CPU, and no gather runs on the host.
      const Array &a = inputs.at(buf.name);
      v.shape = a.shape();
      v.strides = a.strides();
      std::int64_t lo = 0, hi = 0;
      if (a.size() > 0)
        for (int d = 0; d < a.rank(); ++d) {
          std::int64_t ext = (a.shape()[static_cast<std::size_t>(d)] - 1) *
                             a.strides()[static_cast<std::size_t>(d)];
          (ext < 0 ? lo : hi) += ext;
        }
      const std::size_t bytes = a.size() > 0 ? static_cast<std::size_t>((hi - lo + 1) * es) : 0;
      owned.emplace_back(I.dev, bytes);
      I.stream.to_device(owned.back().ptr(), static_cast<const char *>(a.data()) + lo * es, bytes);
      v.base = owned.back().ptr() - static_cast<CUdeviceptr>(lo * es);
      continue;
    }
    v.shape = ir::concrete_shape(buf.type, syms);
    v.strides = c_strides(v.shape);
    std::int64_t n = 1;
    for (auto e : v.shape)
      n *= e;
    owned.emplace_back(I.dev, static_cast<std::size_t>(n * es));
    v.base = owned.back().ptr();
    if (buf.kind == BufferKind::Output && targets) {
      const Array &t = (*targets)[static_cast<std::size_t>(buf.index)];
      if (!t.valid() || t.dtype() != buf.type.dtype || t.shape() != v.shape)
        throw Error(ErrorKind::Runtime,
                    fmt::format("run_into: output '{}' must be {}[{}] (declared {}), but the "
                                "array given is {}[{}]",
                                buf.name, dtype_name(buf.type.dtype), fmt::join(v.shape, ", "),
                                ir::to_string(buf.type), dtype_name(t.dtype()),
                                fmt::join(t.shape(), ", ")));
    }
  }

  const std::vector<std::uint64_t> slots = pack_params(p, params);

  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const passes::KernelStep &ks = p.steps[s].kernel;
    std::vector<std::int64_t> iter = ir::concrete_shape(ir::Type{DType::Bool, ks.iter_dims}, syms);
    std::int64_t total = 1;
    for (auto e : iter)
      total *= e;
    if (total == 0) continue;

    cg::GpuKernelSpec gs;
    gs.spec.rank = static_cast<int>(iter.size());
    gs.spec.precision = cp.precision;
    std::vector<std::uint64_t> ptrs, strided;
    std::vector<std::int64_t> elem_size; // per operand, for the alignment test
    std::int64_t max_off = total;
    auto add = [&](const DevView &v, bool output) {
      OperandMap m = map_operand(v.shape, v.strides, iter);
      if (output && m.layout == cg::Layout::Scalar) m.layout = cg::Layout::Contiguous;
      if (gs.spec.rank == 0 && m.layout == cg::Layout::Strided) m.layout = cg::Layout::Contiguous;
      (output ? gs.spec.outputs : gs.spec.inputs).push_back(m.layout);
      ptrs.push_back(v.base);
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
    for (int b : ks.inputs)
      add(views[static_cast<std::size_t>(b)], false);
    for (int b : ks.outputs)
      add(views[static_cast<std::size_t>(b)], true);
    // 32-bit indexing while every index and offset fits (the grid-stride step too).
    gs.index64 = max_off >= (std::int64_t{1} << 30);
    const KernelCode &code = *cp.code[s];
    // Vector loads where every contiguous operand is aligned to the whole vector (device
    // allocations are; views into the middle of an input may not be).
    gs.vector = cg::gpu_vector_width(code.kernel(), gs.spec);
    for (std::size_t k = 0; k < ptrs.size() && gs.vector > 1; ++k)
      if (elem_size[k] && ptrs[k] % static_cast<std::uint64_t>(gs.vector * elem_size[k]) != 0)
        gs.vector = 1;
    CUfunction f = I.get(code, gs, *cp.cache);

    std::vector<std::uint64_t> vals = ptrs;
    for (const KernelCode::Slot &sl : code.slots())
      vals.push_back(sl.program_param >= 0 ? slots[static_cast<std::size_t>(sl.program_param)]
                                           : sl.literal);
    for (auto e : iter)
      vals.push_back(static_cast<std::uint64_t>(e));
    vals.insert(vals.end(), strided.begin(), strided.end());
    vals.push_back(static_cast<std::uint64_t>(total));
    if (static_cast<int>(vals.size()) != cg::gpu_param_count(code.kernel(), gs.spec))
      throw Error(ErrorKind::Internal, "cuda: kernel argument count mismatch");
    std::vector<void *> args;
    for (auto &x : vals)
      args.push_back(&x);
    launch(I.dev, I.stream, f, launch_config(I.dev, f, total), args.data());
  }

  // Results back to the host: into fresh arrays, or into the caller's (any strides).
  std::vector<Array> staged(p.output_buffers.size());
  for (std::size_t o = 0; o < p.output_buffers.size(); ++o) {
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
  I.stream.sync();
  for (std::size_t o = 0; o < staged.size(); ++o) {
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

std::string emit_ptx(const CompiledPlan &cp, int sm, cg::GpuTimings *timings) {
  std::string outp;
  std::vector<cg::GpuKernel> ks;
  for (std::size_t s = 0; s < cp.plan.steps.size(); ++s) {
    const Step &st = cp.plan.steps[s];
    if (st.kind != Step::Kind::Kernel) {
      outp += fmt::format("// step {}: {} reduction: not compiled for the cuda target yet\n", s,
                          ir::op_name(st.reduce.op));
      continue;
    }
    cg::GpuKernel k;
    k.kernel = &cp.code[s]->kernel();
    k.spec.spec.rank = static_cast<int>(st.kernel.iter_dims.size());
    k.spec.spec.precision = cp.precision;
    for (int b : st.kernel.inputs)
      k.spec.spec.inputs.push_back(cp.plan.buffers[static_cast<std::size_t>(b)].type.rank() == 0 &&
                                           k.spec.spec.rank > 0
                                       ? cg::Layout::Scalar
                                       : cg::Layout::Contiguous);
    k.spec.spec.outputs.assign(st.kernel.outputs.size(), cg::Layout::Contiguous);
    k.spec.index64 = false;
    k.spec.vector = cg::gpu_vector_width(*k.kernel, k.spec.spec);
    k.name = fmt::format("k{}", s);
    ks.push_back(std::move(k));
  }
  if (!ks.empty()) outp += gpu_jit().compile_ptx(ks, sm, timings);
  return outp;
}

} // namespace xpr::rt::cuda
