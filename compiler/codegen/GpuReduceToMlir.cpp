// compiler/codegen/GpuReduceToMlir.cpp — see GpuReduceToMlir.h; the order it keeps is in
// docs/gpu.md, "Reductions" and "Column reductions".
#include "compiler/codegen/GpuReduceToMlir.h"

#include "compiler/codegen/GpuKernelFrame.h"
#include "compiler/codegen/KernelToMlir.h"
#include "compiler/codegen/ReduceCombine.h"
#include "compiler/codegen/ReduceKernel.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/GPU/IR/GPUDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/IR/Verifier.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace xpr::cg {

mlir::OwningOpRef<mlir::ModuleOp> build_gpu_reduce_module(mlir::MLIRContext &ctx,
                                                          const ir::Graph &g,
                                                          const GpuKernelSpec &gs,
                                                          const std::string &name) {
  using namespace mlir;
  Location loc = UnknownLoc::get(&ctx);
  const ir::Node &red = g.nodes.back();
  const bool arg = is_arg_reduce(red.op);
  const std::size_t nout = arg ? 2 : 1;
  if (gs.vector != 1) gpu_internal("a reduce kernel has no vector form");
  if (gs.spec.outputs.size() != nout ||
      std::any_of(gs.spec.outputs.begin(), gs.spec.outputs.end(),
                  [](Layout l) { return l != Layout::Contiguous; }))
    gpu_internal("a reduce kernel's outputs (the partials) are Contiguous");
  ir::Graph map = reduce_kernel_map(g); // outlives the emitter
  const DType value = map.type(map.outputs[0].value).dtype;
  if (!arg && !reduce_kernel_supported(red.op, value))
    gpu_internal(
        fmt::format("no reduce kernel for {} of {}", ir::op_name(red.op), dtype_name(value)));
  // A combining argmin/argmax pass reads each value's index beside it: a second map output.
  ir::ValueId indices = -1;
  for (ir::ValueId v = 0; v < static_cast<ir::ValueId>(map.nodes.size()); ++v)
    if (arg && map.nodes[v].op == ir::Op::Input && map.nodes[v].name == kReduceIndices) indices = v;
  if (indices >= 0) map.outputs.push_back(ir::Output{"out1", indices});
  KernelSpec es = gs.spec; // the emitter's view: one output per map output
  es.outputs.assign(map.outputs.size(), Layout::Contiguous);
  ElementEmitter em(ctx, map, es, MathLib::Libdevice);
  OpBuilder &b = em.builder();
  std::vector<Layout> layouts = gs.spec.inputs;
  layouts.insert(layouts.end(), gs.spec.outputs.begin(), gs.spec.outputs.end());
  const int nops = static_cast<int>(layouts.size());
  GpuFrame f = open_gpu_kernel(ctx, em, nullptr, map, gs, layouts, name, 4);
  const Type it = f.it;
  const Value n = f.tail[0], units = f.tail[1], chunks = f.tail[2], clen = f.tail[3];
  constexpr int kWarps = kGpuReduceThreads / 32;
  static_assert(kWarps == 8, "the cross-warp tree below combines 8 warps");
  Type i64 = b.getI64Type(), i32 = b.getI32Type();

  // The accumulator's components: the value (bools as bytes; argmin/argmax compare halves in
  // f32), and for argmin/argmax the index (i64, -1 while empty).
  Type elem = comb_elem_type(b, reduce_partial_dtype(red.op, value));
  std::vector<Type> comps{elem};
  if (arg) comps.push_back(i64);
  using Acc = std::vector<Value>;

  Type sptr = LLVM::LLVMPointerType::get(&ctx, 3);
  Type ptr = LLVM::LLVMPointerType::get(&ctx);
  std::vector<Value> outs;
  for (std::size_t c = 0; c < nout; ++c)
    outs.push_back(b.create<LLVM::LoadOp>(
        loc, ptr,
        b.create<LLVM::GEPOp>(
            loc, ptr, ptr, f.ptrs,
            ArrayRef<LLVM::GEPArg>{nops - static_cast<int>(nout) + static_cast<int>(c)})));

  auto cit = [&](std::int64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(it, v)).getResult();
  };
  auto c64 = [&](std::int64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(v)).getResult();
  };
  auto icmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, p, x, y).getResult();
  };
  auto sel = [&](Value k, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, k, x, y).getResult();
  };
  const bool is_min = red.op == ir::Op::ArgMin;
  const Comb comb = arg ? Comb::Add /* unused */ : comb_of(red.op);
  // comb(a, x), `a` the older partial: runtime/Reduce.cpp's R::comb / ArgR::comb.
  auto combine = [&](const Acc &a, const Acc &x) -> Acc {
    if (!arg) return {comb_apply(b, loc, comb, value, a[0], x[0])};
    auto [v, k] = arg_combine(b, loc, is_min, value, {a[0], a[1]}, {x[0], x[1]});
    return {v, k};
  };
  // Lane l gets lane l + w's value (the lanes past 31 get their own, never used).
  auto shuffle_down = [&](Value v, int w) -> Value {
    auto shfl = [&](Value x) {
      return b.create<gpu::ShuffleOp>(loc, x, w, 32, gpu::ShuffleMode::DOWN).getShuffleResult();
    };
    Type t = v.getType();
    const unsigned bits = t.getIntOrFloatBitWidth();
    if (bits == 32) return shfl(v);
    if (bits < 32)
      return b.create<arith::TruncIOp>(loc, t, shfl(b.create<arith::ExtUIOp>(loc, i32, v)));
    // 64 bits: the two halves separately.
    Value x = isa<FloatType>(t) ? Value(b.create<arith::BitcastOp>(loc, i64, v)) : v;
    Value lo = shfl(b.create<arith::TruncIOp>(loc, i32, x));
    Value hi = shfl(b.create<arith::TruncIOp>(loc, i32, b.create<arith::ShRUIOp>(loc, x, c64(32))));
    Value y = b.create<arith::OrIOp>(
        loc, b.create<arith::ExtUIOp>(loc, i64, lo),
        b.create<arith::ShLIOp>(loc, b.create<arith::ExtUIOp>(loc, i64, hi), c64(32)));
    return isa<FloatType>(t) ? Value(b.create<arith::BitcastOp>(loc, t, y)) : y;
  };
  auto tree = [&](Acc v, int widest) {
    for (int w = widest; w >= 1; w /= 2) {
      Acc o;
      for (Value c : v)
        o.push_back(shuffle_down(c, w));
      v = combine(v, o);
    }
    return v;
  };
  auto when = [&](Value cond, const std::function<void()> &body) {
    auto op = b.create<scf::IfOp>(loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&op.getThenRegion().front());
    body();
  };
  auto idx = [&](Value v) { return b.create<arith::IndexCastUIOp>(loc, it, v); };
  Value tid = idx(b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x));
  Value bid = idx(b.create<gpu::BlockIdOp>(loc, gpu::Dimension::x));
  Value gdim = idx(b.create<gpu::GridDimOp>(loc, gpu::Dimension::x));
  Value lane = b.create<arith::AndIOp>(loc, tid, cit(31));
  Value warp = b.create<arith::ShRUIOp>(loc, tid, cit(5));
  Value lane0 = icmp(arith::CmpIPredicate::eq, lane, cit(0));
  Acc identity;
  if (arg) {
    identity = {b.create<arith::ConstantOp>(loc, b.getZeroAttr(elem)), c64(-1)};
  } else {
    identity = {comb_identity(b, loc, comb, value, Type())};
  }
  // `per` slots per component in shared memory (i64-sized), named after the kernel (several
  // kernels share a module): the result maps (component c, slot k) to its address. Dynamic
  // slots are the launch's dynamic shared memory (an extern array of unknown size), which only
  // the launches that use them pay for (gpu_reduce_shared_bytes).
  auto shared_slots = [&](const char *suffix, int per, bool dynamic) {
    const std::string sym = name + suffix;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(f.gbody);
      const std::int64_t size = dynamic ? 0 : per * static_cast<std::int64_t>(comps.size());
      b.create<LLVM::GlobalOp>(loc, LLVM::LLVMArrayType::get(i64, size), /*isConstant=*/false,
                               dynamic ? LLVM::Linkage::External : LLVM::Linkage::Internal, sym,
                               Attribute(), /*alignment=*/8, /*addrSpace=*/3);
    }
    Value base = b.create<LLVM::AddressOfOp>(loc, sptr, sym);
    return [&, base, per](std::size_t c, Value k) -> Value {
      Value at = b.create<arith::AddIOp>(loc, k, cit(static_cast<std::int64_t>(c) * per));
      return b.create<LLVM::GEPOp>(loc, sptr, comps[c], base, ArrayRef<LLVM::GEPArg>{at});
    };
  };
  // The block schedule's: one slot per warp.
  auto slot = shared_slots("_warps", kWarps, false);

  // Unit u's chunk: [lo, hi) of row o, whose iterations start at base.
  struct UnitRange {
    Value lo, hi, base;
  };
  auto unit_range = [&](Value u) {
    Value o = b.create<arith::DivUIOp>(loc, u, chunks);
    Value c = b.create<arith::SubIOp>(loc, u, b.create<arith::MulIOp>(loc, o, chunks));
    Value lo = b.create<arith::MulIOp>(loc, c, clen);
    Value hi = b.create<arith::MinUIOp>(loc, n, b.create<arith::AddIOp>(loc, lo, clen));
    return UnitRange{lo, hi, b.create<arith::MulIOp>(loc, o, n)};
  };
  // Thread t's part of a unit: the values t, t + 256, ... of the chunk, folded in sequence
  // from the identity.
  auto fold = [&](const UnitRange &r, Value t) {
    auto loop = b.create<scf::ForOp>(
        loc, b.create<arith::AddIOp>(loc, r.lo, t), r.hi, cit(kGpuReduceThreads),
        ValueRange(identity), [&](OpBuilder &, Location, Value j, ValueRange acc) {
          Value i = b.create<arith::AddIOp>(loc, r.base, j);
          const std::vector<Value> offs = gpu_strided_offsets(b, f, i, nops);
          auto lane_value = [&](int output) {
            Value x = em.value(i, offs, output);
            return b.create<vector::ExtractOp>(loc, x, ArrayRef<int64_t>{0}).getResult();
          };
          Value x = lane_value(0);
          if (value == DType::Bool) x = b.create<arith::ExtUIOp>(loc, elem, x);
          Acc step{x};
          if (arg) {
            // The index within the row: j itself, or the partial's own (combining passes).
            Value k = indices >= 0  ? lane_value(1)
                      : f.it == i64 ? j
                                    : Value(b.create<arith::ExtUIOp>(loc, i64, j));
            step.push_back(k);
          }
          b.create<scf::YieldOp>(loc, ValueRange(combine(Acc(acc.begin(), acc.end()), step)));
        });
    return Acc(loop.getResults().begin(), loop.getResults().end());
  };
  auto store_unit = [&](Value u, const Acc &r) {
    for (std::size_t q = 0; q < nout; ++q) {
      Value dst = b.create<LLVM::GEPOp>(loc, ptr, comps[q], outs[q], ArrayRef<LLVM::GEPArg>{u});
      // The natural alignment, said explicitly: without it the translation assumes LLVM's
      // default layout, whose i64 is 4-aligned, and NVPTX splits each i64 store in two.
      const unsigned align = (comps[q].getIntOrFloatBitWidth() + 7) / 8;
      b.create<LLVM::StoreOp>(loc, r[q], dst, align);
    }
  };
  // Nested 2-trip loops over bits from..to of t (bit `to` innermost), leaf(t) for each of the
  // 2^(to - from + 1) values: they pair the leaves as a tree whose first step combines t with
  // t + 2^to, then bits to - 1, ..., from. Each loop starts from the identity, and id ⊕ x = x
  // for every value a fold yields (see the segments below). Loops, not unrolled copies of the
  // leaf: LLVM unrolls them where the leaf is small, and a big leaf (argmax's fold and tree)
  // copied 8 or 16 times made most of a reduce kernel's compile time.
  std::function<Acc(int, int, Value, const std::function<Acc(Value)> &)> bit_loops =
      [&](int from, int to, Value t, const std::function<Acc(Value)> &leaf) -> Acc {
    if (from > to) return leaf(t);
    auto loop = b.create<scf::ForOp>(
        loc, cit(0), cit(2), cit(1), ValueRange(identity),
        [&](OpBuilder &, Location, Value h, ValueRange acc) {
          Value th = b.create<arith::AddIOp>(loc, t, b.create<arith::ShLIOp>(loc, h, cit(from)));
          Acc sub = bit_loops(from + 1, to, th, leaf);
          b.create<scf::YieldOp>(loc, ValueRange(combine(Acc(acc.begin(), acc.end()), sub)));
        });
    return Acc(loop.getResults().begin(), loop.getResults().end());
  };
  // The schedule follows the block size the runtime launches with. Blocks of
  // kGpuReduceThreads: a block per unit, 8 warps combined through shared memory. Any other
  // (kGpuReduceWarpBlock): a warp per unit, each lane playing the block's threads l, l + 32,
  // ..., l + 224 and combining their values in the block schedule's very order, so results
  // are the same bits; short rows then keep no idle warps, barriers or shared memory.
  Value ntid = idx(b.create<gpu::BlockDimOp>(loc, gpu::Dimension::x));
  Value block_mode = icmp(arith::CmpIPredicate::eq, ntid, cit(kGpuReduceThreads));
  auto mode = b.create<scf::IfOp>(loc, block_mode, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&mode.getThenRegion().front());
    gpu_stride_loop(b, it, bid, units, gdim, [&](Value u) {
      Acc v = tree(fold(unit_range(u), tid), 16);
      when(lane0, [&] {
        for (std::size_t k = 0; k < v.size(); ++k)
          b.create<LLVM::StoreOp>(loc, v[k], slot(k, warp));
      });
      b.create<gpu::BarrierOp>(loc);
      when(icmp(arith::CmpIPredicate::eq, warp, cit(0)), [&] {
        // Lanes 0..7 hold the warps' values; the others the identity (read from a valid slot).
        Value k = b.create<arith::MinUIOp>(loc, lane, cit(kWarps - 1));
        Value mine = icmp(arith::CmpIPredicate::ult, lane, cit(kWarps));
        Acc w;
        for (std::size_t q = 0; q < comps.size(); ++q)
          w.push_back(sel(mine, b.create<LLVM::LoadOp>(loc, comps[q], slot(q, k)), identity[q]));
        Acc r = tree(w, kWarps / 2);
        when(lane0, [&] { store_unit(u, r); });
      });
      b.create<gpu::BarrierOp>(loc); // the slots are reused by the next unit
    });
  }
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&mode.getElseRegion().front());
    auto columns = b.create<scf::IfOp>(
        loc, icmp(arith::CmpIPredicate::eq, ntid, cit(kGpuReduceColumnBlock)), true);
    b.setInsertionPointToStart(&columns.getThenRegion().front());
    {
      // Column schedule: a block takes 32 rows of one chunk, lane l row 32g + l, so a warp
      // loads 32 adjacent values where rows are adjacent in memory (a column reduction). Warp
      // k plays the 16 block-schedule threads t whose bits 0, 7, 6, 5 are k's bits 0..3 and
      // combines them in registers in the tree's own order: the shuffle trees combine t with
      // t + 16 first, then bits 3, 2, 1, 0 of t, then the cross-warp tree bits 7, 6, 5. So
      // nested 2-trip loops over bits 1..4 (bit 4 innermost, bit_loops) pair the subtrees as
      // the shuffles do, and warp 0 pairs the 16 warps' values by k's bits 0..3.
      constexpr int kColWarps = kGpuReduceColumnBlock / 32;
      static_assert(kColWarps == 16 && kGpuReduceColumnRows == 32,
                    "warp k names bits 0, 7, 6, 5 of its threads; a lane a row");
      // One slot per thread: warp k's row l at 32k + l. 4 KiB (8 KiB for argmin/argmax) that
      // the other schedules would not use: dynamic, given by column-schedule launches alone.
      auto cslot = shared_slots("_columns", kGpuReduceColumnBlock, true);
      auto bit = [&](Value k, int from, int to) {
        return b.create<arith::ShLIOp>(
            loc, b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, k, cit(from)), cit(1)),
            cit(to));
      };
      Value t0 = bit(warp, 0, 0);
      for (auto [from, to] : {std::pair{1, 7}, {2, 6}, {3, 5}})
        t0 = b.create<arith::OrIOp>(loc, t0, bit(warp, from, to));
      Value rows = b.create<arith::DivUIOp>(loc, units, chunks);
      Value groups = b.create<arith::MulIOp>(
          loc, b.create<arith::ShRUIOp>(loc, b.create<arith::AddIOp>(loc, rows, cit(31)), cit(5)),
          chunks);
      gpu_stride_loop(b, it, bid, groups, gdim, [&](Value grp) {
        Value og = b.create<arith::DivUIOp>(loc, grp, chunks);
        Value c = b.create<arith::SubIOp>(loc, grp, b.create<arith::MulIOp>(loc, og, chunks));
        Value o = b.create<arith::AddIOp>(loc, b.create<arith::ShLIOp>(loc, og, cit(5)), lane);
        Value valid = icmp(arith::CmpIPredicate::ult, o, rows);
        // A lane past the last row folds nothing (and reads nothing), but meets the barriers.
        Value u =
            sel(valid, b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, o, chunks), c), c);
        UnitRange r = unit_range(u);
        r.hi = sel(valid, r.hi, r.lo);
        Acc v = bit_loops(1, 4, t0, [&](Value t) { return fold(r, t); });
        Value me = b.create<arith::AddIOp>(loc, b.create<arith::ShLIOp>(loc, warp, cit(5)), lane);
        for (std::size_t q = 0; q < v.size(); ++q)
          b.create<LLVM::StoreOp>(loc, v[q], cslot(q, me));
        b.create<gpu::BarrierOp>(loc);
        when(icmp(arith::CmpIPredicate::eq, warp, cit(0)), [&] {
          std::vector<Acc> w;
          for (int k = 0; k < kColWarps; ++k) {
            Acc a;
            for (std::size_t q = 0; q < comps.size(); ++q)
              a.push_back(b.create<LLVM::LoadOp>(
                  loc, comps[q], cslot(q, b.create<arith::AddIOp>(loc, lane, cit(32 * k)))));
            w.push_back(a);
          }
          for (int width = 1; width < kColWarps; width *= 2)
            for (int k = 0; k < kColWarps; k += 2 * width)
              w[static_cast<std::size_t>(k)] =
                  combine(w[static_cast<std::size_t>(k)], w[static_cast<std::size_t>(k + width)]);
          when(valid, [&] { store_unit(u, w[0]); });
        });
        b.create<gpu::BarrierOp>(loc); // the slots are reused by the next group
      });
    }
    b.setInsertionPointToStart(&columns.getElseRegion().front());
    Value per_block = b.create<arith::ShRUIOp>(loc, ntid, cit(5));
    Value first = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, bid, per_block), warp);
    Value all_warps = b.create<arith::MulIOp>(loc, gdim, per_block);
    auto segmented = b.create<scf::IfOp>(
        loc, icmp(arith::CmpIPredicate::ule, clen, cit(kGpuReduceSegmentMax)), true);
    b.setInsertionPointToStart(&segmented.getThenRegion().front());
    // Chunks of at most 32 values: only the block schedule's first warp holds values, each
    // thread one at most, and the other seven warps' trees are the identity. So a unit is one
    // segment of seg = 2^⌈log2 clen⌉ lanes, 32 / seg units to a warp. In the block schedule
    // the tree steps w ≥ seg and the cross-warp tree only combine values with the identity
    // (lane l + w ≥ clen, warps 1..7), and x ⊕ id = x for every x a fold yields: the fold
    // starts from the identity, so a sum's -0 is already +0 and a NaN already canonical, and
    // min, max, products, integers and argmin/argmax pairs are unchanged by it. The steps
    // w < seg are the full-warp shuffles: a segment's first lane reads lanes of its own
    // segment only, as lane 0 does in a warp. Same bits, without 7 of 8 idle trees and idle
    // lanes.
    {
      Value seg = cit(32);
      for (int w = 16; w >= 1; w /= 2)
        seg = sel(icmp(arith::CmpIPredicate::ule, clen, cit(w)), cit(w), seg);
      Value per_warp = b.create<arith::DivUIOp>(loc, cit(32), seg);
      Value sub = b.create<arith::AndIOp>(loc, lane, b.create<arith::SubIOp>(loc, seg, cit(1)));
      Value groups = b.create<arith::DivUIOp>(
          loc, b.create<arith::AddIOp>(loc, units, b.create<arith::SubIOp>(loc, per_warp, cit(1))),
          per_warp);
      gpu_stride_loop(b, it, first, groups, all_warps, [&](Value grp) {
        Value u = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, grp, per_warp),
                                          b.create<arith::DivUIOp>(loc, lane, seg));
        Value valid = icmp(arith::CmpIPredicate::ult, u, units);
        // A lane past the last unit folds nothing (and reads nothing), but still shuffles.
        UnitRange r = unit_range(sel(valid, u, cit(0)));
        r.hi = sel(valid, r.hi, r.lo);
        Acc v = fold(r, sub);
        // Only the steps w < seg run: a wider one would hand a segment's first lane values of
        // other segments. seg is the same in every lane (it follows from chunk_len), so the
        // branch is uniform and the shuffles in it see the whole warp.
        for (int w = 16; w >= 1; w /= 2) {
          std::vector<Type> types;
          for (Value c : v)
            types.push_back(c.getType());
          auto step = b.create<scf::IfOp>(loc, types, icmp(arith::CmpIPredicate::ult, cit(w), seg),
                                          /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&step.getThenRegion().front());
          Acc o;
          for (Value c : v)
            o.push_back(shuffle_down(c, w));
          b.create<scf::YieldOp>(loc, ValueRange(combine(v, o)));
          b.setInsertionPointToStart(&step.getElseRegion().front());
          b.create<scf::YieldOp>(loc, ValueRange(v));
          v = Acc(step.getResults().begin(), step.getResults().end());
        }
        when(b.create<arith::AndIOp>(loc, valid, icmp(arith::CmpIPredicate::eq, sub, cit(0))),
             [&] { store_unit(u, v); });
      });
    }
    b.setInsertionPointToStart(&segmented.getElseRegion().front());
    gpu_stride_loop(b, it, first, units, all_warps, [&](Value u) {
      const UnitRange r = unit_range(u);
      // Lane 0 ends with the block schedule's result: warp k's tree result, for each k,
      // combined by the cross-warp tree (width 4, 2, 1), that is ((w0 ⊕ w4) ⊕ (w2 ⊕ w6)) ⊕
      // ((w1 ⊕ w5) ⊕ (w3 ⊕ w7)): bit_loops over k's bits 0..2 pairs them in that order.
      static_assert(kWarps == 8, "three bits name a warp");
      Acc v = bit_loops(0, 2, cit(0), [&](Value k) {
        Value t = b.create<arith::AddIOp>(loc, lane, b.create<arith::ShLIOp>(loc, k, cit(5)));
        return tree(fold(r, t), 16);
      });
      when(lane0, [&] { store_unit(u, v); });
    });
  }
  b.create<gpu::ReturnOp>(loc);
  if (failed(verify(*f.top))) gpu_internal("generated MLIR does not verify");
  return std::move(f.top);
}

} // namespace xpr::cg
