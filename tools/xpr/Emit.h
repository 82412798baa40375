// tools/xpr/Emit.h — the `--emit=` ladder shared by the driver and the REPL's :emit and :time:
// one graph in, the text of any lowering stage out, plus per-stage compile timings.
#pragma once

#include "compiler/ir/Graph.h"
#include "frontend/Frontend.h"

#include <xpr/xpr.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::tool {

enum class EmitStage { Ast, Ir, Opt, Fused, Mlir, MlirLlvm, Llvm, Asm, Ptx };

/// The PTX target of --emit=ptx and of the REPL's :emit ptx on the CPU target (no GPU needed;
/// docs/gpu.md). On a cuda target the REPL uses the device's own (Context::target_sm).
inline constexpr int kDefaultPtxSm = 80;

/// "ast", "ir", "opt", "fused", "mlir", "mlir-llvm", "llvm", "asm", "ptx" in ladder order.
const std::vector<std::string> &emit_stage_names();
std::optional<EmitStage> emit_stage_from_name(std::string_view name);

/// The text of `stage` for a program given as source: expression form with `decls`, or a script.
/// Ast needs only the parse; every other stage runs sema first (user errors are thrown there).
/// Ptx: every kernel as PTX for `sm` (no GPU needed), the layout of contiguous operands
/// (docs/gpu.md).
std::string emit(const SourceFile &src, bool expression_form, const std::vector<fe::Decl> &decls,
                 EmitStage stage, Precision precision, int sm = kDefaultPtxSm);

/// The text of a stage from Ir on, for an already checked graph.
std::string emit_graph(const ir::Graph &g, EmitStage stage, Precision precision,
                       int sm = kDefaultPtxSm);

/// Wall-clock milliseconds of a cold compile, stage by stage.
struct CompileProfile {
  bool gpu = false;       ///< the stages of the cuda target (PTX) rather than the CPU's
  double passes_ms = 0;   ///< folding, simplification, CSE, DCE, fusion
  /// All kernels. CPU: MLIR build, lowering to LLVM IR, -O2, machine code and JIT link. GPU:
  /// mlir_lower_ms covers building and lowering the gpu module to LLVM IR, llvm_opt_ms linking
  /// libdevice and -O2, codegen_ms NVPTX (the driver's JIT of the PTX happens at the first call).
  double mlir_build_ms = 0, mlir_lower_ms = 0, llvm_opt_ms = 0, codegen_ms = 0;
  int kernels = 0, reductions = 0, intermediates = 0;
};
/// Runs the middle end and compiles every kernel afresh (bypassing the kernel cache, so the
/// numbers are those of a first compile), for the layouts of contiguous operands: for the CPU
/// when `gpu_sm` is 0, else as PTX for that sm (Context::target_sm of a cuda context).
CompileProfile profile_compile(const ir::Graph &g, Precision precision, int gpu_sm = 0);

} // namespace xpr::tool
