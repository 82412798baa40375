// runtime/FastPath.cpp — the allocation-free run of a cached, reduction-free plan.
#include "runtime/FastPath.h"

#include "runtime/KernelCache.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

namespace xpr::rt {

using passes::BufferKind;
using passes::Step;

namespace {

FastPlan::DimRef dim_ref(const ir::Dim &d, std::map<std::string, int> &syms) {
  FastPlan::DimRef r;
  if (!d.is_symbolic()) {
    r.size = d.size;
    return r;
  }
  auto it = syms.emplace(d.sym, static_cast<int>(syms.size())).first;
  r.sym = it->second;
  return r;
}

// Reused per thread: after the first calls, a run allocates nothing here.
struct Scratch {
  std::vector<std::int64_t> syms;
  std::vector<const Array *> bufs;
  std::vector<std::uint64_t> slots, kslots;
  std::vector<void *> ptrs;
  std::vector<std::int64_t> strides;
  std::vector<cg::Layout> layouts;
};

// map_operand (Execute.h) without allocation: strides go to `out` (iteration rank entries).
cg::Layout map_into(const Array &a, const std::int64_t *iter, int R, std::int64_t *out) {
  const auto &shape = a.shape();
  const auto &strides = a.strides();
  const int r = static_cast<int>(shape.size());
  if (r > R) throw Error(ErrorKind::Internal, "operand rank exceeds the kernel's iteration rank");
  for (int d = 0; d < R; ++d) out[d] = 0;
  std::int64_t size = 1;
  for (int d = 0; d < r; ++d) {
    const int id = R - r + d;
    size *= shape[static_cast<std::size_t>(d)];
    if (shape[static_cast<std::size_t>(d)] == iter[id]) {
      out[id] = iter[id] == 1 ? 0 : strides[static_cast<std::size_t>(d)];
    } else if (shape[static_cast<std::size_t>(d)] != 1) {
      throw Error(ErrorKind::Internal,
                  fmt::format("operand extent {} does not broadcast to {}",
                              shape[static_cast<std::size_t>(d)], iter[id]));
    }
  }
  // A one-element operand is a broadcast scalar, unless it is the whole (one-element) iteration
  // space: then it stays contiguous, so n = 1 runs the kernel every other n runs.
  if (size == 1) {
    bool whole = r > 0 && r == R;
    for (int d = 0; whole && d < r; ++d) whole = shape[static_cast<std::size_t>(d)] == iter[d];
    if (!whole) return cg::Layout::Scalar;
  }
  std::int64_t expect = 1;
  for (int d = R; d-- > 0;) {
    if (iter[d] == 1) continue;
    if (out[d] != expect) return cg::Layout::Strided;
    expect *= iter[d];
  }
  return cg::Layout::Contiguous;
}

} // namespace

FastPlan make_fast_plan(const CompiledPlan &cp) {
  const passes::Plan &p = cp.plan;
  FastPlan fp;
  fp.usable = true;
  std::map<std::string, int> syms;
  for (const passes::Buffer &b : p.buffers) {
    FastPlan::Buf fb;
    fb.kind = b.kind;
    fb.dtype = b.type.dtype;
    fb.rank = b.type.rank();
    fb.index = b.index;
    if (b.kind == BufferKind::Intermediate || fb.rank > kMaxRank) fp.usable = false;
    for (int d = 0; d < fb.rank && d < kMaxRank; ++d)
      fb.dims[static_cast<std::size_t>(d)] = dim_ref(b.type.dims[static_cast<std::size_t>(d)], syms);
    fp.bufs.push_back(fb);
  }
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const Step &st = p.steps[s];
    if (st.kind != Step::Kind::Kernel) {
      fp.usable = false;
      continue;
    }
    FastPlan::Kernel k;
    k.step = s;
    k.rank = static_cast<int>(st.kernel.iter_dims.size());
    if (k.rank > kMaxRank) fp.usable = false;
    for (int d = 0; d < k.rank && d < kMaxRank; ++d)
      k.iter[static_cast<std::size_t>(d)] =
          dim_ref(st.kernel.iter_dims[static_cast<std::size_t>(d)], syms);
    k.inputs = st.kernel.inputs;
    k.outputs = st.kernel.outputs;
    fp.kernels.push_back(std::move(k));
  }
  // A symbol that no input binds cannot be sized here; execute() reports it.
  std::vector<bool> bound(syms.size(), false);
  for (const FastPlan::Buf &b : fp.bufs)
    if (b.kind == BufferKind::Input)
      for (int d = 0; d < b.rank && d < kMaxRank; ++d)
        if (b.dims[static_cast<std::size_t>(d)].sym >= 0)
          bound[static_cast<std::size_t>(b.dims[static_cast<std::size_t>(d)].sym)] = true;
  for (bool b : bound) fp.usable = fp.usable && b;
  fp.symbols = static_cast<int>(syms.size());
  return fp;
}

bool run_fast(const CompiledPlan &cp, const FastPlan &fp, Executor &ex,
              const std::map<std::string, Array> &inputs,
              const std::map<std::string, Scalar> &params, const Array *const *targets,
              Array *allocated) {
  if (!fp.usable) return false;
  const passes::Plan &p = cp.plan;
  thread_local Scratch sc;
  sc.syms.assign(static_cast<std::size_t>(fp.symbols), -1);
  sc.bufs.assign(fp.bufs.size(), nullptr);

  // Inputs: bind symbols, check what bind_shapes checks (its messages come from execute()).
  for (int b : p.input_buffers) {
    const FastPlan::Buf &fb = fp.bufs[static_cast<std::size_t>(b)];
    auto it = inputs.find(p.buffers[static_cast<std::size_t>(b)].name);
    if (it == inputs.end()) return false;
    const Array &a = it->second;
    if (a.dtype() != fb.dtype || a.rank() != fb.rank || !a.valid()) return false;
    std::int64_t count = 1;
    for (int d = 0; d < fb.rank; ++d) {
      const std::int64_t got = a.shape()[static_cast<std::size_t>(d)];
      const FastPlan::DimRef &dr = fb.dims[static_cast<std::size_t>(d)];
      if (got < 0) return false;
      if (dr.sym < 0) {
        if (got != dr.size) return false;
      } else {
        std::int64_t &s = sc.syms[static_cast<std::size_t>(dr.sym)];
        if (s < 0) s = got;
        else if (s != got) return false;
      }
      if (__builtin_mul_overflow(count, got, &count)) return false;
    }
    sc.bufs[static_cast<std::size_t>(b)] = &a;
  }
  auto extent = [&](const FastPlan::DimRef &d) {
    return d.sym < 0 ? d.size : sc.syms[static_cast<std::size_t>(d.sym)];
  };

  sc.slots.resize(p.params.size());
  for (std::size_t i = 0; i < p.params.size(); ++i) {
    auto it = params.find(p.params[i].name);
    if (it == params.end()) return false;
    sc.slots[i] = pack_param(it->second, p.params[i].dtype);
  }

  const std::size_t nout = p.output_buffers.size();
  if (targets) {
    for (std::size_t o = 0; o < nout; ++o) {
      const int b = p.output_buffers[o];
      const FastPlan::Buf &fb = fp.bufs[static_cast<std::size_t>(b)];
      const Array &t = *targets[o];
      if (!t.valid() || t.dtype() != fb.dtype || t.rank() != fb.rank) return false;
      for (int d = 0; d < fb.rank; ++d) {
        const std::int64_t n = t.shape()[static_cast<std::size_t>(d)];
        if (n != extent(fb.dims[static_cast<std::size_t>(d)])) return false;
        if (n > 1 && t.strides()[static_cast<std::size_t>(d)] == 0) return false;
      }
      for (int ib : p.input_buffers)
        if (overlaps(t, *sc.bufs[static_cast<std::size_t>(ib)])) return false;
      for (std::size_t o2 = 0; o2 < o; ++o2)
        if (overlaps(t, *targets[o2])) return false;
      sc.bufs[static_cast<std::size_t>(b)] = &t;
    }
  } else {
    std::array<std::int64_t, kMaxRank> shape{};
    for (std::size_t o = 0; o < nout; ++o) {
      const int b = p.output_buffers[o];
      const FastPlan::Buf &fb = fp.bufs[static_cast<std::size_t>(b)];
      for (int d = 0; d < fb.rank; ++d)
        shape[static_cast<std::size_t>(d)] = extent(fb.dims[static_cast<std::size_t>(d)]);
      allocated[o] = Array::empty(fb.dtype, std::span<const std::int64_t>(
                                                shape.data(), static_cast<std::size_t>(fb.rank)));
      sc.bufs[static_cast<std::size_t>(b)] = &allocated[o];
    }
  }

  KernelCache &cache = KernelCache::global();
  for (const FastPlan::Kernel &k : fp.kernels) {
    std::array<std::int64_t, kMaxRank> iter{};
    std::int64_t total = 1;
    for (int d = 0; d < k.rank; ++d) {
      iter[static_cast<std::size_t>(d)] = extent(k.iter[static_cast<std::size_t>(d)]);
      total *= iter[static_cast<std::size_t>(d)];
    }
    if (total == 0) continue;
    const std::size_t nops = k.inputs.size() + k.outputs.size();
    sc.ptrs.resize(nops);
    sc.layouts.resize(nops);
    sc.strides.resize(nops * static_cast<std::size_t>(k.rank) + 1);
    std::size_t i = 0;
    auto add = [&](int b, bool output) {
      const Array &a = *sc.bufs[static_cast<std::size_t>(b)];
      cg::Layout l = map_into(a, iter.data(), k.rank,
                              sc.strides.data() + i * static_cast<std::size_t>(k.rank));
      if (output && l == cg::Layout::Scalar) l = cg::Layout::Contiguous;
      sc.layouts[i] = l;
      sc.ptrs[i] = a.data();
      ++i;
    };
    for (int b : k.inputs) add(b, false);
    for (int b : k.outputs) add(b, true);

    const KernelCode &code = *cp.code[k.step];
    const auto &cslots = code.slots();
    sc.kslots.resize(cslots.size());
    for (std::size_t j = 0; j < cslots.size(); ++j)
      sc.kslots[j] = cslots[j].program_param >= 0
                         ? sc.slots[static_cast<std::size_t>(cslots[j].program_param)]
                         : cslots[j].literal;

    SpecRef spec{k.rank, cp.precision,
                 std::span<const cg::Layout>(sc.layouts.data(), k.inputs.size()),
                 std::span<const cg::Layout>(sc.layouts.data() + k.inputs.size(),
                                             k.outputs.size())};
    cg::KernelFn fn = code.find(spec);
    if (!fn) fn = cache.get(code, spec, *cp.cache, cp.log.get());
    void *const *pp = sc.ptrs.data();
    const std::int64_t *sp = sc.strides.data(), *shp = iter.data();
    const void *prm = sc.kslots.data();
    if (ex.threads() <= 1 || total < ex.policy().serial_below) {
      fn(pp, sp, prm, shp, 0, total); // the calling thread, no synchronization
    } else {
      ex.parallel_for(total, [&](std::int64_t b, std::int64_t e) { fn(pp, sp, prm, shp, b, e); });
    }
  }
  return true;
}

} // namespace xpr::rt
