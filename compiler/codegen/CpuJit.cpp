// compiler/codegen/CpuJit.cpp — the CPU lowering pipeline: kernel → MLIR → LLVM dialect →
// LLVM IR → -O2 → host machine code in an ORC LLJIT. Reads top to bottom as straight-line
// stages; emit() stops after any of them.
#include "compiler/codegen/CpuJit.h"

#include "compiler/codegen/KernelToMlir.h"
#include "compiler/codegen/ReduceKernel.h"
#include "compiler/codegen/ReduceToMlir.h"
#include "compiler/codegen/SleefSymbols.h"

#include <xpr/error.hpp>

#include <mlir/Conversion/ArithToLLVM/ArithToLLVM.h>
#include <mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h>
#include <mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h>
#include <mlir/Conversion/MathToLLVM/MathToLLVM.h>
#include <mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h>
#include <mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h>
#include <mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/ControlFlow/IR/ControlFlow.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/Pass/Pass.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Export.h>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/GVN.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <mutex>

namespace xpr::cg {

namespace {

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "cpu jit: " + msg);
}

std::string to_string(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return s;
}

template <class T> T take(llvm::Expected<T> v, const char *what) {
  if (!v) internal(fmt::format("{}: {}", what, to_string(v.takeError())));
  return std::move(*v);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

struct CpuJit::Impl {
  std::mutex mu;
  mlir::MLIRContext mlir_ctx;
  llvm::orc::JITTargetMachineBuilder jtmb;
  std::unique_ptr<llvm::TargetMachine> tm; // for -O2 cost models and --emit=asm
  std::unique_ptr<llvm::orc::LLJIT> jit;
  int vector_bits = 128;
  std::string description;
  std::uint64_t next_id = 0;
  // Lean by default: on the corpus of bench/compile_bench.cpp it costs ~30% less compile time
  // than -O2 with run times within noise (docs/cache.md). XPR_LLVM_PIPELINE=O2|lean|none.
  std::atomic<LlvmPipeline> pipeline{LlvmPipeline::Lean};
  std::atomic<std::uint64_t> next_dylib{0};
  std::atomic<std::size_t> live_objects{0};

  explicit Impl(llvm::orc::JITTargetMachineBuilder b) : jtmb(std::move(b)) {}

  /// Stage 1: the kernel as MLIR.
  mlir::OwningOpRef<mlir::ModuleOp> build(const ir::Graph &g, const KernelSpec &s,
                                          const std::string &name) {
    // A reduce kernel (ReduceKernel.h) goes through the same pipeline and caches; only its
    // loop nest differs.
    if (is_reduce_kernel(g)) return build_reduce_module(mlir_ctx, g, s, vector_bits, name);
    return build_kernel_module(mlir_ctx, g, s, vector_bits, name);
  }

  /// Stage 2: everything to the LLVM dialect.
  void lower(mlir::ModuleOp m) {
    mlir::PassManager pm(&mlir_ctx);
    pm.addPass(mlir::createConvertSCFToCFPass());
    pm.addPass(mlir::createConvertVectorToLLVMPass());
    pm.addPass(mlir::createConvertMathToLLVMPass());
    pm.addPass(mlir::createArithToLLVMConversionPass());
    pm.addPass(mlir::createConvertFuncToLLVMPass());
    pm.addPass(mlir::createConvertControlFlowToLLVMPass());
    pm.addPass(mlir::createReconcileUnrealizedCastsPass());
    if (mlir::failed(pm.run(m))) internal("lowering to the LLVM dialect failed");
  }

  /// Stage 3: LLVM IR for the host, then the -O2 pipeline. No fast-math flags are ever set and
  /// the target machine forbids FP contraction: `a*b + c` stays two roundings.
  std::unique_ptr<llvm::Module> translate(mlir::ModuleOp m, llvm::LLVMContext &lctx) {
    auto mod = mlir::translateModuleToLLVMIR(m, lctx, "xpr_kernel");
    if (!mod) internal("translation to LLVM IR failed");
    mod->setDataLayout(tm->createDataLayout());
    mod->setTargetTriple(tm->getTargetTriple().str());
    for (llvm::Function &f : *mod) {
      if (f.isDeclaration()) {
        // SLEEF functions are pure: let LLVM hoist a call on a loop-invariant operand.
        if (f.getName().starts_with("Sleef_")) {
          f.setDoesNotAccessMemory();
          f.setDoesNotThrow();
          f.setWillReturn();
        }
        continue;
      }
      f.addFnAttr("target-cpu", tm->getTargetCPU());
      f.addFnAttr("target-features", tm->getTargetFeatureString());
      f.addFnAttr(llvm::Attribute::NoUnwind);
    }
    return mod;
  }

  void optimize(llvm::Module &mod) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    switch (pipeline.load(std::memory_order_relaxed)) {
    case LlvmPipeline::O2:
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(mod, mam);
      break;
    case LlvmPipeline::Lean: {
      // The clean-ups MLIR's lowering leaves work for: redundant index arithmetic and loads,
      // splats of params inside the loop, trivial blocks. No vectorizers, no unrolling.
      llvm::FunctionPassManager fpm;
      fpm.addPass(llvm::EarlyCSEPass(true));
      fpm.addPass(llvm::InstCombinePass());
      fpm.addPass(llvm::SimplifyCFGPass());
      llvm::LoopPassManager lpm;
      lpm.addPass(llvm::LICMPass(llvm::LICMOptions()));
      fpm.addPass(llvm::createFunctionToLoopPassAdaptor(std::move(lpm), /*UseMemorySSA=*/true));
      fpm.addPass(llvm::GVNPass());
      fpm.addPass(llvm::InstCombinePass());
      llvm::ModulePassManager mpm;
      mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
      mpm.run(mod, mam);
      break;
    }
    case LlvmPipeline::None: break;
    }
  }

  std::string object_code(llvm::Module &mod) {
    llvm::SmallVector<char, 0> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      internal("the target cannot emit object files");
    pm.run(mod);
    return std::string(buf.data(), buf.size());
  }

  /// compile_objects and compile_objects_multi (CpuJit.h), with `mu` held.
  std::string link_objects(
      const std::vector<std::pair<std::string, std::vector<ObjectKernel>>> &per_cpu,
      const std::string &extra_ir, std::string *asm_out);

  std::string asm_text(llvm::Module &mod) {
    llvm::SmallString<0> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
      internal("the target cannot emit assembly");
    pm.run(mod);
    return std::string(buf.str());
  }
};

CpuJit::CpuJit() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();

  auto jtmb = take(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  jtmb.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
  // Objects from compile_to_object are linked anywhere in the address space, possibly by
  // another process: position-independent, small code model (RIP-relative constants).
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  jtmb.setCodeModel(llvm::CodeModel::Small);
  impl_ = std::make_unique<Impl>(jtmb);
  Impl &I = *impl_;
  if (const char *p = std::getenv("XPR_LLVM_PIPELINE")) {
    const std::string v = p;
    if (v == "O2") I.pipeline = LlvmPipeline::O2;
    else if (v == "none") I.pipeline = LlvmPipeline::None;
    else if (v == "lean") I.pipeline = LlvmPipeline::Lean;
  }
  I.tm = take(jtmb.createTargetMachine(), "creating the target machine");

  std::string features = jtmb.getFeatures().getString();
  auto has = [&](const char *f) { return features.find(std::string("+") + f) != std::string::npos; };
  I.vector_bits = has("avx512f") ? 512 : has("avx2") ? 256 : 128;
  I.description = fmt::format("{}-{} cpu={} vector_bits={} features={}",
                              jtmb.getTargetTriple().str(), LLVM_VERSION_STRING, jtmb.getCPU(),
                              I.vector_bits, features);

  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::vector::VectorDialect, mlir::scf::SCFDialect,
                  mlir::cf::ControlFlowDialect, mlir::LLVM::LLVMDialect>();
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  I.mlir_ctx.appendDialectRegistry(registry);
  I.mlir_ctx.disableMultithreading(); // compiles are serialized; no thread pool needed
  I.mlir_ctx.loadAllAvailableDialects();

  I.jit = take(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create(),
               "creating the JIT");
  llvm::orc::JITDylib &jd = I.jit->getMainJITDylib();
  llvm::orc::SymbolMap syms;
  for (const SleefSymbol &s : sleef_symbols())
    syms[I.jit->mangleAndIntern(s.name)] = {llvm::orc::ExecutorAddr::fromPtr(s.address),
                                            llvm::JITSymbolFlags::Exported |
                                                llvm::JITSymbolFlags::Callable};
  if (auto err = jd.define(llvm::orc::absoluteSymbols(std::move(syms))))
    internal("defining SLEEF symbols: " + to_string(std::move(err)));
  // Compiler-rt style helpers the backend may call (e.g. half conversions on older CPUs).
  jd.addGenerator(take(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                           I.jit->getDataLayout().getGlobalPrefix()),
                       "process symbols"));
}

CpuJit::~CpuJit() = default;

int CpuJit::vector_bits() const { return impl_->vector_bits; }
std::string CpuJit::target_description() const { return impl_->description; }

KernelFn CpuJit::compile(const ir::Graph &kernel, const KernelSpec &spec, CompileTimings *t) {
  Impl &I = *impl_;
  std::lock_guard lock(I.mu);
  CompileTimings local;
  CompileTimings &tm = t ? *t : local;
  std::string name = fmt::format("xpr_kernel_{}", I.next_id++);

  auto t0 = std::chrono::steady_clock::now();
  auto module = I.build(kernel, spec, name);
  tm.mlir_build_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  I.lower(*module);
  auto lctx = std::make_unique<llvm::LLVMContext>();
  auto mod = I.translate(*module, *lctx);
  tm.mlir_lower_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  I.optimize(*mod);
  tm.llvm_opt_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  if (auto err = I.jit->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(mod), std::move(lctx))))
    internal("adding the module: " + to_string(std::move(err)));
  auto addr = take(I.jit->lookup(name), "linking the kernel");
  tm.codegen_ms = ms_since(t0);
  return addr.toPtr<KernelFn>();
}

const char *pipeline_name(LlvmPipeline p) {
  switch (p) {
  case LlvmPipeline::O2: return "O2";
  case LlvmPipeline::Lean: return "lean";
  case LlvmPipeline::None: return "none";
  }
  return "?";
}

void CpuJit::set_llvm_pipeline(LlvmPipeline p) { impl_->pipeline.store(p); }
LlvmPipeline CpuJit::llvm_pipeline() const { return impl_->pipeline.load(); }

std::string CpuJit::compile_to_object(const ir::Graph &kernel, const KernelSpec &spec,
                                      const std::string &symbol, CompileTimings *t) {
  Impl &I = *impl_;
  std::lock_guard lock(I.mu);
  CompileTimings local;
  CompileTimings &tm = t ? *t : local;

  auto t0 = std::chrono::steady_clock::now();
  auto module = I.build(kernel, spec, symbol);
  tm.mlir_build_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  I.lower(*module);
  llvm::LLVMContext lctx;
  auto mod = I.translate(*module, lctx);
  tm.mlir_lower_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  I.optimize(*mod);
  tm.llvm_opt_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  std::string obj = I.object_code(*mod);
  tm.codegen_ms = ms_since(t0);
  return obj;
}

namespace {
/// A target machine for an LLVM CPU name with its default features, and its vector width.
struct CpuMachine {
  std::unique_ptr<llvm::TargetMachine> tm; ///< null: the JIT's own ("host")
  int bits = 128;
};
CpuMachine machine_for(const llvm::orc::JITTargetMachineBuilder &jtmb, const std::string &cpu) {
  CpuMachine m;
  if (cpu == "host") return m;
  llvm::orc::JITTargetMachineBuilder b = jtmb;
  b.setCPU(cpu);
  b.getFeatures() = llvm::SubtargetFeatures();
  auto tm = b.createTargetMachine();
  if (!tm) internal("creating the target machine for " + cpu + ": " + to_string(tm.takeError()));
  const llvm::MCSubtargetInfo *sti = (*tm)->getMCSubtargetInfo();
  if (!sti->isCPUStringValid(cpu))
    throw Error(ErrorKind::Runtime, fmt::format("unknown target CPU '{}'", cpu));
  m.bits = sti->checkFeatures("+avx512f") ? 512 : sti->checkFeatures("+avx2") ? 256 : 128;
  m.tm = std::move(*tm);
  return m;
}
} // namespace

std::string CpuJit::Impl::link_objects(
    const std::vector<std::pair<std::string, std::vector<ObjectKernel>>> &per_cpu,
    const std::string &extra_ir, std::string *asm_out) {
  // With `mu` held. Each CPU's machine and vector width are swapped in while its kernels are
  // built (no JIT compile can see them: the mutex is held); the driver IR and the object use the
  // first CPU's. The JIT's own machine is restored whatever happens.
  if (per_cpu.empty()) internal("compile_objects: no CPU");
  std::vector<CpuMachine> machines;
  for (const auto &[cpu, kernels] : per_cpu) machines.push_back(machine_for(jtmb, cpu));
  struct Restore {
    Impl &I;
    std::unique_ptr<llvm::TargetMachine> tm;
    int bits;
    ~Restore() {
      if (tm) I.tm = std::move(tm); // else the JIT's own is the one in use: it stays
      I.vector_bits = bits;
    }
  } restore{*this, std::move(tm), vector_bits};
  // Where CPU c's machine is kept while another one is in use: "host" is the JIT's own.
  auto slot = [&](std::size_t c) -> std::unique_ptr<llvm::TargetMachine> & {
    return per_cpu[c].first == "host" ? restore.tm : machines[c].tm;
  };
  auto use = [&](std::size_t c) {
    tm = std::move(slot(c));
    vector_bits = per_cpu[c].first == "host" ? restore.bits : machines[c].bits;
  };
  auto give_back = [&](std::size_t c) { slot(c) = std::move(tm); };

  llvm::LLVMContext lctx;
  auto main = std::make_unique<llvm::Module>("xpr_aot", lctx);
  llvm::Linker linker(*main);
  for (std::size_t c = 0; c < per_cpu.size(); ++c) {
    use(c);
    if (c == 0) {
      main->setDataLayout(tm->createDataLayout());
      main->setTargetTriple(tm->getTargetTriple().str());
    }
    // Each kernel goes through the very stages of compile_to_object, optimized on its own, and
    // is only then linked in: the module-level pipeline never sees two kernels at once.
    for (const ObjectKernel &k : per_cpu[c].second) {
      if (!k.kernel) internal("compile_objects: null kernel");
      auto module = build(*k.kernel, k.spec, k.symbol);
      lower(*module);
      auto mod = translate(*module, lctx); // target-cpu/-features: this CPU's
      optimize(*mod);
      if (llvm::Function *f = mod->getFunction(k.symbol))
        f->setVisibility(llvm::GlobalValue::HiddenVisibility);
      else
        internal("compile_objects: kernel symbol " + k.symbol + " missing");
      if (linker.linkInModule(std::move(mod))) internal("linking kernel " + k.symbol);
    }
    give_back(c);
  }
  use(0);
  if (!extra_ir.empty()) {
    llvm::SMDiagnostic diag;
    auto mod = llvm::parseAssemblyString(extra_ir, diag, lctx);
    if (!mod) {
      std::string text;
      llvm::raw_string_ostream os(text);
      diag.print("aot-driver", os);
      internal("parsing the driver IR: " + text);
    }
    mod->setDataLayout(tm->createDataLayout());
    mod->setTargetTriple(tm->getTargetTriple().str());
    for (llvm::Function &f : *mod)
      if (!f.isDeclaration()) f.addFnAttr(llvm::Attribute::NoUnwind);
    optimize(*mod);
    if (linker.linkInModule(std::move(mod))) internal("linking the driver IR");
  }
  if (asm_out) *asm_out = asm_text(*main);
  std::string obj = object_code(*main);
  give_back(0);
  return obj;
}

std::string CpuJit::compile_objects(const std::vector<ObjectKernel> &kernels,
                                    const std::string &extra_ir, const std::string &cpu,
                                    std::string *asm_out) {
  std::lock_guard lock(impl_->mu);
  return impl_->link_objects({{cpu, kernels}}, extra_ir, asm_out);
}

namespace {
/// A load_object kernel: its JITDylib is removed from the session (code and memory freed) with
/// the last reference. Without this a long-lived process that keeps compiling new expressions
/// (a REPL session, a 100,000-case differential run) grows until allocation fails.
struct DylibCode final : JitCode {
  llvm::orc::LLJIT *jit = nullptr;
  llvm::orc::JITDylib *jd = nullptr;
  std::atomic<std::size_t> *live = nullptr;
  ~DylibCode() override {
    if (!jd) return;
    // Nothing useful can be done with a failure here; the memory is merely not reclaimed.
    llvm::consumeError(jit->getExecutionSession().removeJITDylib(*jd));
    live->fetch_sub(1, std::memory_order_relaxed);
  }
};
} // namespace

std::size_t CpuJit::loaded_objects() const {
  return impl_->live_objects.load(std::memory_order_relaxed);
}

std::shared_ptr<const JitCode> CpuJit::load_object(std::string_view object,
                                                   const std::string &symbol, CompileTimings *t) {
  Impl &I = *impl_;
  auto t0 = std::chrono::steady_clock::now();
  // ORC's ExecutionSession is thread-safe: loading does not wait for a compile in progress.
  auto name = fmt::format("xpr_obj_{}", I.next_dylib.fetch_add(1));
  auto jd_or = I.jit->createJITDylib(name);
  if (!jd_or) internal("creating a JITDylib: " + to_string(jd_or.takeError()));
  llvm::orc::JITDylib &jd = *jd_or;
  // SLEEF and process symbols live in (or behind) the main JITDylib.
  jd.addToLinkOrder(I.jit->getMainJITDylib());
  auto buf = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()),
                                                  name);
  auto code = std::make_shared<DylibCode>();
  code->jit = I.jit.get();
  code->jd = &jd;
  code->live = &I.live_objects;
  I.live_objects.fetch_add(1, std::memory_order_relaxed);
  // From here `code` owns the JITDylib: an object that fails to link is removed again.
  if (auto err = I.jit->addObjectFile(jd, std::move(buf)))
    internal("adding an object: " + to_string(std::move(err)));
  code->fn = take(I.jit->lookup(jd, symbol), "linking a cached kernel").toPtr<KernelFn>();
  if (t) t->load_ms = ms_since(t0);
  return code;
}

std::string CpuJit::emit(const ir::Graph &kernel, const KernelSpec &spec, Stage stage) {
  Impl &I = *impl_;
  std::lock_guard lock(I.mu);
  auto module = I.build(kernel, spec, "xpr_kernel");
  auto print = [](mlir::ModuleOp m) {
    std::string s;
    llvm::raw_string_ostream os(s);
    m.print(os);
    return s;
  };
  if (stage == Stage::Mlir) return print(*module);
  I.lower(*module);
  if (stage == Stage::MlirLowered) return print(*module);
  llvm::LLVMContext lctx;
  auto mod = I.translate(*module, lctx);
  I.optimize(*mod);
  if (stage == Stage::Llvm) {
    std::string s;
    llvm::raw_string_ostream os(s);
    mod->print(os, nullptr);
    return s;
  }
  return I.asm_text(*mod);
}

std::string CpuJit::compile_objects_multi(
    const std::vector<std::pair<std::string, std::vector<ObjectKernel>>> &per_cpu,
    const std::string &extra_ir, std::string *asm_out) {
  for (const auto &pc : per_cpu)
    if (pc.first == "host") internal("compile_objects_multi: 'host' is not a CPU name");
  std::lock_guard lock(impl_->mu);
  return impl_->link_objects(per_cpu, extra_ir, asm_out);
}

} // namespace xpr::cg
