// runtime/Execute.cpp — one run of a fused plan: shape binding, buffers, aliasing, kernel launches.
#include "runtime/Execute.h"

#include "compiler/ir/Bind.h"
#include "runtime/KernelCache.h"
#include "runtime/Reduce.h"
#include "support/Half.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace xpr::rt {

using passes::BufferKind;
using passes::Plan;
using passes::Step;

CompiledPlan prepare(passes::Plan plan, cg::Precision precision,
                     std::shared_ptr<const CacheConfig> cache) {
  CompiledPlan cp;
  cp.precision = precision;
  cp.cache = cache ? std::move(cache) : std::make_shared<const CacheConfig>(resolve_cache_config(
                                            false, {}, 0));
  cp.log = std::make_shared<CompileLog>();
  int k = 0;
  for (const Step &s : plan.steps) {
    // A reduce step's map is compiled and cached like any kernel (runtime/Reduce.cpp).
    const passes::KernelStep &ks = s.kind == Step::Kind::Kernel ? s.kernel : s.reduce.map;
    cp.kernel_text.push_back(ir::print(ks.kernel));
    cp.code.push_back(std::make_shared<const KernelCode>(ks, k++));
  }
  // Reduce steps whose accumulation the JIT generates also get a reduce kernel, appended after
  // the per-step kernels and named by its step's index (runtime/Reduce.cpp looks it up there).
  for (std::size_t s = 0; s < plan.steps.size(); ++s)
    if (plan.steps[s].kind == Step::Kind::Reduce)
      if (auto rc = make_reduce_code(plan.steps[s].reduce, static_cast<int>(s)))
        cp.code.push_back(std::move(rc));
  cp.plan = std::move(plan);
  return cp;
}

std::string emit_kernels(const CompiledPlan &cp, cg::Stage stage) {
  std::string out;
  const auto &steps = cp.plan.steps;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const bool reduce = steps[s].kind == passes::Step::Kind::Reduce;
    const auto &ks = reduce ? steps[s].reduce.map : steps[s].kernel;
    cg::KernelSpec spec;
    spec.rank = static_cast<int>(ks.iter_dims.size());
    spec.precision = cp.precision;
    for (int b : ks.inputs)
      spec.inputs.push_back(cp.plan.buffers[static_cast<std::size_t>(b)].type.rank() == 0 &&
                                    spec.rank > 0
                                ? cg::Layout::Scalar
                                : cg::Layout::Contiguous);
    spec.outputs.assign(reduce ? 1 : ks.outputs.size(), cg::Layout::Contiguous);
    const ir::Graph *g = &ks.kernel;
    const char *what = "";
    if (reduce) {
      what = " (reduce: map kernel; the runtime accumulates its values)";
      for (std::size_t j = steps.size(); j < cp.code.size(); ++j)
        if (cp.code[j] && static_cast<std::size_t>(cp.code[j]->index()) == s) {
          g = &cp.code[j]->kernel();
          what = " (reduce: block accumulation)";
        }
    }
    out += fmt::format("// kernel k{}{}\n", s, what);
    out += rt::KernelCache::global().jit().emit(*g, spec, stage);
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  if (out.empty()) out = "// no kernels: the program is constants only\n";
  return out;
}

OperandMap map_operand(std::span<const std::int64_t> shape, std::span<const std::int64_t> strides,
                       std::span<const std::int64_t> iter) {
  const std::size_t R = iter.size(), r = shape.size();
  if (r > R || strides.size() != r)
    throw Error(ErrorKind::Internal, "operand rank exceeds the kernel's iteration rank");
  OperandMap m;
  m.strides.assign(R, 0);
  std::int64_t size = 1;
  for (std::size_t d = 0; d < r; ++d) {
    std::size_t id = R - r + d;
    size *= shape[d];
    if (shape[d] == iter[id]) {
      m.strides[id] = iter[id] == 1 ? 0 : strides[d];
    } else if (shape[d] != 1) {
      throw Error(ErrorKind::Internal,
                  fmt::format("operand extent {} does not broadcast to {}", shape[d], iter[id]));
    }
  }
  if (size == 1) {
    m.layout = cg::Layout::Scalar;
    return m;
  }
  std::int64_t expect = 1;
  bool contiguous = true;
  for (std::size_t d = R; d-- > 0;) {
    if (iter[d] == 1) continue;
    if (m.strides[d] != expect) {
      contiguous = false;
      break;
    }
    expect *= iter[d];
  }
  m.layout = contiguous ? cg::Layout::Contiguous : cg::Layout::Strided;
  return m;
}

ElementExtent element_extent(const Array &a) {
  const auto &sh = a.shape();
  const auto &st = a.strides();
  ElementExtent e;
  for (std::size_t d = 0; d < sh.size(); ++d) {
    if (sh[d] == 0) return {};
    std::int64_t ext = (sh[d] - 1) * st[d];
    (ext < 0 ? e.lo : e.hi) += ext;
  }
  e.hi += 1;
  return e;
}

bool overlaps(const Array &a, const Array &b) {
  // The byte intervals [lo, hi) of the two arrays' elements (conservative).
  auto span = [](const Array &x) {
    const ElementExtent e = element_extent(x);
    const auto base = reinterpret_cast<std::uintptr_t>(x.data());
    const auto es = static_cast<std::int64_t>(dtype_size(x.dtype()));
    return std::pair{base + static_cast<std::uintptr_t>(e.lo * es),
                     base + static_cast<std::uintptr_t>(e.hi * es)};
  };
  const auto [xl, xh] = span(a);
  const auto [yl, yh] = span(b);
  return xl < xh && yl < yh && xl < yh && yl < xh;
}

namespace {

template <class T> std::uint64_t slot_of(T v) {
  std::uint64_t s = 0;
  std::memcpy(&s, &v, sizeof v);
  return s;
}

// float -> int saturates to the target's range (NaN -> 0), int -> int wraps: the cast rules.
template <class T> T int_from(const Scalar &s) {
  if (s.kind() == Scalar::Kind::Float) {
    double v = s.as_double();
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
  return std::is_signed_v<T> ? static_cast<T>(s.as_int()) : static_cast<T>(s.as_uint());
}
// int -> float rounds once, straight from the integer.
template <class T> T float_from(const Scalar &s) {
  switch (s.kind()) {
  case Scalar::Kind::Bool: return s.as_bool() ? T(1) : T(0);
  case Scalar::Kind::Int: return static_cast<T>(s.as_int());
  case Scalar::Kind::UInt: return static_cast<T>(s.as_uint());
  case Scalar::Kind::Float: return static_cast<T>(s.as_double());
  }
  return T(0);
}

bool same_layout(const Array &a, const Array &b) {
  return a.data() == b.data() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.strides() == b.strides();
}
bool self_overlapping(const Array &a) {
  if (a.size() <= 1) return false;
  for (int d = 0; d < a.rank(); ++d)
    if (a.shape()[static_cast<std::size_t>(d)] > 1 && a.strides()[static_cast<std::size_t>(d)] == 0)
      return true;
  return false; // other self-overlapping stride patterns are not detected
}

std::string shape_text(const std::vector<std::int64_t> &s) {
  return fmt::format("[{}]", fmt::join(s, ", "));
}

} // namespace

std::vector<std::uint64_t> pack_params(const passes::Plan &plan,
                                       const std::map<std::string, Scalar> &params) {
  std::vector<std::uint64_t> slots(plan.params.size());
  for (std::size_t i = 0; i < plan.params.size(); ++i) {
    auto it = params.find(plan.params[i].name);
    if (it == params.end())
      throw Error(ErrorKind::Runtime, fmt::format("missing param '{}' ({})", plan.params[i].name,
                                                  dtype_name(plan.params[i].dtype)));
    slots[i] = pack_param(it->second, plan.params[i].dtype);
  }
  return slots;
}

std::uint64_t pack_param(const Scalar &s, DType dt) {
  switch (dt) {
  case DType::Bool: return s.as_bool() ? 1 : 0;
  case DType::I8: return slot_of(int_from<std::int8_t>(s));
  case DType::I16: return slot_of(int_from<std::int16_t>(s));
  case DType::I32: return slot_of(int_from<std::int32_t>(s));
  case DType::I64: return slot_of(int_from<std::int64_t>(s));
  case DType::U8: return slot_of(int_from<std::uint8_t>(s));
  case DType::U16: return slot_of(int_from<std::uint16_t>(s));
  case DType::U32: return slot_of(int_from<std::uint32_t>(s));
  case DType::U64: return slot_of(int_from<std::uint64_t>(s));
  case DType::F32: return slot_of(float_from<float>(s));
  case DType::F64: return slot_of(float_from<double>(s));
  case DType::F16:
  case DType::BF16: {
    const bool h = dt == DType::F16;
    std::uint16_t bits = 0;
    switch (s.kind()) {
    case Scalar::Kind::Bool:
    case Scalar::Kind::Int: bits = h ? half::i64_to_f16(s.as_int()) : half::i64_to_bf16(s.as_int()); break;
    case Scalar::Kind::UInt: bits = h ? half::u64_to_f16(s.as_uint()) : half::u64_to_bf16(s.as_uint()); break;
    case Scalar::Kind::Float: bits = h ? half::f64_to_f16(s.as_double()) : half::f64_to_bf16(s.as_double()); break;
    }
    return slot_of(bits);
  }
  }
  return 0;
}

std::vector<Array> execute(const CompiledPlan &cp, Executor &ex,
                           const std::map<std::string, Array> &inputs,
                           const std::map<std::string, Scalar> &params,
                           const std::vector<Array> *targets) {
  const Plan &p = cp.plan;
  const ir::SymbolSizes syms = ir::bind_shapes(p.graph, inputs);
  std::vector<Array> bufs(p.buffers.size());

  for (int b : p.input_buffers) {
    const auto &buf = p.buffers[static_cast<std::size_t>(b)];
    bufs[static_cast<std::size_t>(b)] = inputs.at(buf.name);
  }
  if (targets && targets->size() != p.output_buffers.size())
    throw Error(ErrorKind::Runtime, fmt::format("run_into: the program has {} output(s), {} given",
                                                p.output_buffers.size(), targets->size()));
  for (std::size_t i = 0; i < p.buffers.size(); ++i) {
    const auto &buf = p.buffers[i];
    if (buf.kind == BufferKind::Input) continue;
    std::vector<std::int64_t> shape = ir::concrete_shape(buf.type, syms);
    if (buf.kind == BufferKind::Output && targets) {
      const Array &t = (*targets)[static_cast<std::size_t>(buf.index)];
      if (!t.valid() || t.dtype() != buf.type.dtype || t.shape() != shape)
        throw Error(ErrorKind::Runtime,
                    fmt::format("run_into: output '{}' must be {}{} (declared {}), but the "
                                "array given is {}{}",
                                buf.name, dtype_name(buf.type.dtype), shape_text(shape),
                                ir::to_string(buf.type), dtype_name(t.dtype()),
                                shape_text(t.shape())));
      if (self_overlapping(t))
        throw Error(ErrorKind::Runtime,
                    fmt::format("run_into: output '{}' has a zero stride, so several of its "
                                "elements share memory",
                                buf.name));
      bufs[i] = t;
    } else {
      bufs[i] = Array::empty(buf.type.dtype, shape);
    }
  }

  const std::vector<std::uint64_t> slots = pack_params(p, params);

  if (targets) {
    // Which steps read and write each buffer, for the aliasing decisions below.
    std::vector<int> writer(p.buffers.size(), -1), last_read(p.buffers.size(), -1);
    std::vector<std::vector<int>> readers(p.buffers.size());
    for (std::size_t s = 0; s < p.steps.size(); ++s) {
      const Step &st = p.steps[s];
      auto si = static_cast<int>(s);
      auto read = [&](int b) {
        readers[static_cast<std::size_t>(b)].push_back(si);
        last_read[static_cast<std::size_t>(b)] = si;
      };
      if (st.kind == Step::Kind::Reduce) {
        for (int b : st.reduce.map.inputs) read(b);
        writer[static_cast<std::size_t>(st.reduce.output)] = si;
      } else {
        for (int b : st.kernel.inputs) read(b);
        for (int b : st.kernel.outputs) writer[static_cast<std::size_t>(b)] = si;
      }
    }
    for (std::size_t a = 0; a < p.output_buffers.size(); ++a)
      for (std::size_t b = a + 1; b < p.output_buffers.size(); ++b)
        if (overlaps(bufs[static_cast<std::size_t>(p.output_buffers[a])],
                     bufs[static_cast<std::size_t>(p.output_buffers[b])]))
          throw Error(ErrorKind::Runtime,
                      fmt::format("run_into: outputs '{}' and '{}' overlap in memory",
                                  p.buffers[static_cast<std::size_t>(p.output_buffers[a])].name,
                                  p.buffers[static_cast<std::size_t>(p.output_buffers[b])].name));
    for (int ib : p.input_buffers) {
      auto ii = static_cast<std::size_t>(ib);
      for (int ob : p.output_buffers) {
        auto oi = static_cast<std::size_t>(ob);
        if (!overlaps(bufs[ii], bufs[oi])) continue;
        // Harmless only if no step reads the input after the output is written, and the writing
        // step either does not read the input or is an elementwise kernel reading each element
        // exactly where it writes it (a parallel reduction may write while others still read).
        const int k = writer[oi];
        bool safe = k >= 0 && last_read[ii] <= k;
        if (safe) {
          const auto &rd = readers[ii];
          bool k_reads = std::find(rd.begin(), rd.end(), k) != rd.end();
          if (k_reads)
            safe = p.steps[static_cast<std::size_t>(k)].kind == Step::Kind::Kernel &&
                   same_layout(bufs[ii], bufs[oi]);
        }
        if (!safe) {
          bufs[ii] = bufs[ii].contiguous_copy();
          break;
        }
      }
    }
  }

  auto &cache = KernelCache::global();
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const Step &st = p.steps[s];
    if (st.row_group >= 0) {
      s = run_row_group(cp, s, bufs, slots, syms, ex);
      continue;
    }
    if (st.kind == Step::Kind::Reduce) {
      run_reduce_step(cp, s, bufs, slots, syms, ex);
      continue;
    }
    const passes::KernelStep &ks = st.kernel;
    std::vector<std::int64_t> iter = ir::concrete_shape(ir::Type{DType::Bool, ks.iter_dims}, syms);
    std::int64_t total = 1;
    for (auto e : iter) total *= e;
    if (total == 0) continue;

    cg::KernelSpec spec;
    spec.rank = static_cast<int>(iter.size());
    spec.precision = cp.precision;
    std::vector<void *> ptrs;
    std::vector<std::int64_t> strides;
    auto add = [&](const Array &a, bool output) {
      OperandMap m = map_operand(a.shape(), a.strides(), iter);
      if (output && m.layout == cg::Layout::Scalar) m.layout = cg::Layout::Contiguous;
      (output ? spec.outputs : spec.inputs).push_back(m.layout);
      ptrs.push_back(a.data());
      strides.insert(strides.end(), m.strides.begin(), m.strides.end());
    };
    for (int b : ks.inputs) add(bufs[static_cast<std::size_t>(b)], false);
    for (int b : ks.outputs) add(bufs[static_cast<std::size_t>(b)], true);
    // Param slots from the cached kernel's view: program params and hoisted literals.
    const KernelCode &code = *cp.code[s];
    std::vector<std::uint64_t> kslots;
    for (const KernelCode::Slot &sl : code.slots())
      kslots.push_back(sl.program_param >= 0 ? slots[static_cast<std::size_t>(sl.program_param)]
                                             : sl.literal);

    cg::KernelFn fn = cache.get(code, SpecRef{spec.rank, spec.precision, spec.inputs, spec.outputs},
                                *cp.cache, cp.log.get());
    void *const *pp = ptrs.data();
    const std::int64_t *sp = strides.data(), *shp = iter.data();
    const void *prm = kslots.data();
    ex.parallel_for(total, [&](std::int64_t b, std::int64_t e) { fn(pp, sp, prm, shp, b, e); });
  }

  std::vector<Array> out;
  out.reserve(p.output_buffers.size());
  for (int b : p.output_buffers) out.push_back(bufs[static_cast<std::size_t>(b)]);
  return out;
}

} // namespace xpr::rt
