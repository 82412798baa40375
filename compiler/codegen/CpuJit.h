// compiler/codegen/CpuJit.h — compiles a fused elementwise kernel into host machine code (MLIR →
// LLVM → ORC JIT). MLIR/LLVM-free on purpose: the runtime and tools include it.
#pragma once

#include "compiler/codegen/Kernel.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::cg {

/// The textual stages of the CPU lowering, for --emit and tests.
enum class Stage {
  Mlir,        ///< the kernel as built: func/scf/arith/math/vector plus llvm pointer ops
  MlirLowered, ///< after conversion to the LLVM dialect
  Llvm,        ///< LLVM IR after the configured pipeline (LlvmPipeline)
  Asm,         ///< host assembly
};

/// Wall-clock milliseconds spent in each phase of one compile().
struct CompileTimings {
  double mlir_build_ms = 0; ///< graph → MLIR module (incl. verification)
  double mlir_lower_ms = 0; ///< MLIR passes to the LLVM dialect and translation to LLVM IR
  double llvm_opt_ms = 0;   ///< the LLVM IR pipeline (LlvmPipeline)
  double codegen_ms = 0;    ///< machine code generation and linking in the JIT
  double load_ms = 0;       ///< load_object only: linking an object into the JIT
};

/// The LLVM IR pipeline run before machine code generation. MLIR's output is already
/// vectorized, so most of -O2 has nothing left to do; see docs/cache.md for what each buys.
enum class LlvmPipeline : std::uint8_t {
  O2,   ///< LLVM's -O2 module pipeline
  Lean, ///< the default: early-cse, instcombine, simplifycfg, LICM, GVN, instcombine
  None, ///< no IR passes (machine code generation still optimizes)
};
const char *pipeline_name(LlvmPipeline p);

/// One kernel of an ahead-of-time object (compile_objects): the graph, the operand layouts it
/// is compiled for and the symbol that names it in the object.
struct ObjectKernel {
  const ir::Graph *kernel = nullptr;
  KernelSpec spec;
  std::string symbol;
};

/// Machine code linked into a CpuJit: `fn` is callable while this object lives, and the code
/// is unlinked and its memory freed when the last reference goes (the JIT must outlive it).
struct JitCode {
  KernelFn fn = nullptr;
  virtual ~JitCode() = default;
};

/// One MLIR context and one LLJIT, reused for every kernel. Thread-safe: compilation is
/// serialized by a mutex; the returned functions may be called concurrently from any thread.
/// compile()'s functions stay valid for the lifetime of the CpuJit; load_object's as long as
/// their JitCode.
class CpuJit {
public:
  CpuJit();
  ~CpuJit();
  CpuJit(const CpuJit &) = delete;
  CpuJit &operator=(const CpuJit &) = delete;

  /// Compiles `kernel` (leaves, elementwise ops and casts only; see Kernel.h) for the operand
  /// layouts in `spec`. Throws Error(Internal) if the kernel is malformed or lowering fails.
  KernelFn compile(const ir::Graph &kernel, const KernelSpec &spec, CompileTimings *t = nullptr);
  /// Compiles like compile(), but to a relocatable object file for the host (its bytes) that
  /// defines the kernel under the name `symbol`; `t->codegen_ms` is the object emission. The
  /// object can be cached on disk and linked by load_object in any process whose
  /// target_description() is the same.
  std::string compile_to_object(const ir::Graph &kernel, const KernelSpec &spec,
                                const std::string &symbol, CompileTimings *t = nullptr);
  /// Ahead-of-time compilation (tools/xprc): every kernel of `kernels`, lowered exactly as
  /// compile_to_object lowers it, plus `extra_ir` (LLVM IR text: the AOT driver), linked into one
  /// relocatable object. `cpu` is "host" (the JIT's own target machine and features, so the code
  /// is the JIT's bit for bit) or an LLVM CPU name such as "x86-64-v3" (its default features and
  /// vector width). Kernel symbols get hidden visibility; `extra_ir`'s keep theirs. With
  /// `asm_out`, the object's assembly is stored there too. Throws Error(Internal) on failure and
  /// Error(Runtime) for a CPU name LLVM does not know.
  std::string compile_objects(const std::vector<ObjectKernel> &kernels,
                              const std::string &extra_ir, const std::string &cpu = "host",
                              std::string *asm_out = nullptr);
  /// Links an object made by compile_to_object into the JIT, in a JITDylib of its own (so equal
  /// symbol names never clash and the code can be freed on its own), and returns the address of
  /// `symbol` with the ownership of that code. Throws Error(Internal) if the object does not link
  /// or lacks the symbol; callers verify an object's integrity before.
  std::shared_ptr<const JitCode> load_object(std::string_view object, const std::string &symbol,
                                             CompileTimings *t = nullptr);
  /// How many load_object codes are linked now (tests of the kernel cache's bound read it).
  std::size_t loaded_objects() const;
  /// The IR pipeline used from now on by compile, compile_to_object and emit (part of every
  /// cache key, see pipeline_name).
  void set_llvm_pipeline(LlvmPipeline p);
  LlvmPipeline llvm_pipeline() const;
  /// The text of one lowering stage of the same kernel that compile() would build.
  std::string emit(const ir::Graph &kernel, const KernelSpec &spec, Stage stage);
  /// Host CPU name, its feature string and the vector width: part of every cache key.
  std::string target_description() const;
  /// 512 with AVX-512, 256 with AVX2, else 128.
  int vector_bits() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;

public:
  /// compile_objects for several CPUs in one object (tools/xprc multi-versioned objects): the
  /// kernels of `per_cpu[i].second` are lowered exactly as compile_objects lowers them for the
  /// CPU `per_cpu[i].first` (an LLVM CPU name, not "host"), each function keeping its CPU and
  /// features as attributes, so its machine code is that of a single-CPU object. `extra_ir` (the
  /// driver) and the object's own code generation use the first CPU, which must be the lowest.
  /// Throws like compile_objects.
  std::string compile_objects_multi(
      const std::vector<std::pair<std::string, std::vector<ObjectKernel>>> &per_cpu,
      const std::string &extra_ir, std::string *asm_out = nullptr);
};

} // namespace xpr::cg
