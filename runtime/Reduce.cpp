// runtime/Reduce.cpp — fused map-reduce execution with a fixed blocking and combine order, and
// row groups run tile by tile (see Reduce.h for the scheme).
#include "runtime/Reduce.h"

#include "compiler/codegen/ReduceKernel.h"
#include "runtime/KernelCache.h"
#include "support/Half.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

namespace xpr::rt {

using passes::Step;

namespace {

// The blocking. Changing any of these changes results (in the last bits of float sums), so they
// are constants, never tuned per machine or per thread count.
constexpr std::int64_t kLanes = cg::kReduceLanes; // inner: interleaved accumulators per leaf
constexpr std::int64_t kLeaf = cg::kReduceLeaf;    // inner: elements per leaf (16 per lane)
constexpr std::int64_t kBlock = cg::kReduceBlock;  // inner: elements per block (16 leaves)
constexpr std::int64_t kLeafRows = 16;    // outer: rows accumulated sequentially per leaf
constexpr std::int64_t kRowBlock = 256;   // outer: rows per block (16 leaves)
constexpr std::int64_t kTile = 1024;      // outer: outputs accumulated side by side
constexpr std::int64_t kScratch = 4096;   // elements of map output per kernel call, at most
constexpr std::int64_t kFill = 1024;      // inner: elements of a long block per kernel call
constexpr int kLevels = 6;                // binary-counter levels: enough for 16 leaves (+1)

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "reduce: " + msg);
}

std::atomic<bool> g_jit{[] {
  const char *e = std::getenv("XPR_REDUCE_JIT");
  return !(e && std::string(e) == "0");
}()};
std::atomic<std::uint64_t> g_jit_runs{0}, g_fallback_runs{0};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// ---- the reduction operators: identity, combine, and one step with the element's index ----

template <class V> constexpr bool kFloat = std::is_floating_point_v<V>;

template <class V> V add_wrap(V a, V b) {
  if constexpr (kFloat<V>)
    return a + b;
  else
    return static_cast<V>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
template <class V> V mul_wrap(V a, V b) {
  if constexpr (kFloat<V>)
    return a * b;
  else
    return static_cast<V>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
// IEEE 754-2019 minimum/maximum, written exactly as the interpreter's (NaN first, -0 < +0).
template <class V> V ieee_min(V a, V b) {
  if constexpr (kFloat<V>) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return std::signbit(a) ? a : b;
  }
  return b < a ? b : a;
}
template <class V> V ieee_max(V a, V b) {
  if constexpr (kFloat<V>) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return std::signbit(a) ? b : a;
  }
  return a < b ? b : a;
}

template <class V> struct SumR {
  using Val = V;
  using A = V;
  static A id() { return V(0); }
  static A comb(A a, A b) { return add_wrap(a, b); }
  static A step(A a, V x, std::int64_t) { return add_wrap(a, x); }
};
template <class V> struct ProdR {
  using Val = V;
  using A = V;
  static A id() { return V(1); }
  static A comb(A a, A b) { return mul_wrap(a, b); }
  static A step(A a, V x, std::int64_t) { return mul_wrap(a, x); }
};
template <class V, bool IsMin> struct ExtR {
  using Val = V;
  using A = V;
  static A id() {
    if constexpr (kFloat<V>)
      return IsMin ? std::numeric_limits<V>::infinity() : -std::numeric_limits<V>::infinity();
    else
      return IsMin ? std::numeric_limits<V>::max() : std::numeric_limits<V>::lowest();
  }
  static A comb(A a, A b) { return IsMin ? ieee_min(a, b) : ieee_max(a, b); }
  static A step(A a, V x, std::int64_t) { return comb(a, x); }
};
template <bool IsAny> struct BoolR {
  using Val = std::uint8_t; // bool as a 0/1 byte
  using A = std::uint8_t;
  static A id() { return IsAny ? 0 : 1; }
  static A comb(A a, A b) { return IsAny ? (a | b) : (a & b); }
  static A step(A a, Val x, std::int64_t) { return comb(a, x); }
};
template <class V> struct ArgAcc {
  V v;
  std::int64_t i; // -1: nothing seen yet
};
/// First index of the extreme; the order is minimum's (-0 < +0) and a NaN beats everything, so
/// the first NaN wins. Ties between partials go to the smaller index, which makes the result
/// independent of how the extent was cut.
template <class V, bool IsMin> struct ArgR {
  using Val = V;
  using A = ArgAcc<V>;
  static bool better(V x, V b) {
    if constexpr (kFloat<V>) {
      if (b != b) return false;
      if (x != x) return true;
      if (x == b)
        return IsMin ? (std::signbit(x) && !std::signbit(b)) : (!std::signbit(x) && std::signbit(b));
    }
    return IsMin ? x < b : b < x;
  }
  static A id() { return A{V{}, -1}; }
  static A comb(A a, A b) {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    if (better(b.v, a.v)) return b;
    if (better(a.v, b.v)) return a;
    return a.i <= b.i ? a : b;
  }
  static A step(A a, V x, std::int64_t k) { return (a.i < 0 || better(x, a.v)) ? A{x, k} : a; }
};

// ---- storing a result in the output dtype ----

template <class S> void put(std::byte *p, DType dt, S v) {
  auto st = [&](auto x) { std::memcpy(p, &x, sizeof x); };
  switch (dt) {
  case DType::Bool: st(static_cast<std::uint8_t>(v != S(0))); return;
  case DType::I8: st(static_cast<std::int8_t>(v)); return;
  case DType::I16: st(static_cast<std::int16_t>(v)); return;
  case DType::I32: st(static_cast<std::int32_t>(v)); return;
  case DType::I64: st(static_cast<std::int64_t>(v)); return;
  case DType::U8: st(static_cast<std::uint8_t>(v)); return;
  case DType::U16: st(static_cast<std::uint16_t>(v)); return;
  case DType::U32: st(static_cast<std::uint32_t>(v)); return;
  case DType::U64: st(static_cast<std::uint64_t>(v)); return;
  case DType::F16: st(half::f64_to_f16(static_cast<double>(v))); return;
  case DType::BF16: st(half::f64_to_bf16(static_cast<double>(v))); return;
  case DType::F32: st(static_cast<float>(v)); return;
  case DType::F64: st(static_cast<double>(v)); return;
  }
}

// ---- one reduction, prepared for a run ----

struct Job {
  ir::Op op = ir::Op::Sum;
  cg::KernelFn fn = nullptr;          // the map (C++ loops), or null with block_fn
  cg::KernelFn block_fn = nullptr;    // the reduce kernel (ReduceKernel.h), when the JIT has one
  std::vector<std::uint64_t> block_params;
  std::vector<void *> ptrs;           // map inputs, then the scratch (or partials) slot
  std::vector<std::int64_t> strides;  // per operand, over the permuted iteration space
  std::vector<std::int64_t> shape;    // the permuted iteration space
  std::vector<std::uint64_t> params;
  DType value = DType::F32;           // what the map writes
  std::int64_t value_size = 4;
  bool inner = true;
  std::int64_t nbatch = 1, m = 1, n = 1;
  // output
  std::byte *out = nullptr;
  DType out_dt = DType::F32;
  std::int64_t out_size = 4;
  bool out_contiguous = true;
  std::vector<std::int64_t> okept_shape, okept_strides; // the kept dims of the output

  /// Starts loading iterations [b, e) of the contiguous inputs, so that memory keeps streaming
  /// while the current piece is reduced from cache.
  void prefetch(std::int64_t b, std::int64_t e) const {
    for (const auto &[base, size] : contiguous_inputs) {
      const char *p = static_cast<const char *>(base) + b * size;
      const char *q = static_cast<const char *>(base) + e * size;
      for (; p < q; p += 64) __builtin_prefetch(p, 0, 3);
    }
  }
  std::vector<std::pair<const void *, std::int64_t>> contiguous_inputs; // base, element bytes

  /// Evaluates the map over linear iterations [b, e) into `dst` (dst[0] is iteration b).
  void fill(std::int64_t b, std::int64_t e, void *dst, std::vector<void *> &pp) const {
    pp.assign(ptrs.begin(), ptrs.end());
    // The kernel writes element i at out[i]: point `out` b elements before the scratch.
    pp.back() = reinterpret_cast<void *>(reinterpret_cast<std::uintptr_t>(dst) -
                                         static_cast<std::uintptr_t>(b * value_size));
    fn(pp.data(), strides.data(), params.data(), shape.data(), b, e);
  }
  std::byte *out_at(std::int64_t o) const {
    if (out_contiguous) return out + o * out_size;
    std::int64_t off = 0;
    for (std::size_t d = okept_shape.size(); d-- > 0;) {
      off += (o % okept_shape[d]) * okept_strides[d];
      o /= okept_shape[d];
    }
    return out + off * out_size;
  }
};

/// Per-thread scratch: the map's output block and the outer schedule's accumulators.
struct Scratch {
  std::unique_ptr<std::byte[]> raw;
  std::byte *block = nullptr;
  std::vector<std::byte> acc;
  std::vector<void *> pp;
  Scratch() : raw(new std::byte[kScratch * 8 + 64]) {
    auto p = reinterpret_cast<std::uintptr_t>(raw.get());
    block = reinterpret_cast<std::byte *>((p + 63) & ~std::uintptr_t{63});
  }
};
Scratch &scratch() {
  thread_local Scratch s;
  return s;
}

template <class R> struct Reducer {
  using V = typename R::Val;
  using A = typename R::A;

  static void finish(const Job &job, std::int64_t o, A a) {
    std::byte *p = job.out_at(o);
    if constexpr (std::is_same_v<A, ArgAcc<V>>) {
      put(p, job.out_dt, a.i);
    } else if (job.op == ir::Op::Mean) {
      put(p, job.out_dt, static_cast<double>(a) / static_cast<double>(job.n));
    } else {
      put(p, job.out_dt, a);
    }
  }

  static A pairwise(const A *p, std::int64_t count, std::int64_t stride) {
    if (count == 1) return p[0];
    std::int64_t half = count / 2;
    return R::comb(pairwise(p, half, stride), pairwise(p + half * stride, count - half, stride));
  }

  /// Binary counter of partial results, `width` side by side: pushing leaves one by one gives a
  /// pairwise tree whose shape depends only on the number of leaves.
  struct Counter {
    A *lv;
    bool occ[kLevels] = {};
    std::int64_t width;
    Counter(A *storage, std::int64_t w) : lv(storage), width(w) {}
    A *level(int l) { return lv + l * width; }
    void push(A *cur) { // cur: `width` values, clobbered
      int l = 0;
      for (; occ[l]; ++l) {
        if (l + 1 >= kLevels) internal("leaf counter overflow");
        A *s = level(l);
        for (std::int64_t j = 0; j < width; ++j) cur[j] = R::comb(s[j], cur[j]);
        occ[l] = false;
      }
      std::copy(cur, cur + width, level(l));
      occ[l] = true;
    }
    void fold(A *res) {
      bool any = false;
      for (int l = 0; l < kLevels; ++l) {
        if (!occ[l]) continue;
        A *s = level(l);
        if (!any)
          std::copy(s, s + width, res);
        else
          for (std::int64_t j = 0; j < width; ++j) res[j] = R::comb(s[j], res[j]);
        any = true;
      }
      if (!any) std::fill(res, res + width, R::id());
    }
  };

  /// An inner-schedule block being reduced: leaves of kLeaf elements go in in order (any number
  /// per call, each call starting on a leaf boundary), the block's value comes out.
  struct Block {
    A store[kLevels * kLanes];
    Counter ctr{store, kLanes};
    /// x[0, len): the next elements, the first with reduced index k0.
    void add(const V *x, std::int64_t len, std::int64_t k0) {
      for (std::int64_t s = 0; s < len; s += kLeaf) {
        const std::int64_t l = std::min(kLeaf, len - s);
        const V *p = x + s;
        A lane[kLanes];
        for (auto &a : lane) a = R::id();
        std::int64_t q = 0;
        for (; q + kLanes <= l; q += kLanes)
          for (std::int64_t j = 0; j < kLanes; ++j)
            lane[j] = R::step(lane[j], p[q + j], k0 + s + q + j);
        for (std::int64_t j = 0; q + j < l; ++j)
          lane[j] = R::step(lane[j], p[q + j], k0 + s + q + j);
        ctr.push(lane);
      }
    }
    A finish() {
      A lane[kLanes];
      ctr.fold(lane);
      for (std::int64_t w = kLanes / 2; w >= 1; w /= 2)
        for (std::int64_t j = 0; j < w; ++j) lane[j] = R::comb(lane[j], lane[j + w]);
      return lane[0];
    }
  };

  // Units are the parallel work items; the executor's chunks of [0, units*weight) take the units
  // whose start u*weight they contain, so every unit is computed exactly once, whole.
  template <class F>
  static void for_units(Executor *ex, std::int64_t units, std::int64_t weight, F &&work) {
    if (units <= 0) return;
    if (!ex) {
      work(0, units);
      return;
    }
    ex->parallel_for(units * weight, [&](std::int64_t b, std::int64_t e) {
      std::int64_t u0 = ceil_div(b, weight), u1 = std::min(units, ceil_div(e, weight));
      if (u0 < u1) work(u0, u1);
    });
  }

  /// The inner schedule with a reduce kernel: it stores each block's value (the same bits
  /// Block computes) straight into the partials, or for one-block outputs into a small buffer
  /// that finish() converts.
  static void run_inner_jit(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
    const std::int64_t n = job.n, m = job.m;
    const std::int64_t nb = ceil_div(n, kBlock);
    const std::int64_t o0 = b0 * m, units = (b1 - b0) * m * nb, ubase = o0 * nb;
    std::vector<A> partials(nb > 1 ? static_cast<std::size_t>(units) : 0);
    const std::int64_t shape[1] = {n};
    // The kernel stores unit u's value at partials[u] (absolute unit numbers): point the slot
    // `first` elements before where unit `first` goes.
    auto slot = [](A *dst, std::int64_t first) {
      return reinterpret_cast<void *>(reinterpret_cast<std::uintptr_t>(dst) -
                                      static_cast<std::uintptr_t>(first) * sizeof(A));
    };
    for_units(ex, units, std::min(n, kBlock), [&](std::int64_t u0, std::int64_t u1) {
      Scratch &sc = scratch();
      sc.pp.assign(job.ptrs.begin(), job.ptrs.end());
      if (nb > 1) {
        sc.pp.back() = slot(partials.data(), ubase);
        job.block_fn(sc.pp.data(), nullptr, job.block_params.data(), shape, ubase + u0, ubase + u1);
        return;
      }
      constexpr std::int64_t kPiece = 512;
      A tmp[kPiece];
      for (std::int64_t u = u0; u < u1; u += kPiece) {
        const std::int64_t e = std::min(u1, u + kPiece);
        sc.pp.back() = slot(tmp, ubase + u);
        job.block_fn(sc.pp.data(), nullptr, job.block_params.data(), shape, ubase + u, ubase + e);
        for (std::int64_t x = u; x < e; ++x) finish(job, o0 + x, tmp[x - u]);
      }
    });
    if (nb > 1)
      for (std::int64_t o = 0; o < (b1 - b0) * m; ++o)
        finish(job, o0 + o, pairwise(partials.data() + o * nb, nb, 1));
  }

  static void run_inner(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
    if constexpr (!std::is_same_v<A, ArgAcc<V>>) {
      if (job.block_fn) return run_inner_jit(job, b0, b1, ex);
    }
    const std::int64_t n = job.n, m = job.m;
    const std::int64_t nb = ceil_div(n, kBlock);
    const std::int64_t o0 = b0 * m, units = (b1 - b0) * m * nb;
    std::vector<A> partials(nb > 1 ? static_cast<std::size_t>(units) : 0);
    auto len_of = [&](std::int64_t blk) { return std::min(kBlock, n - blk * kBlock); };
    for_units(ex, units, std::min(n, kBlock), [&](std::int64_t u0, std::int64_t u1) {
      Scratch &sc = scratch();
      const V *vals = reinterpret_cast<const V *>(sc.block);
      auto done = [&](std::int64_t x, A a) {
        if (nb == 1)
          finish(job, o0 + x, a);
        else
          partials[static_cast<std::size_t>(x)] = a;
      };
      for (std::int64_t u = u0; u < u1;) {
        const std::int64_t start = (o0 + u / nb) * n + (u % nb) * kBlock;
        if (len_of(u % nb) > kFill) {
          // A long block is evaluated and reduced a piece at a time, so that memory reads are
          // never idle for long while the piece is reduced from cache.
          const std::int64_t blk = u % nb, len = len_of(blk);
          Block bl;
          for (std::int64_t s = 0; s < len; s += kFill) {
            const std::int64_t l = std::min(kFill, len - s);
            job.fill(start + s, start + s + l, sc.block, sc.pp);
            if (s + l < len) job.prefetch(start + s + l, start + std::min(len, s + l + kFill));
            bl.add(vals, l, blk * kBlock + s);
          }
          done(u++, bl.finish());
          continue;
        }
        // As many whole consecutive short units as fit one piece, in one kernel call.
        std::int64_t v = u, total = 0;
        while (v < u1 && len_of(v % nb) <= kFill && total + len_of(v % nb) <= kScratch)
          total += len_of(v++ % nb);
        job.fill(start, start + total, sc.block, sc.pp);
        std::int64_t off = 0;
        for (std::int64_t x = u; x < v; ++x) {
          const std::int64_t blk = x % nb, len = len_of(blk);
          Block bl;
          bl.add(vals + off, len, blk * kBlock);
          off += len;
          done(x, bl.finish());
        }
        u = v;
      }
    });
    if (nb > 1)
      for (std::int64_t o = 0; o < (b1 - b0) * m; ++o)
        finish(job, o0 + o, pairwise(partials.data() + o * nb, nb, 1));
  }

  static void run_outer(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
    const std::int64_t n = job.n, m = job.m;
    const std::int64_t T = std::min(m, kTile), nt = ceil_div(m, T), nrb = ceil_div(n, kRowBlock);
    const std::int64_t units = (b1 - b0) * nrb * nt;
    std::vector<A> partials(nrb > 1 ? static_cast<std::size_t>((b1 - b0) * nrb * m) : 0);
    for_units(ex, units, std::min(n, kRowBlock) * T, [&](std::int64_t u0, std::int64_t u1) {
      Scratch &sc = scratch();
      sc.acc.resize(static_cast<std::size_t>((kLevels + 2) * T) * sizeof(A));
      A *acc = reinterpret_cast<A *>(sc.acc.data());
      A *res = acc + T;
      for (std::int64_t u = u0; u < u1; ++u) {
        const std::int64_t t = u % nt, rb = (u / nt) % nrb, b = b0 + u / (nt * nrb);
        const std::int64_t c0 = t * T, W = std::min(T, m - c0);
        const std::int64_t r0 = rb * kRowBlock, r1 = std::min(n, r0 + kRowBlock);
        Counter ctr(acc + 2 * T, W);
        std::fill(acc, acc + W, R::id());
        std::int64_t in_leaf = 0;
        // Whole rows fit the scratch when the tile is the full row: fetch several per call.
        const std::int64_t per_fill = W == m ? std::max<std::int64_t>(1, kScratch / m) : 1;
        for (std::int64_t k = r0; k < r1;) {
          const std::int64_t q = std::min(per_fill, r1 - k);
          const std::int64_t start = (b * n + k) * m + c0;
          job.fill(start, start + (q - 1) * m + W, sc.block, sc.pp);
          for (std::int64_t rr = 0; rr < q; ++rr) {
            const V *x = reinterpret_cast<const V *>(sc.block) + rr * m;
            for (std::int64_t j = 0; j < W; ++j) acc[j] = R::step(acc[j], x[j], k + rr);
            if (++in_leaf == kLeafRows) {
              ctr.push(acc);
              std::fill(acc, acc + W, R::id());
              in_leaf = 0;
            }
          }
          k += q;
        }
        if (in_leaf > 0) ctr.push(acc);
        ctr.fold(res);
        if (nrb == 1) {
          for (std::int64_t j = 0; j < W; ++j) finish(job, b * m + c0 + j, res[j]);
        } else {
          A *dst = partials.data() + ((b - b0) * nrb + rb) * m + c0;
          std::copy(res, res + W, dst);
        }
      }
    });
    if (nrb > 1)
      for (std::int64_t b = b0; b < b1; ++b)
        for (std::int64_t j = 0; j < m; ++j)
          finish(job, b * m + j, pairwise(partials.data() + (b - b0) * nrb * m + j, nrb, m));
  }

  static void run(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
    if (job.n == 0) {
      for (std::int64_t o = b0 * job.m; o < b1 * job.m; ++o) finish(job, o, R::id());
      return;
    }
    if (job.m == 0 || b1 <= b0) return; // no outputs
    if (job.inner)
      run_inner(job, b0, b1, ex);
    else
      run_outer(job, b0, b1, ex);
  }
};

template <template <class> class R>
void run_numeric(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
  switch (job.value) {
  case DType::Bool:
  case DType::U8: return Reducer<R<std::uint8_t>>::run(job, b0, b1, ex);
  case DType::I8: return Reducer<R<std::int8_t>>::run(job, b0, b1, ex);
  case DType::I16: return Reducer<R<std::int16_t>>::run(job, b0, b1, ex);
  case DType::I32: return Reducer<R<std::int32_t>>::run(job, b0, b1, ex);
  case DType::I64: return Reducer<R<std::int64_t>>::run(job, b0, b1, ex);
  case DType::U16: return Reducer<R<std::uint16_t>>::run(job, b0, b1, ex);
  case DType::U32: return Reducer<R<std::uint32_t>>::run(job, b0, b1, ex);
  case DType::U64: return Reducer<R<std::uint64_t>>::run(job, b0, b1, ex);
  case DType::F32: return Reducer<R<float>>::run(job, b0, b1, ex);
  case DType::F64: return Reducer<R<double>>::run(job, b0, b1, ex);
  default: internal(fmt::format("no reducer for {} values", dtype_name(job.value)));
  }
}

template <class V> using MinR = ExtR<V, true>;
template <class V> using MaxR = ExtR<V, false>;
template <class V> using ArgMinR = ArgR<V, true>;
template <class V> using ArgMaxR = ArgR<V, false>;

void run_job(const Job &job, std::int64_t b0, std::int64_t b1, Executor *ex) {
  using ir::Op;
  auto acc_only = [&](std::initializer_list<DType> ok) {
    if (std::find(ok.begin(), ok.end(), job.value) == ok.end())
      internal(fmt::format("{} over {} values", ir::op_name(job.op), dtype_name(job.value)));
  };
  switch (job.op) {
  case Op::Sum:
  case Op::Mean:
    acc_only({DType::I64, DType::U64, DType::F32, DType::F64});
    return run_numeric<SumR>(job, b0, b1, ex);
  case Op::Prod:
    acc_only({DType::I64, DType::U64, DType::F32, DType::F64});
    return run_numeric<ProdR>(job, b0, b1, ex);
  case Op::Min: return run_numeric<MinR>(job, b0, b1, ex);
  case Op::Max: return run_numeric<MaxR>(job, b0, b1, ex);
  case Op::ArgMin: return run_numeric<ArgMinR>(job, b0, b1, ex);
  case Op::ArgMax: return run_numeric<ArgMaxR>(job, b0, b1, ex);
  case Op::Any:
    acc_only({DType::Bool});
    return Reducer<BoolR<true>>::run(job, b0, b1, ex);
  case Op::All:
    acc_only({DType::Bool});
    return Reducer<BoolR<false>>::run(job, b0, b1, ex);
  default: internal(fmt::format("'{}' is not a reduction", ir::op_name(job.op)));
  }
}

bool needs_elements(ir::Op op) {
  return op == ir::Op::Min || op == ir::Op::Max || op == ir::Op::ArgMin || op == ir::Op::ArgMax;
}

std::vector<std::uint64_t> kernel_slots(const KernelCode &code,
                                        const std::vector<std::uint64_t> &slots) {
  std::vector<std::uint64_t> k;
  for (const KernelCode::Slot &sl : code.slots())
    k.push_back(sl.program_param >= 0 ? slots.at(static_cast<std::size_t>(sl.program_param))
                                      : sl.literal);
  return k;
}

Job make_job(const CompiledPlan &cp, std::size_t step, std::vector<Array> &bufs,
             const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms) {
  const passes::ReduceStep &r = cp.plan.steps.at(step).reduce;
  const passes::KernelStep &mk = r.map;
  Job job;
  job.op = r.op;
  if (mk.kernel.outputs.size() != 1) internal("a reduction's map must have one output");
  job.value = mk.kernel.type(mk.kernel.outputs[0].value).dtype;
  job.value_size = dtype_size(job.value);
  const std::vector<std::int64_t> S =
      ir::concrete_shape(ir::Type{DType::Bool, mk.iter_dims}, syms);
  const int rank = static_cast<int>(S.size());

  // The permutation of the iteration space: batch, then (kept, reduced) or (reduced, kept).
  std::vector<bool> red(static_cast<std::size_t>(rank), false);
  for (int a : r.axes) {
    if (a < 0 || a >= rank) internal("reduction axis out of range");
    red[static_cast<std::size_t>(a)] = true;
  }
  const int p = r.axes.empty() ? rank : r.axes.front();
  job.inner = r.axes.empty() || red[static_cast<std::size_t>(rank - 1)];
  std::vector<int> perm, kept_rest, reduced;
  for (int d = 0; d < p; ++d) perm.push_back(d);
  for (int d = p; d < rank; ++d) (red[static_cast<std::size_t>(d)] ? reduced : kept_rest).push_back(d);
  auto append = [&](const std::vector<int> &v) { perm.insert(perm.end(), v.begin(), v.end()); };
  if (job.inner) {
    append(kept_rest);
    append(reduced);
  } else {
    append(reduced);
    append(kept_rest);
  }
  job.nbatch = 1;
  for (int d = 0; d < p; ++d) job.nbatch *= S[static_cast<std::size_t>(d)];
  job.m = 1;
  for (int d : kept_rest) job.m *= S[static_cast<std::size_t>(d)];
  job.n = 1;
  for (int d : reduced) job.n *= S[static_cast<std::size_t>(d)];
  for (int d : perm) job.shape.push_back(S[static_cast<std::size_t>(d)]);

  // The map's operands over the permuted space.
  cg::KernelSpec spec;
  spec.rank = rank;
  spec.precision = cp.precision;
  auto permuted_layout = [&](const std::vector<std::int64_t> &st) {
    std::int64_t expect = 1;
    for (int d = rank; d-- > 0;) {
      const std::int64_t e = job.shape[static_cast<std::size_t>(d)];
      if (e == 1) continue;
      if (st[static_cast<std::size_t>(d)] != expect) return cg::Layout::Strided;
      expect *= e;
    }
    return cg::Layout::Contiguous;
  };
  for (int b : mk.inputs) {
    const Array &a = bufs.at(static_cast<std::size_t>(b));
    OperandMap om = map_operand(a.shape(), a.strides(), S);
    std::vector<std::int64_t> st;
    for (int d : perm) st.push_back(om.strides[static_cast<std::size_t>(d)]);
    spec.inputs.push_back(om.layout == cg::Layout::Scalar ? cg::Layout::Scalar : permuted_layout(st));
    if (spec.inputs.back() == cg::Layout::Contiguous)
      job.contiguous_inputs.push_back({a.data(), dtype_size(a.dtype())});
    job.strides.insert(job.strides.end(), st.begin(), st.end());
    job.ptrs.push_back(a.data());
  }
  {
    std::vector<std::int64_t> st(static_cast<std::size_t>(rank));
    std::int64_t e = 1;
    for (int d = rank; d-- > 0;) {
      st[static_cast<std::size_t>(d)] = e;
      e *= job.shape[static_cast<std::size_t>(d)];
    }
    spec.outputs.push_back(cg::Layout::Contiguous);
    job.strides.insert(job.strides.end(), st.begin(), st.end());
    job.ptrs.push_back(nullptr);
  }
  // The reduce kernel when there is one and every operand is read with plain vector loads;
  // the map kernel for the C++ loops otherwise. Only the one that runs is compiled.
  const KernelCode *rcode = nullptr;
  if (job.inner && job.n > 0 && job.m > 0 && job.nbatch > 0 &&
      g_jit.load(std::memory_order_relaxed) &&
      std::none_of(spec.inputs.begin(), spec.inputs.end(),
                   [](cg::Layout l) { return l == cg::Layout::Strided; }))
    rcode = reduce_kernel_code(cp, step);
  if (rcode) {
    job.block_params = kernel_slots(*rcode, slots);
    job.block_fn = KernelCache::global().get(
        *rcode, SpecRef{spec.rank, spec.precision, spec.inputs, spec.outputs}, *cp.cache,
        cp.log.get());
    ++g_jit_runs;
  } else {
    const KernelCode *code = cp.code.size() > step ? cp.code[step].get() : nullptr;
    if (!code) internal("reduce step without prepared map code");
    job.params = kernel_slots(*code, slots);
    job.fn = KernelCache::global().get(
        *code, SpecRef{spec.rank, spec.precision, spec.inputs, spec.outputs}, *cp.cache,
        cp.log.get());
    ++g_fallback_runs;
  }

  // The output: its kept dims, in order, are the batch dims then the other kept dims.
  const Array &out = bufs.at(static_cast<std::size_t>(r.output));
  job.out = static_cast<std::byte *>(out.data());
  job.out_dt = out.dtype();
  job.out_size = dtype_size(out.dtype());
  job.out_contiguous = out.is_contiguous();
  for (int d = 0, od = 0; d < rank; ++d) {
    const bool is_red = red[static_cast<std::size_t>(d)];
    if (!is_red) {
      job.okept_shape.push_back(S[static_cast<std::size_t>(d)]);
      job.okept_strides.push_back(out.strides().at(static_cast<std::size_t>(od)));
    }
    if (!is_red || r.keepdims) ++od;
  }
  return job;
}

// A kernel step prepared for calls on sub-ranges of its iteration space.
struct Launch {
  cg::KernelFn fn = nullptr;
  std::vector<void *> ptrs;
  std::vector<std::int64_t> strides, shape;
  std::vector<std::uint64_t> params;
  std::int64_t total = 0;
};

Launch make_launch(const CompiledPlan &cp, std::size_t step, std::vector<Array> &bufs,
                   const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms) {
  const passes::KernelStep &ks = cp.plan.steps.at(step).kernel;
  Launch l;
  l.shape = ir::concrete_shape(ir::Type{DType::Bool, ks.iter_dims}, syms);
  l.total = 1;
  for (auto e : l.shape) l.total *= e;
  cg::KernelSpec spec;
  spec.rank = static_cast<int>(l.shape.size());
  spec.precision = cp.precision;
  auto add = [&](const Array &a, bool output) {
    OperandMap m = map_operand(a.shape(), a.strides(), l.shape);
    if (output && m.layout == cg::Layout::Scalar) m.layout = cg::Layout::Contiguous;
    (output ? spec.outputs : spec.inputs).push_back(m.layout);
    l.ptrs.push_back(a.data());
    l.strides.insert(l.strides.end(), m.strides.begin(), m.strides.end());
  };
  for (int b : ks.inputs) add(bufs.at(static_cast<std::size_t>(b)), false);
  for (int b : ks.outputs) add(bufs.at(static_cast<std::size_t>(b)), true);
  const KernelCode &code = *cp.code.at(step);
  l.params = kernel_slots(code, slots);
  l.fn = KernelCache::global().get(code, SpecRef{spec.rank, spec.precision, spec.inputs, spec.outputs},
                                   *cp.cache, cp.log.get());
  return l;
}

} // namespace

std::shared_ptr<const KernelCode> make_reduce_code(const passes::ReduceStep &r, int index) {
  const ir::Graph &map = r.map.kernel;
  if (map.outputs.size() != 1) return nullptr;
  if (!cg::reduce_kernel_supported(r.op, map.type(map.outputs[0].value).dtype)) return nullptr;
  passes::KernelStep ks = r.map;
  ks.kernel = cg::make_reduce_kernel(map, r.op);
  return std::make_shared<const KernelCode>(ks, index);
}

const KernelCode *reduce_kernel_code(const CompiledPlan &cp, std::size_t step) {
  for (std::size_t i = cp.plan.steps.size(); i < cp.code.size(); ++i)
    if (cp.code[i] && static_cast<std::size_t>(cp.code[i]->index()) == step)
      return cp.code[i].get();
  return nullptr;
}

void check_reduce_extent(ir::Op op, std::int64_t n) {
  if (needs_elements(op) && n == 0)
    throw Error(ErrorKind::Runtime,
                fmt::format("{} of an empty array has no identity", ir::op_name(op)));
}

void set_reduce_jit(bool on) { g_jit.store(on); }
bool reduce_jit() { return g_jit.load(); }

ReduceCounters reduce_counters() { return {g_jit_runs.load(), g_fallback_runs.load()}; }

void run_reduce_step(const CompiledPlan &cp, std::size_t step, std::vector<Array> &bufs,
                     const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms,
                     Executor &ex) {
  Job job = make_job(cp, step, bufs, slots, syms);
  check_reduce_extent(job.op, job.n);
  run_job(job, 0, job.nbatch, &ex);
}

std::size_t run_row_group(const CompiledPlan &cp, std::size_t first, std::vector<Array> &bufs,
                          const std::vector<std::uint64_t> &slots, const ir::SymbolSizes &syms,
                          Executor &ex) {
  const passes::Plan &p = cp.plan;
  const passes::RowGroup &g =
      p.row_groups.at(static_cast<std::size_t>(p.steps.at(first).row_group));
  const auto last = static_cast<std::size_t>(g.last);
  if (static_cast<std::size_t>(g.first) != first || last < first || last >= p.steps.size())
    internal("malformed row group");
  std::int64_t rows = 1;
  for (auto e : ir::concrete_shape(ir::Type{DType::Bool, g.rows}, syms)) rows *= e;

  // Bytes per row over the buffers the group touches that have the rows as their leading dims.
  std::vector<int> touched;
  auto touch = [&](int b) {
    if (std::find(touched.begin(), touched.end(), b) == touched.end()) touched.push_back(b);
  };
  for (std::size_t s = first; s <= last; ++s) {
    const Step &st = p.steps[s];
    const passes::KernelStep &k = st.kind == Step::Kind::Kernel ? st.kernel : st.reduce.map;
    for (int b : k.inputs) touch(b);
    for (int b : k.outputs) touch(b);
    if (st.kind == Step::Kind::Reduce) touch(st.reduce.output);
  }
  std::int64_t row_bytes = 0;
  const std::size_t nrow_dims = g.rows.size();
  for (int b : touched) {
    const Array &a = bufs.at(static_cast<std::size_t>(b));
    const auto &dims = p.buffers.at(static_cast<std::size_t>(b)).type.dims;
    if (dims.size() < nrow_dims || !std::equal(g.rows.begin(), g.rows.end(), dims.begin())) continue;
    if (rows > 0) row_bytes += a.size() / rows * dtype_size(a.dtype());
  }
  const std::int64_t tile = std::max<std::int64_t>(1, kRowTileBytes / std::max<std::int64_t>(1, row_bytes));
  const std::int64_t ntiles = rows > 0 ? ceil_div(rows, tile) : 0;

  // Prepare every step; an empty min/max raises here, before anything runs.
  struct Prepared {
    bool reduce = false;
    Job job;
    Launch launch;
  };
  std::vector<Prepared> steps;
  bool any_empty = false;
  for (std::size_t s = first; s <= last; ++s) {
    Prepared pr;
    pr.reduce = p.steps[s].kind == Step::Kind::Reduce;
    if (pr.reduce) {
      pr.job = make_job(cp, s, bufs, slots, syms);
      any_empty |= pr.job.n == 0;
    } else {
      pr.launch = make_launch(cp, s, bufs, slots, syms);
    }
    steps.push_back(std::move(pr));
  }

  if (rows == 0 || any_empty || row_bytes > kRowTileBytes || ntiles < ex.threads()) {
    // Step by step over the whole arrays: the same results (blocks do not depend on tiling).
    for (std::size_t s = first; s <= last; ++s) {
      Prepared &pr = steps[s - first];
      if (pr.reduce) {
        check_reduce_extent(pr.job.op, pr.job.n);
        run_job(pr.job, 0, pr.job.nbatch, &ex);
      } else if (pr.launch.total > 0) {
        const Launch &l = pr.launch;
        ex.parallel_for(l.total, [&](std::int64_t b, std::int64_t e) {
          l.fn(l.ptrs.data(), l.strides.data(), l.params.data(), l.shape.data(), b, e);
        });
      }
    }
    return last;
  }

  std::int64_t row_elems = 1;
  for (const Prepared &pr : steps)
    row_elems = std::max(row_elems, pr.reduce ? pr.job.nbatch / rows * pr.job.m * pr.job.n
                                              : pr.launch.total / rows);
  ex.parallel_for(ntiles * tile * row_elems, [&](std::int64_t cb, std::int64_t ce) {
    const std::int64_t w = tile * row_elems;
    for (std::int64_t t = ceil_div(cb, w); t < std::min(ntiles, ceil_div(ce, w)); ++t) {
      const std::int64_t r0 = t * tile, r1 = std::min(rows, r0 + tile);
      for (const Prepared &pr : steps) {
        if (pr.reduce) {
          const std::int64_t per = pr.job.nbatch / rows;
          run_job(pr.job, r0 * per, r1 * per, nullptr);
        } else {
          const Launch &l = pr.launch;
          const std::int64_t per = l.total / rows;
          l.fn(l.ptrs.data(), l.strides.data(), l.params.data(), l.shape.data(), r0 * per, r1 * per);
        }
      }
    }
  });
  return last;
}

} // namespace xpr::rt
