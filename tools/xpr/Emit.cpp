// tools/xpr/Emit.cpp — stage printing and compile profiling over the pass pipeline and the CPU JIT.
#include "tools/xpr/Emit.h"

#include "compiler/codegen/CpuJit.h"
#include "compiler/codegen/GpuJit.h"
#include "compiler/passes/Pipeline.h"
#include "runtime/KernelCache.h"
#include "runtime/cuda/CudaExecute.h"

#include <fmt/format.h>

#include <chrono>

namespace xpr::tool {

namespace {

cg::Precision to_cg(Precision p) {
  return p == Precision::Fast ? cg::Precision::Fast : cg::Precision::Accurate;
}

/// The spec a kernel gets when every array operand is contiguous (rank-0 operands broadcast).
cg::KernelSpec contiguous_spec(const passes::Plan &plan, const passes::KernelStep &ks,
                               Precision precision) {
  cg::KernelSpec spec;
  spec.rank = static_cast<int>(ks.iter_dims.size());
  spec.precision = to_cg(precision);
  for (int b : ks.inputs)
    spec.inputs.push_back(plan.buffers[static_cast<std::size_t>(b)].type.rank() == 0 && spec.rank > 0
                              ? cg::Layout::Scalar
                              : cg::Layout::Contiguous);
  spec.outputs.assign(ks.outputs.size(), cg::Layout::Contiguous);
  return spec;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

const std::vector<std::string> &emit_stage_names() {
  static const std::vector<std::string> names = {"ast",       "ir",   "opt", "fused", "mlir",
                                                 "mlir-llvm", "llvm", "asm", "ptx"};
  return names;
}

std::optional<EmitStage> emit_stage_from_name(std::string_view name) {
  const auto &n = emit_stage_names();
  for (std::size_t i = 0; i < n.size(); ++i)
    if (n[i] == name) return static_cast<EmitStage>(i);
  return std::nullopt;
}

std::string emit_graph(const ir::Graph &g, EmitStage stage, Precision precision, int sm) {
  if (stage == EmitStage::Ast)
    throw Error(ErrorKind::Internal, "emit_graph: the AST stage needs the source text");
  if (stage == EmitStage::Ir) return ir::print(g);
  const passes::Plan plan = passes::lower_to_plan(g);
  if (stage == EmitStage::Opt) return ir::print(plan.graph);
  if (stage == EmitStage::Fused) return passes::print(plan);
  if (stage == EmitStage::Ptx) // docs/gpu.md: the kernels as they run, for `sm`
    return rt::cuda::emit_ptx(rt::prepare(plan, to_cg(precision)), sm);
  const cg::Stage cs = stage == EmitStage::Mlir       ? cg::Stage::Mlir
                       : stage == EmitStage::MlirLlvm ? cg::Stage::MlirLowered
                       : stage == EmitStage::Llvm     ? cg::Stage::Llvm
                                                      : cg::Stage::Asm;
  // The same text Program::emit gives, reduce steps' kernels included.
  return rt::emit_kernels(rt::prepare(plan, to_cg(precision)), cs);
}

std::string emit(const SourceFile &src, bool expression_form, const std::vector<fe::Decl> &decls,
                 EmitStage stage, Precision precision, int sm) {
  if (stage == EmitStage::Ast) return fe::dump(fe::parse_module(src, expression_form), src);
  ir::Graph g = expression_form ? fe::compile_expression(src, decls) : fe::compile_script(src);
  return emit_graph(g, stage, precision, sm);
}

CompileProfile profile_compile(const ir::Graph &g, Precision precision, int gpu_sm) {
  CompileProfile p;
  p.gpu = gpu_sm != 0;
  auto t0 = std::chrono::steady_clock::now();
  const passes::Plan plan = passes::lower_to_plan(g);
  p.passes_ms = ms_since(t0);
  p.kernels = plan.kernel_count();
  p.reductions = plan.reduce_count();
  p.intermediates = plan.intermediate_count();
  if (p.gpu) {
    // The runtime's own PTX path (all kernels in one module, as it builds them).
    cg::GpuTimings t;
    rt::cuda::emit_ptx(rt::prepare(plan, to_cg(precision)), gpu_sm, &t);
    p.mlir_lower_ms = t.mlir_ms;
    p.llvm_opt_ms = t.llvm_opt_ms;
    p.codegen_ms = t.ptx_ms;
    return p;
  }
  for (const auto &st : plan.steps) {
    if (st.kind != passes::Step::Kind::Kernel) continue;
    cg::CompileTimings t;
    rt::KernelCache::global().jit().compile(st.kernel.kernel,
                                            contiguous_spec(plan, st.kernel, precision), &t);
    p.mlir_build_ms += t.mlir_build_ms;
    p.mlir_lower_ms += t.mlir_lower_ms;
    p.llvm_opt_ms += t.llvm_opt_ms;
    p.codegen_ms += t.codegen_ms;
  }
  return p;
}

} // namespace xpr::tool
