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

/// "ast", "ir", "opt", "fused", "mlir", "mlir-llvm", "llvm", "asm", "ptx" in ladder order.
const std::vector<std::string> &emit_stage_names();
std::optional<EmitStage> emit_stage_from_name(std::string_view name);

/// The text of `stage` for a program given as source: expression form with `decls`, or a script.
/// Ast needs only the parse; every other stage runs sema first (user errors are thrown there).
/// Ptx: every kernel as PTX for sm_80, the layout of contiguous operands (docs/gpu.md).
std::string emit(const SourceFile &src, bool expression_form, const std::vector<fe::Decl> &decls,
                 EmitStage stage, Precision precision);

/// The text of a stage from Ir on, for an already checked graph.
std::string emit_graph(const ir::Graph &g, EmitStage stage, Precision precision);

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
/// numbers are those of a first compile), for the layouts of contiguous operands, for `target`.
CompileProfile profile_compile(const ir::Graph &g, Precision precision,
                               const Target &target = Target::cpu());

} // namespace xpr::tool
