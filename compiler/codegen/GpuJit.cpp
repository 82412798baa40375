// compiler/codegen/GpuJit.cpp — the GPU lowering pipeline: kernel → gpu.module (gpu.func with a
// grid-stride loop around the CPU emitter's element code) → LLVM + NVVM dialects → LLVM IR →
// libdevice linked in → NVPTX -O2 → PTX text. Reads top to bottom as straight-line stages; emit()
// stops after any of them.
#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/GpuKernelFrame.h"
#include "compiler/codegen/GpuNarrowInt.h"
#include "compiler/codegen/GpuReduceToMlir.h"

#include "compiler/codegen/KernelToMlir.h"
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

[[noreturn]] void internal(const std::string &msg) { gpu_internal(msg); }

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

  /// Stage 1: the gpu.module holding the kernel.
  mlir::OwningOpRef<mlir::ModuleOp> build(const ir::Graph &g, const GpuKernelSpec &gs,
                                          const std::string &name) {
    if (is_reduce_kernel(g)) return build_gpu_reduce_module(ctx, g, gs, name);
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
    GpuFrame f = open_gpu_kernel(ctx, em, emv.get(), g, gs, layouts, name, 1);
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
      gpu_stride_loop(b, it, start, nvec, step, [&](Value j) {
        emv->builder().restoreInsertionPoint(b.saveInsertionPoint());
        emv->emit(b.create<arith::MulIOp>(loc, j, cv), {});
      });
      scalar_from = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, nvec, cv), start);
    }
    gpu_stride_loop(b, it, scalar_from, total, step, [&](Value i) {
      em.emit(i, gpu_strided_offsets(b, f, i, static_cast<int>(layouts.size())));
    });
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
