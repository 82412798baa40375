// compiler/codegen/ReduceToMlir.cpp — lowers a reduce kernel (ReduceKernel.h) to MLIR: per block,
// the map is evaluated on 16 lanes straight from the inputs and accumulated in registers, in the
// fixed order of docs/semantics.md, and one partial per block is stored.
//
// The order, per block of up to 4096 values: leaves of 256 values, value i of a leaf into lane
// i mod 16 (a vector<16 x T> accumulator); leaves pushed in order into a binary counter of five
// levels (pushing a leaf combines it with the occupied levels below the first free one, older
// operand first), the occupied levels folded from the lowest up, then the 16 lanes combined
// pairwise (lane j with lane j + w, w = 8, 4, 2, 1). That is exactly runtime/Reduce.cpp's
// Reducer::Block, so both paths give the same bits. The counter's state is the binary form of the
// number of leaves pushed, so which levels combine is a select on a bit of the leaf index: one
// loop body serves full and partial blocks. The inputs are read in order, with software
// prefetches ahead (see kPrefetchBytes).
#include "compiler/codegen/ReduceToMlir.h"

#include "compiler/codegen/KernelToMlir.h"
#include "compiler/codegen/ReduceCombine.h"
#include "compiler/codegen/ReduceKernel.h"

#include <xpr/error.hpp>

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMTypes.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/IR/Builders.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/Verifier.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace xpr::cg {

using namespace mlir;

namespace {

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "reduce codegen: " + msg);
}

constexpr int kLevels = 5; // binary counter levels: 16 leaves fill level 4
// Software prefetch distance for Contiguous inputs, in bytes ahead of the step being loaded.
// Each leaf is a short, separately reduced run, and maps that call SLEEF fill the reorder window
// with the call: without prefetches the loads of the next steps stall (measured: sum(exp(a)*b)
// at 10^7 f32 ran 2x slower without; 2-8 KiB ahead all did about equally well).
constexpr std::int64_t kPrefetchBytes = 4096;
constexpr std::int64_t kLine = 64;
constexpr int kLanes = static_cast<int>(kReduceLanes);
static_assert(kReduceBlock / kReduceLeaf == 16 && kReduceLeaf % kReduceLanes == 0,
              "the counter depth and the leaf loop assume 16 leaves of whole lane steps");

using Levels = std::array<Value, kLevels>;

class ReduceBuilder {
public:
  ReduceBuilder(MLIRContext &ctx, const ir::Graph &kernel, const KernelSpec &spec, int vector_bits)
      : map_graph_(strip(kernel)), spec_(spec), map_(ctx, map_graph_, spec_, kLanes, vector_bits),
        b_(map_.builder()), loc_(UnknownLoc::get(&ctx)), ctx_(ctx) {
    const ir::Node &red = kernel.nodes.back();
    op_ = red.op;
    value_ = red.type.dtype;
    comb_ = comb_of(op_);
    if (!reduce_kernel_supported(op_, value_))
      internal(fmt::format("no reduce kernel for {} of {}", ir::op_name(op_), dtype_name(value_)));
    if (spec_.outputs.size() != 1 || spec_.outputs[0] != Layout::Contiguous)
      internal("a reduce kernel has one Contiguous output (the partials)");
  }

  OwningOpRef<ModuleOp> build(const std::string &fn_name);

private:
  ir::Graph map_graph_;
  const KernelSpec &spec_;
  MapEmitter map_;
  OpBuilder &b_;
  Location loc_;
  MLIRContext &ctx_;
  ir::Op op_ = ir::Op::Sum;
  DType value_ = DType::F32;
  Comb comb_ = Comb::Add;
  Value iota_;
  std::vector<std::pair<Value, std::int64_t>> prefetch_; // Contiguous inputs: base, element bytes

  /// The map alone: the kernel without its final reduce node.
  static ir::Graph strip(const ir::Graph &k) {
    if (!is_reduce_kernel(k)) internal("not a reduce kernel");
    return reduce_kernel_map(k);
  }

  // ---- types and constants ----
  Type i64() { return b_.getI64Type(); }
  Type ptr_ty() { return LLVM::LLVMPointerType::get(&ctx_); }
  /// The accumulator element: the value's compute type, bool as a 0/1 byte.
  Type elem() { return comb_elem_type(b_, value_); }
  VectorType vt(int lanes) { return VectorType::get({lanes}, elem()); }
  Value c64(std::int64_t v) { return b_.create<arith::ConstantOp>(loc_, b_.getI64IntegerAttr(v)); }
  Value c1(bool v) { return b_.create<arith::ConstantOp>(loc_, b_.getBoolAttr(v)); }
  Value add(Value a, Value b) { return b_.create<arith::AddIOp>(loc_, a, b); }
  Value mul(Value a, Value b) { return b_.create<arith::MulIOp>(loc_, a, b); }
  Value sel(Value c, Value a, Value b) { return b_.create<arith::SelectOp>(loc_, c, a, b); }
  Value bit(Value x, int l) { // (x >> l) & 1 as i1
    Value s = b_.create<arith::ShRUIOp>(loc_, x, c64(l));
    return b_.create<arith::TruncIOp>(loc_, b_.getI1Type(), s);
  }

  /// The operator's identity, splat over 16 lanes (what runtime/Reduce.cpp's R::id() is).
  Value identity() { return comb_identity(b_, loc_, comb_, value_, vt(kLanes)); }

  /// comb(a, b) lane by lane, `a` the older partial: runtime/Reduce.cpp's R::comb, op for op.
  Value comb(Value a, Value b) { return comb_apply(b_, loc_, comb_, value_, a, b); }

  /// The map's 16 values at iteration `pos` (masked lanes unspecified).
  Value map_at(Value pos, Value mask) {
    Value v = map_.eval(pos, mask, 0);
    if (value_ == DType::Bool) v = b_.create<arith::ExtUIOp>(loc_, vt(kLanes), v);
    return v;
  }

  /// Pushes `cur` (a combination of 2^base leaves) into the counter that holds `cnt` leaves
  /// (a multiple of 2^base): level l is occupied iff bit l of cnt is set.
  Levels push(Levels lv, Value cur, Value cnt, int base) {
    Value carry = c1(true);
    for (int l = base; l < kLevels; ++l) {
      Value occ = bit(cnt, l);
      Value take = b_.create<arith::AndIOp>(loc_, carry, occ);
      Value place =
          b_.create<arith::AndIOp>(loc_, carry, b_.create<arith::XOrIOp>(loc_, occ, c1(true)));
      Value stored = sel(place, cur, lv[l]);
      cur = sel(take, comb(lv[l], cur), cur);
      carry = take;
      lv[l] = stored;
    }
    return lv;
  }

  /// The counter's value after `nl` >= 1 leaves: occupied levels from the lowest up, each
  /// combined as the older operand.
  Value fold(const Levels &lv, Value nl) {
    Value res = lv[0], any = c1(false);
    for (int l = 0; l < kLevels; ++l) {
      Value occ = bit(nl, l);
      Value cand = l == 0 ? lv[0] : sel(any, comb(lv[l], res), lv[l]);
      res = l == 0 ? lv[0] : sel(occ, cand, res);
      any = b_.create<arith::OrIOp>(loc_, any, occ);
    }
    return res;
  }

  /// Prefetches the Contiguous inputs kPrefetchBytes past iteration `pos`'s 16 elements.
  void prefetch(Value pos) {
    for (auto &[base, es] : prefetch_)
      for (std::int64_t off = 0; off < std::max<std::int64_t>(kLanes * es, 1); off += kLine) {
        Value byte = add(mul(pos, c64(es)), c64(kPrefetchBytes + off));
        Value addr = b_.create<LLVM::GEPOp>(loc_, ptr_ty(), b_.getI8Type(), base,
                                            ArrayRef<LLVM::GEPArg>{byte});
        b_.create<LLVM::Prefetch>(loc_, addr, /*rw=*/0, /*hint=*/3, /*cache=*/1);
      }
  }

  /// One full leaf at `pos`: 16 steps of 16 lanes. Consecutive leaves are independent chains,
  /// which out-of-order execution overlaps; four leaves side by side measured no faster.
  Value leaf(Value pos) {
    auto loop =
        b_.create<scf::ForOp>(loc_, c64(0), c64(kReduceLeaf), c64(kLanes), ValueRange{identity()},
                              [&](OpBuilder &, Location, Value q, ValueRange acc) {
                                prefetch(add(pos, q));
                                Value x = map_at(add(pos, q), Value());
                                b_.create<scf::YieldOp>(loc_, ValueRange{comb(acc[0], x)});
                              });
    return loop.getResult(0);
  }

  Value reduce_block(Value start, Value len);
};

Value ReduceBuilder::reduce_block(Value start, Value len) {
  Value nfull = b_.create<arith::ShRUIOp>(loc_, len, c64(8)); // full leaves
  Value id = identity();
  SmallVector<Value> init(kLevels, id);
  auto to_levels = [](ValueRange r) {
    Levels lv;
    for (int l = 0; l < kLevels; ++l)
      lv[l] = r[l];
    return lv;
  };
  auto yield = [&](const Levels &lv) {
    b_.create<scf::YieldOp>(loc_, ValueRange(ArrayRef<Value>(lv.data(), lv.size())));
  };

  // The full leaves, in order.
  auto full = b_.create<scf::ForOp>(loc_, c64(0), nfull, c64(1), init,
                                    [&](OpBuilder &, Location, Value i, ValueRange st) {
                                      Value l = leaf(add(start, mul(i, c64(kReduceLeaf))));
                                      yield(push(to_levels(st), l, i, 0));
                                    });

  // The partial leaf: whole lane steps, then one masked step for the last len mod 16 values.
  Value r = b_.create<arith::AndIOp>(loc_, len, c64(kReduceLeaf - 1));
  Value has_partial = b_.create<arith::CmpIOp>(loc_, arith::CmpIPredicate::ne, r, c64(0));
  SmallVector<Type> tys(kLevels, vt(kLanes));
  auto partial = b_.create<scf::IfOp>(loc_, tys, has_partial, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(&partial.getThenRegion().front());
    Value pos0 = add(start, mul(nfull, c64(kReduceLeaf)));
    Value whole = b_.create<arith::AndIOp>(loc_, r, c64(~std::int64_t{kLanes - 1}));
    auto steps = b_.create<scf::ForOp>(
        loc_, c64(0), whole, c64(kLanes), ValueRange{identity()},
        [&](OpBuilder &, Location, Value q, ValueRange a) {
          b_.create<scf::YieldOp>(loc_, ValueRange{comb(a[0], map_at(add(pos0, q), Value()))});
        });
    Value rem = b_.create<arith::AndIOp>(loc_, r, c64(kLanes - 1));
    Value has_rem = b_.create<arith::CmpIOp>(loc_, arith::CmpIPredicate::ne, rem, c64(0));
    auto tail = b_.create<scf::IfOp>(loc_, TypeRange{vt(kLanes)}, has_rem, true);
    {
      OpBuilder::InsertionGuard g2(b_);
      b_.setInsertionPointToStart(&tail.getThenRegion().front());
      Value a = steps.getResult(0);
      Value remv = b_.create<vector::BroadcastOp>(loc_, VectorType::get({kLanes}, i64()), rem);
      Value mask = b_.create<arith::CmpIOp>(loc_, arith::CmpIPredicate::slt, iota_, remv);
      Value x = map_at(add(pos0, whole), mask);
      b_.create<scf::YieldOp>(loc_, ValueRange{sel(mask, comb(a, x), a)});
      b_.setInsertionPointToStart(&tail.getElseRegion().front());
      b_.create<scf::YieldOp>(loc_, ValueRange{steps.getResult(0)});
    }
    yield(push(to_levels(full.getResults()), tail.getResult(0), nfull, 0));
    b_.setInsertionPointToStart(&partial.getElseRegion().front());
    yield(to_levels(full.getResults()));
  }

  Value nl = add(nfull, b_.create<arith::ExtUIOp>(loc_, i64(), has_partial));
  Value v = fold(to_levels(partial.getResults()), nl);
  // The 16 lanes pairwise: lane j with lane j + w.
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    Value lo = b_.create<vector::ExtractStridedSliceOp>(loc_, v, ArrayRef<int64_t>{0},
                                                        ArrayRef<int64_t>{w}, ArrayRef<int64_t>{1});
    Value hi = b_.create<vector::ExtractStridedSliceOp>(loc_, v, ArrayRef<int64_t>{w},
                                                        ArrayRef<int64_t>{w}, ArrayRef<int64_t>{1});
    v = comb(lo, hi);
  }
  return b_.create<vector::ExtractOp>(loc_, v, ArrayRef<int64_t>{0});
}

OwningOpRef<ModuleOp> ReduceBuilder::build(const std::string &fn_name) {
  ModuleOp module = ModuleOp::create(loc_);
  OwningOpRef<ModuleOp> owner(module);
  b_.setInsertionPointToEnd(module.getBody());
  Type p = ptr_ty();
  auto fn =
      b_.create<func::FuncOp>(loc_, fn_name, b_.getFunctionType({p, p, p, p, i64(), i64()}, {}));
  Block *entry = fn.addEntryBlock();
  b_.setInsertionPointToStart(entry);
  Value ptrs = entry->getArgument(0), params = entry->getArgument(2);
  Value shape = entry->getArgument(3);
  Value begin = entry->getArgument(4), end = entry->getArgument(5);
  map_.begin(module, ptrs, params);

  const auto nin = static_cast<std::int64_t>(spec_.inputs.size());
  auto load = [&](Type t, Value base, Value idx) {
    Value addr = b_.create<LLVM::GEPOp>(loc_, p, t, base, ArrayRef<LLVM::GEPArg>{idx});
    return b_.create<LLVM::LoadOp>(loc_, t, addr).getResult();
  };
  Value out = load(p, ptrs, c64(nin));
  const std::vector<ir::ValueId> ins = map_graph_.inputs();
  for (std::int64_t k = 0; k < nin; ++k)
    if (spec_.inputs[static_cast<std::size_t>(k)] == Layout::Contiguous && spec_.rank > 0)
      prefetch_.push_back({load(p, ptrs, c64(k)),
                           dtype_size(map_graph_.type(ins[static_cast<std::size_t>(k)]).dtype)});
  Value n = load(i64(), shape, c64(0));
  Value nb = b_.create<arith::DivUIOp>(loc_, add(n, c64(kReduceBlock - 1)), c64(kReduceBlock));
  SmallVector<int64_t> lanes;
  for (int i = 0; i < kLanes; ++i)
    lanes.push_back(i);
  iota_ = b_.create<arith::ConstantOp>(
      loc_, DenseElementsAttr::get(VectorType::get({kLanes}, i64()), ArrayRef<int64_t>(lanes)));

  b_.create<scf::ForOp>(
      loc_, begin, end, c64(1), ValueRange{}, [&](OpBuilder &, Location, Value u, ValueRange) {
        Value o = b_.create<arith::DivUIOp>(loc_, u, nb);
        Value k = b_.create<arith::SubIOp>(loc_, u, mul(o, nb));
        Value first = mul(k, c64(kReduceBlock));
        Value start = add(mul(o, n), first);
        Value len = b_.create<arith::MinSIOp>(loc_, c64(kReduceBlock),
                                              b_.create<arith::SubIOp>(loc_, n, first));
        Value v = reduce_block(start, len);
        Value addr = b_.create<LLVM::GEPOp>(loc_, p, elem(), out, ArrayRef<LLVM::GEPArg>{u});
        b_.create<LLVM::StoreOp>(loc_, v, addr);
        b_.create<scf::YieldOp>(loc_);
      });
  b_.create<func::ReturnOp>(loc_);
  if (failed(verify(module))) internal("generated MLIR does not verify");
  return owner;
}

} // namespace

bool reduce_kernel_supported(ir::Op op, DType value) {
  switch (op) {
  case ir::Op::Sum:
  case ir::Op::Mean:
  case ir::Op::Prod:
    return value == DType::I64 || value == DType::U64 || value == DType::F32 || value == DType::F64;
  case ir::Op::Min:
  case ir::Op::Max:
    // Bool as its 0/1 byte: unsigned min/max are and/or.
    return is_int(value) || value == DType::Bool || value == DType::F32 || value == DType::F64;
  case ir::Op::Any:
  case ir::Op::All:
    return value == DType::Bool;
  default:
    return false;
  }
}

ir::Graph make_reduce_kernel(const ir::Graph &map, ir::Op op) {
  if (map.outputs.size() != 1) internal("a reduce kernel's map has one output");
  const ir::ValueId v = map.outputs[0].value;
  const ir::Type &t = map.type(v);
  if (!reduce_kernel_supported(op, t.dtype) && !is_arg_reduce(op))
    internal(fmt::format("no reduce kernel for {} of {}", ir::op_name(op), dtype_name(t.dtype)));
  ir::Graph g = map;
  ir::Node r;
  r.op = op;
  r.type = ir::Type{is_arg_reduce(op) ? DType::I64 : t.dtype, {}};
  r.operands = {v};
  for (int d = 0; d < t.rank(); ++d)
    r.axes.push_back(d);
  g.outputs = {ir::Output{kReducePartials, g.add(std::move(r))}};
  return g;
}

ir::Graph make_combine_kernel(ir::Op op, DType value) {
  ir::Graph map;
  ir::Node in;
  in.op = ir::Op::Input;
  in.name = "partials";
  in.type = ir::Type{value, {ir::Dim::symbol("n")}};
  map.outputs.push_back(ir::Output{"out0", map.add(std::move(in))});
  if (is_arg_reduce(op)) {
    ir::Node ix;
    ix.op = ir::Op::Input;
    ix.name = kReduceIndices;
    ix.type = ir::Type{DType::I64, {ir::Dim::symbol("n")}};
    map.add(std::move(ix));
  }
  return make_reduce_kernel(map, op == ir::Op::Mean ? ir::Op::Sum : op);
}

ir::Graph make_finish_kernel(ir::Op op, DType value, DType out) {
  ir::Graph g;
  const ir::Dim n = ir::Dim::symbol("n");
  ir::Node in;
  in.op = ir::Op::Input;
  in.name = "r";
  in.type = ir::Type{value, {n}};
  ir::ValueId x = g.add(std::move(in));
  auto cast = [&](ir::ValueId v, DType to) {
    if (g.type(v).dtype == to) return v;
    ir::Node c;
    c.op = ir::Op::Cast;
    c.type = ir::Type{to, {n}};
    c.operands = {v};
    return g.add(std::move(c));
  };
  if (op == ir::Op::Mean) {
    x = cast(x, DType::F64);
    ir::Node k;
    k.op = ir::Op::Param;
    k.name = kReduceCount;
    k.type = ir::Type{DType::F64, {}};
    ir::Node d;
    d.op = ir::Op::Div;
    d.type = ir::Type{DType::F64, {n}};
    d.operands = {x, g.add(std::move(k))};
    x = g.add(std::move(d));
  }
  g.outputs.push_back(ir::Output{"out0", cast(x, out)});
  return g;
}

ir::Graph reduce_kernel_map(const ir::Graph &k) {
  if (!is_reduce_kernel(k)) internal("not a reduce kernel");
  ir::Graph g;
  g.nodes.assign(k.nodes.begin(), k.nodes.end() - 1);
  g.outputs.push_back(ir::Output{"out0", k.nodes.back().operands.at(0)});
  return g;
}

bool is_reduce_kernel(const ir::Graph &k) {
  if (k.outputs.size() != 1 || k.nodes.empty()) return false;
  const auto last = static_cast<ir::ValueId>(k.nodes.size() - 1);
  const ir::Node &n = k.nodes.back();
  return k.outputs[0].name == kReducePartials && k.outputs[0].value == last &&
         ir::op_kind(n.op) == ir::OpKind::Reduce && n.operands.size() == 1 && n.operands[0] >= 0 &&
         n.operands[0] < last;
}

OwningOpRef<ModuleOp> build_reduce_module(MLIRContext &ctx, const ir::Graph &kernel,
                                          const KernelSpec &spec, int vector_bits,
                                          const std::string &fn_name) {
  ReduceBuilder b(ctx, kernel, spec, vector_bits);
  return b.build(fn_name);
}

} // namespace xpr::cg
