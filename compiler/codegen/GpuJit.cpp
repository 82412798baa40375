// compiler/codegen/GpuJit.cpp — the GPU lowering pipeline: kernel → gpu.module (gpu.func with a
// grid-stride loop around the CPU emitter's element code) → LLVM + NVVM dialects → LLVM IR →
// libdevice linked in → NVPTX -O2 → PTX text. Reads top to bottom as straight-line stages; emit()
// stops after any of them.
#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/GpuNarrowInt.h"

#include "compiler/codegen/KernelToMlir.h"
#include "compiler/codegen/ReduceCombine.h"
#include "compiler/codegen/ReduceKernel.h"

#include <xpr/error.hpp>

#include <mlir/Conversion/ArithToLLVM/ArithToLLVM.h>
#include <mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h>
#include <mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h>
#include <mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h>
#include <mlir/Conversion/LLVMCommon/TypeConverter.h>
#include <mlir/Conversion/MathToLLVM/MathToLLVM.h>
#include <mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h>
#include <mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h>
#include <mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/ControlFlow/IR/ControlFlow.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/GPU/IR/GPUDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/LLVMIR/NVVMDialect.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/Verifier.h>
#include <mlir/Pass/Pass.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Export.h>
#include <mlir/Transforms/DialectConversion.h>


#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>

namespace xpr::cg {

namespace {

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "gpu codegen: " + msg);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

constexpr const char *kTriple = "nvptx64-nvidia-cuda";

/// PTX ISA version per target: the lowest that supports the architecture (so the oldest driver
/// that knows the GPU can load the module).
struct SmInfo {
  int sm;
  const char *ptx;
};
constexpr SmInfo kSms[] = {{70, "+ptx60"}, {75, "+ptx63"}, {80, "+ptx70"}, {86, "+ptx71"},
                           {87, "+ptx74"}, {89, "+ptx78"}, {90, "+ptx78"}};

const SmInfo *sm_info(int sm) {
  for (const SmInfo &s : kSms)
    if (s.sm == sm) return &s;
  return nullptr;
}

} // namespace

std::vector<int> gpu_supported_sms() {
  std::vector<int> r;
  for (const SmInfo &s : kSms)
    r.push_back(s.sm);
  return r;
}

int gpu_target_sm(int sm) {
  int best = 0;
  for (const SmInfo &s : kSms)
    if (s.sm <= sm) best = s.sm;
  if (best == 0)
    throw Error(ErrorKind::Runtime,
                fmt::format("compute capability {}.{} is not supported (the oldest supported is "
                            "{}.{})",
                            sm / 10, sm % 10, kSms[0].sm / 10, kSms[0].sm % 10));
  return best;
}

std::string find_libdevice() {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  if (const char *p = std::getenv("XPR_LIBDEVICE"); p && *p) candidates.push_back(p);
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *p = std::getenv(var); p && *p)
      candidates.push_back(std::string(p) + "/nvvm/libdevice/libdevice.10.bc");
  candidates.push_back("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc");
  for (const std::string &c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c;
  }
  return {};
}

int gpu_param_count(const ir::Graph &kernel, const KernelSpec &spec) {
  int nstrided = 0;
  if (spec.rank > 0) {
    for (Layout l : spec.inputs)
      nstrided += l == Layout::Strided;
    for (Layout l : spec.outputs)
      nstrided += l == Layout::Strided;
  }
  // A reduce kernel ends with n, units, chunks and chunk_len; an elementwise one with total.
  return static_cast<int>(spec.inputs.size() + spec.outputs.size() + kernel.params().size()) +
         spec.rank + spec.rank * nstrided + (is_reduce_kernel(kernel) ? 4 : 1);
}

int gpu_vector_width(const ir::Graph &kernel, const KernelSpec &spec) {
  if (spec.rank == 0) return 1;
  for (Layout l : spec.inputs)
    if (l == Layout::Strided) return 1;
  for (Layout l : spec.outputs)
    if (l == Layout::Strided) return 1;
  int widest = 1;
  for (ir::ValueId v : kernel.inputs())
    widest = std::max(widest, dtype_size(kernel.type(v).dtype));
  for (const ir::Output &o : kernel.outputs)
    widest = std::max(widest, dtype_size(kernel.type(o.value).dtype));
  return std::clamp(16 / widest, 1, 4);
}

struct GpuJit::Impl {
  std::mutex mu;
  mlir::MLIRContext ctx;
  std::map<int, std::unique_ptr<llvm::TargetMachine>> tms;
  std::string libdevice_path;
  std::unique_ptr<llvm::MemoryBuffer> libdevice; // read on first use
  bool libdevice_tried = false;

  llvm::TargetMachine &tm(int sm) {
    auto it = tms.find(sm);
    if (it != tms.end()) return *it->second;
    const SmInfo *info = sm_info(sm);
    if (!info)
      throw Error(ErrorKind::Runtime, fmt::format("no PTX target sm_{}: supported are {}", sm,
                                                  fmt::join(gpu_supported_sms(), ", ")));
    std::string err;
    const llvm::Target *t = llvm::TargetRegistry::lookupTarget(kTriple, err);
    if (!t) internal("the NVPTX target is not available in this LLVM: " + err);
    llvm::TargetOptions opts;
    // Same rule as the CPU: a*b + c stays two roundings (no mul+add → fma contraction), so the
    // NVPTX backend writes mul.rn/add.rn, which ptxas may not fuse either.
    opts.AllowFPOpFusion = llvm::FPOpFusion::Strict;
    std::unique_ptr<llvm::TargetMachine> m(
        t->createTargetMachine(kTriple, fmt::format("sm_{}", sm), info->ptx, opts, std::nullopt,
                               std::nullopt, llvm::CodeGenOptLevel::Aggressive));
    if (!m) internal("creating the NVPTX target machine");
    return *tms.emplace(sm, std::move(m)).first->second;
  }

  /// What every kernel function starts with: the gpu.module and gpu.func, the KernelFn-style
  /// arrays of operand pointers and param slots the emitter reads, and the index arguments.
  struct Frame {
    mlir::OwningOpRef<mlir::ModuleOp> top;
    mlir::Block *gbody = nullptr, *entry = nullptr;
    mlir::Value ptrs, params;
    mlir::Type it;                            // the index type: i32 or i64
    std::vector<mlir::Value> shape;           // the iteration shape, in `it`
    std::vector<int> strided;                 // operands with a Strided layout (rank > 0)
    std::vector<std::vector<mlir::Value>> st; // their strides, in `it`
    std::vector<mlir::Value> tail;            // the i64 arguments after the strides, in `it`
  };

  /// Opens the kernel `name` with `nops` pointer operands of layouts `layouts` and `ntail` i64
  /// arguments after the strides, then starts `em` (and `emv`) on it.
  Frame open_kernel(ElementEmitter &em, ElementEmitter *emv, const ir::Graph &g,
                    const GpuKernelSpec &gs, const std::vector<Layout> &layouts,
                    const std::string &name, int ntail) {
    using namespace mlir;
    Frame f;
    Location loc = UnknownLoc::get(&ctx);
    OpBuilder &b = em.builder();
    f.top = ModuleOp::create(loc);
    b.setInsertionPointToEnd(f.top->getBody());
    auto gm = b.create<gpu::GPUModuleOp>(loc, "xpr_gpu");
    f.gbody = &gm.getBodyRegion().front();
    const int nops = static_cast<int>(layouts.size());
    const int nparams = static_cast<int>(g.params().size());
    const int r = gs.spec.rank;
    for (int k = 0; k < nops; ++k)
      if (r > 0 && layouts[static_cast<std::size_t>(k)] == Layout::Strided) f.strided.push_back(k);

    Type ptr = LLVM::LLVMPointerType::get(&ctx);
    Type i64 = b.getI64Type();
    f.it = gs.index64 ? i64 : b.getI32Type();
    SmallVector<Type> args(nops, ptr);
    args.append(nparams + r + r * f.strided.size() + ntail, i64);
    b.setInsertionPointToStart(f.gbody);
    auto fn = b.create<gpu::GPUFuncOp>(loc, name, b.getFunctionType(args, {}));
    fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    f.entry = &fn.getBody().front();
    b.setInsertionPointToStart(f.entry);
    auto arg = [&](int i) { return f.entry->getArgument(static_cast<unsigned>(i)); };
    auto c64 = [&](std::int64_t v) { return b.create<LLVM::ConstantOp>(loc, i64, v); };

    // The emitter reads KernelFn-style arrays of pointers and param slots. They live in local
    // memory only until SROA turns them back into the kernel parameters.
    auto array = [&](Type elem, int n) {
      return b.create<LLVM::AllocaOp>(loc, ptr, LLVM::LLVMArrayType::get(elem, std::max(n, 1)),
                                      c64(1), 8);
    };
    f.ptrs = array(ptr, nops);
    f.params = array(i64, nparams);
    for (int k = 0; k < nops; ++k) {
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, ptr, f.ptrs, ArrayRef<LLVM::GEPArg>{k});
      b.create<LLVM::StoreOp>(loc, arg(k), slot);
    }
    for (int k = 0; k < nparams; ++k) {
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, f.params, ArrayRef<LLVM::GEPArg>{k});
      b.create<LLVM::StoreOp>(loc, arg(nops + k), slot);
    }
    em.begin(f.gbody, f.ptrs, f.params);
    if (emv) {
      emv->builder().restoreInsertionPoint(b.saveInsertionPoint());
      emv->begin(f.gbody, f.ptrs, f.params);
    }
    auto to_it = [&](Value v) {
      return gs.index64 ? v : Value(b.create<arith::TruncIOp>(loc, f.it, v));
    };
    int a = nops + nparams;
    for (int d = 0; d < r; ++d)
      f.shape.push_back(to_it(arg(a++)));
    for (std::size_t j = 0; j < f.strided.size(); ++j) {
      f.st.emplace_back();
      for (int d = 0; d < r; ++d)
        f.st.back().push_back(to_it(arg(a++)));
    }
    for (int k = 0; k < ntail; ++k)
      f.tail.push_back(to_it(arg(a++)));
    return f;
  }

  /// The element offset of each Strided operand at linear iteration `i` (C order; unsigned
  /// division: cheaper, and every index is >= 0); null for the others.
  std::vector<mlir::Value> strided_offsets(mlir::OpBuilder &b, const Frame &f, mlir::Value i,
                                           int nops) {
    using namespace mlir;
    Location loc = UnknownLoc::get(&ctx);
    std::vector<Value> offsets(static_cast<std::size_t>(nops));
    if (f.strided.empty()) return offsets;
    const int r = static_cast<int>(f.shape.size());
    std::vector<Value> ix(static_cast<std::size_t>(r));
    Value q = i;
    for (int d = r - 1; d > 0; --d) {
      ix[d] = b.create<arith::RemUIOp>(loc, q, f.shape[d]);
      q = b.create<arith::DivUIOp>(loc, q, f.shape[d]);
    }
    ix[0] = q;
    for (std::size_t j = 0; j < f.strided.size(); ++j) {
      Value off = b.create<arith::MulIOp>(loc, ix[0], f.st[j][0]);
      for (int d = 1; d < r; ++d)
        off = b.create<arith::AddIOp>(loc, off, b.create<arith::MulIOp>(loc, ix[d], f.st[j][d]));
      offsets[static_cast<std::size_t>(f.strided[j])] = off;
    }
    return offsets;
  }

  /// One loop over [lo, hi) by `step` (unsigned compare: i + step never wraps, as i < 2^31
  /// (2^63) and step < 2^31): body(i) at each i.
  static void stride_loop(mlir::OpBuilder &b, mlir::Type it, mlir::Value lo, mlir::Value hi,
                          mlir::Value step, const std::function<void(mlir::Value)> &body) {
    using namespace mlir;
    Location loc = b.getUnknownLoc();
    auto w = b.create<scf::WhileOp>(loc, TypeRange{it}, ValueRange{lo});
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&w.getBefore(), {}, {it}, {loc});
    Value i = before->getArgument(0);
    b.create<scf::ConditionOp>(
        loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, i, hi), ValueRange{i});
    Block *after = b.createBlock(&w.getAfter(), {}, {it}, {loc});
    i = after->getArgument(0);
    body(i);
    b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddIOp>(loc, i, step)});
  }

  /// Stage 1: the gpu.module holding the kernel.
  mlir::OwningOpRef<mlir::ModuleOp> build(const ir::Graph &g, const GpuKernelSpec &gs,
                                          const std::string &name) {
    if (is_reduce_kernel(g)) return build_reduce(g, gs, name);
    using namespace mlir;
    const KernelSpec &s = gs.spec;
    Location loc = UnknownLoc::get(&ctx);
    const int V = gs.vector;
    if (V < 1 || V > 4) internal("vector width out of range");
    // `em` does one iteration at a time; `emv` (vector > 1) `V` consecutive ones.
    ElementEmitter em(ctx, g, s, MathLib::Libdevice);
    std::unique_ptr<ElementEmitter> emv;
    if (V > 1) emv = std::make_unique<ElementEmitter>(ctx, g, s, MathLib::Libdevice, V);
    OpBuilder &b = em.builder();
    std::vector<Layout> layouts = s.inputs;
    layouts.insert(layouts.end(), s.outputs.begin(), s.outputs.end());
    Frame f = open_kernel(em, emv.get(), g, gs, layouts, name, 1);
    const Type it = f.it;
    Value total = f.tail[0];

    // Grid-stride loop: i = blockIdx*blockDim + threadIdx; i < total; i += gridDim*blockDim.
    auto idx = [&](Value v) { return b.create<arith::IndexCastUIOp>(loc, it, v); };
    Value tid = idx(b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x));
    Value bid = idx(b.create<gpu::BlockIdOp>(loc, gpu::Dimension::x));
    Value bdim = idx(b.create<gpu::BlockDimOp>(loc, gpu::Dimension::x));
    Value gdim = idx(b.create<gpu::GridDimOp>(loc, gpu::Dimension::x));
    Value start = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, bid, bdim), tid);
    Value step = b.create<arith::MulIOp>(loc, gdim, bdim);
    Value scalar_from = start;
    if (emv) {
      // Vectors of V iterations at pos = j*V for j < total/V, then the rest one at a time.
      Value cv = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(it, V));
      Value nvec = b.create<arith::DivUIOp>(loc, total, cv);
      stride_loop(b, it, start, nvec, step, [&](Value j) {
        emv->builder().restoreInsertionPoint(b.saveInsertionPoint());
        emv->emit(b.create<arith::MulIOp>(loc, j, cv), {});
      });
      scalar_from = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, nvec, cv), start);
    }
    stride_loop(b, it, scalar_from, total, step, [&](Value i) {
      em.emit(i, strided_offsets(b, f, i, static_cast<int>(layouts.size())));
    });
    b.create<gpu::ReturnOp>(loc);
    if (failed(verify(*f.top))) internal("generated MLIR does not verify");
    return std::move(f.top);
  }

  /// Stage 1 for a reduce kernel (the ABI in GpuJit.h): blocks take units grid-stride; in each,
  /// thread t folds the map's values t, t + 256, ... of the unit's chunk, then a shuffle tree
  /// in each warp and one across the 8 warps (through shared memory) give the unit's value.
  /// The warp and column schedules, picked by the block size, play that same order another
  /// way. argmin/argmax fold (value, index) pairs the same way.
  mlir::OwningOpRef<mlir::ModuleOp> build_reduce(const ir::Graph &g, const GpuKernelSpec &gs,
                                                 const std::string &name) {
    using namespace mlir;
    Location loc = UnknownLoc::get(&ctx);
    const ir::Node &red = g.nodes.back();
    const bool arg = is_arg_reduce(red.op);
    const std::size_t nout = arg ? 2 : 1;
    if (gs.vector != 1) internal("a reduce kernel has no vector form");
    if (gs.spec.outputs.size() != nout ||
        std::any_of(gs.spec.outputs.begin(), gs.spec.outputs.end(),
                    [](Layout l) { return l != Layout::Contiguous; }))
      internal("a reduce kernel's outputs (the partials) are Contiguous");
    ir::Graph map = reduce_kernel_map(g); // outlives the emitter
    const DType value = map.type(map.outputs[0].value).dtype;
    if (!arg && !reduce_kernel_supported(red.op, value))
      internal(
          fmt::format("no reduce kernel for {} of {}", ir::op_name(red.op), dtype_name(value)));
    // A combining argmin/argmax pass reads each value's index beside it: a second map output.
    ir::ValueId indices = -1;
    for (ir::ValueId v = 0; v < static_cast<ir::ValueId>(map.nodes.size()); ++v)
      if (arg && map.nodes[v].op == ir::Op::Input && map.nodes[v].name == kReduceIndices)
        indices = v;
    if (indices >= 0) map.outputs.push_back(ir::Output{"out1", indices});
    KernelSpec es = gs.spec; // the emitter's view: one output per map output
    es.outputs.assign(map.outputs.size(), Layout::Contiguous);
    ElementEmitter em(ctx, map, es, MathLib::Libdevice);
    OpBuilder &b = em.builder();
    std::vector<Layout> layouts = gs.spec.inputs;
    layouts.insert(layouts.end(), gs.spec.outputs.begin(), gs.spec.outputs.end());
    const int nops = static_cast<int>(layouts.size());
    Frame f = open_kernel(em, nullptr, map, gs, layouts, name, 4);
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

    // kWarps slots per component in shared memory, named after the kernel (several kernels share
    // a module).
    Type sptr = LLVM::LLVMPointerType::get(&ctx, 3);
    const std::string smem = name + "_warps";
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(f.gbody);
      b.create<LLVM::GlobalOp>(loc, LLVM::LLVMArrayType::get(i64, kWarps * comps.size()),
                               /*isConstant=*/false, LLVM::Linkage::Internal, smem, Attribute(),
                               /*alignment=*/8, /*addrSpace=*/3);
    }
    Value warps = b.create<LLVM::AddressOfOp>(loc, sptr, smem);
    Type ptr = LLVM::LLVMPointerType::get(&ctx);
    std::vector<Value> outs;
    for (std::size_t c = 0; c < nout; ++c)
      outs.push_back(b.create<LLVM::LoadOp>(
          loc, ptr,
          b.create<LLVM::GEPOp>(loc, ptr, ptr, f.ptrs,
                                ArrayRef<LLVM::GEPArg>{nops - static_cast<int>(nout) +
                                                       static_cast<int>(c)})));

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
      Value hi =
          shfl(b.create<arith::TruncIOp>(loc, i32, b.create<arith::ShRUIOp>(loc, x, c64(32))));
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
    auto slot = [&](std::size_t c, Value k) {
      Value at = b.create<arith::AddIOp>(loc, k, cit(static_cast<std::int64_t>(c) * kWarps));
      return b.create<LLVM::GEPOp>(loc, sptr, comps[c], warps, ArrayRef<LLVM::GEPArg>{at});
    };

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
          ValueRange(identity),
          [&](OpBuilder &, Location, Value j, ValueRange acc) {
            Value i = b.create<arith::AddIOp>(loc, r.base, j);
            const std::vector<Value> offs = strided_offsets(b, f, i, nops);
            auto lane_value = [&](int output) {
              Value x = em.value(i, offs, output);
              return b.create<vector::ExtractOp>(loc, x, ArrayRef<int64_t>{0}).getResult();
            };
            Value x = lane_value(0);
            if (value == DType::Bool) x = b.create<arith::ExtUIOp>(loc, elem, x);
            Acc step{x};
            if (arg) {
              // The index within the row: j itself, or the partial's own (combining passes).
              Value k = indices >= 0 ? lane_value(1)
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
        b.create<LLVM::StoreOp>(loc, r[q], dst);
      }
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
      stride_loop(b, it, bid, units, gdim, [&](Value u) {
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
        // nested 2-trip loops over bits 1..4 (bit 4 innermost) pair the subtrees as the shuffles
        // do, and warp 0 pairs the 16 warps' values by k's bits 0..3. Each loop starts from the
        // identity, and x ⊕ id = x for every value a fold yields (see the segments below).
        constexpr int kColWarps = kGpuReduceColumnBlock / 32;
        static_assert(kColWarps == 16 && kGpuReduceColumnRows == 32,
                      "warp k names bits 0, 7, 6, 5 of its threads; a lane a row");
        const std::string csmem = name + "_columns";
        {
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(f.gbody);
          b.create<LLVM::GlobalOp>(
              loc, LLVM::LLVMArrayType::get(i64, kGpuReduceColumnBlock * comps.size()),
              /*isConstant=*/false, LLVM::Linkage::Internal, csmem, Attribute(),
              /*alignment=*/8, /*addrSpace=*/3);
        }
        Value cols = b.create<LLVM::AddressOfOp>(loc, sptr, csmem);
        auto cslot = [&](std::size_t c, Value k) {
          Value at = b.create<arith::AddIOp>(
              loc, k, cit(static_cast<std::int64_t>(c) * kGpuReduceColumnBlock));
          return b.create<LLVM::GEPOp>(loc, sptr, comps[c], cols, ArrayRef<LLVM::GEPArg>{at});
        };
        auto bit = [&](Value k, int from, int to) {
          return b.create<arith::ShLIOp>(
              loc,
              b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, k, cit(from)), cit(1)),
              cit(to));
        };
        Value t0 = bit(warp, 0, 0);
        for (auto [from, to] : {std::pair{1, 7}, {2, 6}, {3, 5}})
          t0 = b.create<arith::OrIOp>(loc, t0, bit(warp, from, to));
        Value rows = b.create<arith::DivUIOp>(loc, units, chunks);
        Value groups = b.create<arith::MulIOp>(
            loc, b.create<arith::ShRUIOp>(loc, b.create<arith::AddIOp>(loc, rows, cit(31)), cit(5)),
            chunks);
        stride_loop(b, it, bid, groups, gdim, [&](Value grp) {
          Value og = b.create<arith::DivUIOp>(loc, grp, chunks);
          Value c = b.create<arith::SubIOp>(loc, grp, b.create<arith::MulIOp>(loc, og, chunks));
          Value o = b.create<arith::AddIOp>(loc, b.create<arith::ShLIOp>(loc, og, cit(5)), lane);
          Value valid = icmp(arith::CmpIPredicate::ult, o, rows);
          // A lane past the last row folds nothing (and reads nothing), but meets the barriers.
          Value u = sel(
              valid, b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, o, chunks), c), c);
          UnitRange r = unit_range(u);
          r.hi = sel(valid, r.hi, r.lo);
          std::function<Acc(int, Value)> leaves = [&](int level, Value t) -> Acc {
            if (level > 4) return fold(r, t);
            auto loop = b.create<scf::ForOp>(
                loc, cit(0), cit(2), cit(1), ValueRange(identity),
                [&](OpBuilder &, Location, Value h, ValueRange acc) {
                  Value th =
                      b.create<arith::AddIOp>(loc, t, b.create<arith::ShLIOp>(loc, h, cit(level)));
                  Acc sub = leaves(level + 1, th);
                  b.create<scf::YieldOp>(loc,
                                         ValueRange(combine(Acc(acc.begin(), acc.end()), sub)));
                });
            return Acc(loop.getResults().begin(), loop.getResults().end());
          };
          Acc v = leaves(1, t0);
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
      Value first =
          b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, bid, per_block), warp);
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
            loc,
            b.create<arith::AddIOp>(loc, units, b.create<arith::SubIOp>(loc, per_warp, cit(1))),
            per_warp);
        stride_loop(b, it, first, groups, all_warps, [&](Value grp) {
          Value u = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, grp, per_warp),
                                            b.create<arith::DivUIOp>(loc, lane, seg));
          Value valid = icmp(arith::CmpIPredicate::ult, u, units);
          // A lane past the last unit folds nothing (and reads nothing), but still shuffles.
          UnitRange r = unit_range(sel(valid, u, cit(0)));
          r.hi = sel(valid, r.hi, r.lo);
          Acc v = fold(r, sub);
          for (int w = 16; w >= 1; w /= 2) {
            Acc o;
            for (Value c : v)
              o.push_back(shuffle_down(c, w));
            Acc c = combine(v, o);
            Value inside = icmp(arith::CmpIPredicate::ult, cit(w), seg);
            for (std::size_t q = 0; q < v.size(); ++q)
              v[q] = sel(inside, c[q], v[q]);
          }
          when(b.create<arith::AndIOp>(loc, valid, icmp(arith::CmpIPredicate::eq, sub, cit(0))),
               [&] { store_unit(u, v); });
        });
      }
      b.setInsertionPointToStart(&segmented.getElseRegion().front());
      stride_loop(b, it, first, units, all_warps, [&](Value u) {
        const UnitRange r = unit_range(u);
        // Warp k's tree result of the block schedule, for each k, in lane 0.
        std::vector<Acc> w;
        for (int k = 0; k < kWarps; ++k)
          w.push_back(tree(fold(r, b.create<arith::AddIOp>(loc, lane, cit(32 * k))), 16));
        // The cross-warp tree (w = 4, 2, 1) on lane 0's values, as warp 0 combines the slots.
        for (int width = kWarps / 2; width >= 1; width /= 2)
          for (int k = 0; k < width; ++k)
            w[static_cast<std::size_t>(k)] = combine(w[static_cast<std::size_t>(k)],
                                                     w[static_cast<std::size_t>(k + width)]);
        when(lane0, [&] { store_unit(u, w[0]); });
      });
    }
    b.create<gpu::ReturnOp>(loc);
    if (failed(verify(*f.top))) internal("generated MLIR does not verify");
    return std::move(f.top);
  }

  /// Stage 2: everything to the LLVM and NVVM dialects. The generic conversions run first, so
  /// that the GPU patterns (which would send math ops to libdevice) only see gpu ops: math ops
  /// on the emitter's 1-lane vectors become LLVM intrinsics, exactly as on the CPU.
  void lower(mlir::ModuleOp top) {
    using namespace mlir;
    PassManager pm(&ctx);
    pm.addPass(createConvertSCFToCFPass());
    pm.addPass(createConvertVectorToLLVMPass());
    pm.addPass(createConvertMathToLLVMPass());
    pm.addPass(createArithToLLVMConversionPass());
    pm.addPass(createConvertFuncToLLVMPass());
    pm.addPass(createConvertControlFlowToLLVMPass());
    if (failed(pm.run(top))) internal("lowering to the LLVM dialect failed");
    for (auto gm : top.getOps<gpu::GPUModuleOp>()) {
      LLVMTypeConverter conv(&ctx);
      RewritePatternSet patterns(&ctx);
      populateGpuToNVVMConversionPatterns(conv, patterns);
      ConversionTarget target(ctx);
      target.addLegalDialect<LLVM::LLVMDialect, NVVM::NVVMDialect>();
      target.addIllegalDialect<gpu::GPUDialect>();
      target.addLegalOp<gpu::GPUModuleOp, gpu::ModuleEndOp>();
      if (failed(applyPartialConversion(gm, target, std::move(patterns))))
        internal("lowering gpu ops to NVVM failed");
    }
    PassManager pm2(&ctx);
    pm2.addPass(createReconcileUnrealizedCastsPass());
    if (failed(pm2.run(top))) internal("reconciling casts failed");
  }

  /// Stage 3: LLVM IR of the gpu.module, for the NVPTX target.
  std::unique_ptr<llvm::Module> translate(mlir::ModuleOp top, llvm::LLVMContext &lctx, int sm) {
    auto gms = top.getOps<mlir::gpu::GPUModuleOp>();
    if (gms.empty()) internal("no gpu.module");
    auto mod = mlir::translateModuleToLLVMIR(*gms.begin(), lctx, "xpr_gpu");
    if (!mod) internal("translation to LLVM IR failed");
    llvm::TargetMachine &m = tm(sm);
    mod->setDataLayout(m.createDataLayout());
    mod->setTargetTriple(kTriple);
    return mod;
  }

  /// Stage 4: libdevice linked in (only the functions used, then internalized), NVVM reflect
  /// flags (no flush to zero: denormals as on the CPU), -O2.
  void link_and_optimize(llvm::Module &mod, const std::set<std::string> &kernels, int sm) {
    bool needs = false;
    for (llvm::Function &f : mod)
      needs |= f.isDeclaration() && f.getName().starts_with("__nv_");
    if (needs) {
      if (!libdevice_tried) {
        libdevice_tried = true;
        libdevice_path = find_libdevice();
        if (!libdevice_path.empty()) {
          auto buf = llvm::MemoryBuffer::getFile(libdevice_path);
          if (buf) libdevice = std::move(*buf);
        }
      }
      if (!libdevice)
        throw Error(ErrorKind::Runtime,
                    "libdevice not found: GPU kernels with transcendental functions need the CUDA "
                    "toolkit's nvvm/libdevice/libdevice.10.bc (set XPR_LIBDEVICE or CUDA_HOME)");
      auto lib = llvm::getLazyBitcodeModule(libdevice->getMemBufferRef(), mod.getContext());
      if (!lib) {
        std::string e;
        llvm::raw_string_ostream os(e);
        os << lib.takeError();
        throw Error(ErrorKind::Runtime, "reading libdevice " + libdevice_path + ": " + e);
      }
      (*lib)->setDataLayout(mod.getDataLayout());
      (*lib)->setTargetTriple(mod.getTargetTriple());
      if (llvm::Linker::linkModules(mod, std::move(*lib), llvm::Linker::Flags::LinkOnlyNeeded))
        internal("linking libdevice failed");
    }
    for (llvm::Function &f : mod) {
      if (f.isDeclaration()) continue;
      if (kernels.count(f.getName().str())) {
        f.addFnAttr(llvm::Attribute::NoUnwind);
        continue;
      }
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
    }
    for (llvm::GlobalVariable &gv : mod.globals())
      if (!gv.isDeclaration()) gv.setLinkage(llvm::GlobalValue::InternalLinkage);
    mod.addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", std::uint32_t{0});
    if (llvm::verifyModule(mod, &llvm::errs())) internal("the linked module does not verify");

    llvm::TargetMachine &m = tm(sm);
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(&m);
    m.registerPassBuilderCallbacks(pb); // NVVMReflect, address-space inference
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(mod, mam);
    widen_narrow_int_ops(mod); // after -O2, which would narrow them again (GpuNarrowInt.cpp)
  }

  /// Stage 5: PTX.
  std::string ptx(llvm::Module &mod, int sm) {
    llvm::SmallString<0> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm(sm).addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
      internal("the NVPTX target cannot emit assembly");
    pm.run(mod);
    return std::string(buf.str());
  }

  std::string print(mlir::ModuleOp m) {
    std::string s;
    llvm::raw_string_ostream os(s);
    m.print(os);
    return s;
  }
};

GpuJit::GpuJit() : impl_(std::make_unique<Impl>()) {
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTarget();
  LLVMInitializeNVPTXTargetMC();
  LLVMInitializeNVPTXAsmPrinter();
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::vector::VectorDialect, mlir::scf::SCFDialect, mlir::cf::ControlFlowDialect,
                  mlir::LLVM::LLVMDialect, mlir::gpu::GPUDialect, mlir::NVVM::NVVMDialect>();
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  impl_->ctx.appendDialectRegistry(registry);
  impl_->ctx.disableMultithreading();
  impl_->ctx.loadAllAvailableDialects();
}

GpuJit::~GpuJit() = default;

std::string GpuJit::compile_ptx(const std::vector<GpuKernel> &kernels, int sm, GpuTimings *t) {
  return compile_ptx(kernels, std::vector<int>{sm}, t).at(0);
}

std::vector<std::string> GpuJit::compile_ptx(const std::vector<GpuKernel> &kernels,
                                             const std::vector<int> &sms, GpuTimings *t) {
  Impl &I = *impl_;
  std::lock_guard lock(I.mu);
  GpuTimings local;
  GpuTimings &tm = t ? *t : local;
  if (sms.empty()) internal("compile_ptx: no target");
  for (int sm : sms)
    I.tm(sm); // an unsupported sm fails before any work
  auto t0 = std::chrono::steady_clock::now();
  llvm::LLVMContext lctx;
  std::unique_ptr<llvm::Module> main;
  std::set<std::string> names;
  for (const GpuKernel &k : kernels) {
    if (!k.kernel) internal("compile_ptx: null kernel");
    if (!names.insert(k.name).second) internal("compile_ptx: duplicate kernel name " + k.name);
    auto top = I.build(*k.kernel, k.spec, k.name);
    I.lower(*top);
    // The data layout is the same for every sm: one translation serves them all.
    auto mod = I.translate(*top, lctx, sms[0]);
    if (!main) {
      main = std::move(mod);
    } else if (llvm::Linker::linkModules(*main, std::move(mod))) {
      internal("linking kernel " + k.name);
    }
  }
  if (!main) internal("compile_ptx: no kernels");
  tm.mlir_ms += ms_since(t0);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sms.size(); ++i) {
    t0 = std::chrono::steady_clock::now();
    std::unique_ptr<llvm::Module> m =
        i + 1 == sms.size() ? std::move(main) : llvm::CloneModule(*main);
    I.link_and_optimize(*m, names, sms[i]);
    tm.llvm_opt_ms += ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    out.push_back(I.ptx(*m, sms[i]));
    tm.ptx_ms += ms_since(t0);
  }
  return out;
}

std::string GpuJit::emit(const ir::Graph &kernel, const GpuKernelSpec &spec, GpuStage stage, int sm,
                         const std::string &name) {
  Impl &I = *impl_;
  std::lock_guard lock(I.mu);
  auto top = I.build(kernel, spec, name);
  if (stage == GpuStage::Mlir) return I.print(*top);
  I.lower(*top);
  if (stage == GpuStage::MlirLowered) return I.print(*top);
  llvm::LLVMContext lctx;
  auto mod = I.translate(*top, lctx, sm);
  I.link_and_optimize(*mod, {name}, sm);
  if (stage == GpuStage::Llvm) {
    std::string s;
    llvm::raw_string_ostream os(s);
    mod->print(os, nullptr);
    return s;
  }
  return I.ptx(*mod, sm);
}

std::string GpuJit::target_description(int sm) const {
  const SmInfo *info = sm_info(sm);
  return fmt::format("{} sm_{} {} llvm-{} libdevice={}", kTriple, sm, info ? info->ptx : "?",
                     LLVM_VERSION_STRING, find_libdevice());
}

} // namespace xpr::cg
