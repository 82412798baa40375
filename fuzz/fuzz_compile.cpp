// fuzz/fuzz_compile.cpp — the whole compile path to LLVM IR on arbitrary bytes:
// source → sema → Graph IR → pass pipeline (fold, simplify, CSE, DCE, fusion) → each fused kernel
// through the CPU codegen (MLIR → LLVM dialect → LLVM IR after -O2), without running anything.
//
// The input is compiled as a script; if that fails, as an expression (first line as declarations
// when it is a declaration list, else against fixed declarations; see fuzz_frontend.cpp). The
// last input byte picks the operand layouts (all contiguous, rank-0 operands as scalars, or all
// strided) and the precision, so every lowering variant of a kernel is reached.
// Properties: the front end fails only with user errors; once sema accepted a program, nothing
// after it may fail at all (an error there is "our bug" by design.md §2), except a Limit.
#include "FuzzCommon.h"

#include "compiler/codegen/CpuJit.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

using namespace xpr;

namespace {

fe::Limits fuzz_limits() {
  fe::Limits l;
  l.max_source_bytes = 1u << 14;
  l.max_nodes = 4'000;
  return l;
}

const std::vector<fe::Decl> &default_decls() {
  static const std::vector<fe::Decl> decls = [] {
    SourceFile src("<decls>", "a: f32[n], b: f32[n], c: f32[n], x: f64[n, m], y: f64[m], "
                              "i: i32[n], j: i64[], u: u8[n], p: bool[n], h: f16[n], "
                              "g: bf16[1, n], s: f32[]");
    return fe::parse_decls(src);
  }();
  return decls;
}

std::optional<ir::Graph> front_end(const std::string &text) {
  const fe::Limits limits = fuzz_limits();
  try {
    return fe::compile_script(SourceFile("fuzz.xpr", text), limits);
  } catch (const Error &e) {
    fuzz::check_user_error(e, "compile script");
  }
  std::size_t nl = text.find('\n');
  if (nl != std::string::npos) {
    try {
      std::vector<fe::Decl> decls = fe::parse_decls(SourceFile("fuzz.decl", text.substr(0, nl)));
      try {
        return fe::compile_expression(SourceFile("fuzz.expr", text.substr(nl + 1)), decls, limits);
      } catch (const Error &e) {
        fuzz::check_user_error(e, "compile expression (own decls)");
        return std::nullopt;
      }
    } catch (const Error &) {
      // Not a declaration line: fall through to the fixed declarations.
    }
  }
  try {
    return fe::compile_expression(SourceFile("fuzz.expr", text), default_decls(), limits);
  } catch (const Error &e) {
    fuzz::check_user_error(e, "compile expression");
  }
  return std::nullopt;
}

cg::KernelSpec spec_for(const passes::Plan &plan, const passes::KernelStep &ks, unsigned variant) {
  cg::KernelSpec spec;
  spec.rank = static_cast<int>(ks.iter_dims.size());
  spec.precision = (variant & 4) ? cg::Precision::Fast : cg::Precision::Accurate;
  for (int b : ks.inputs) {
    bool rank0 = plan.buffers.at(static_cast<std::size_t>(b)).type.rank() == 0;
    cg::Layout l = cg::Layout::Contiguous;
    if (rank0 && spec.rank > 0 && (variant & 3) != 2) l = cg::Layout::Scalar;
    else if ((variant & 3) == 2) l = cg::Layout::Strided;
    spec.inputs.push_back(l);
  }
  spec.outputs.assign(ks.outputs.size(),
                      (variant & 3) == 2 ? cg::Layout::Strided : cg::Layout::Contiguous);
  return spec;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size > (1u << 14)) return -1;
  const std::string text(reinterpret_cast<const char *>(data), size);
  std::optional<ir::Graph> g = front_end(text);
  if (!g) return 0;

  const std::string printed = ir::print(*g);
  passes::Plan plan;
  try {
    passes::PipelineOptions opts;
    opts.verify = true;
    plan = passes::lower_to_plan(std::move(*g), opts);
  } catch (const Error &e) {
    if (e.kind() == ErrorKind::Limit) return 0;
    fuzz::finding("pass pipeline failed on a program sema accepted",
                  printed + "\n--- error ---\n" + e.what());
  }

  static cg::CpuJit jit;
  const unsigned variant = size ? data[size - 1] : 0;
  for (const passes::Step &st : plan.steps) {
    if (st.kind != passes::Step::Kind::Kernel) continue;
    try {
      std::string llvm_ir = jit.emit(st.kernel.kernel, spec_for(plan, st.kernel, variant),
                                     cg::Stage::Llvm);
      if (llvm_ir.find("define") == std::string::npos)
        fuzz::finding("LLVM IR without a function", llvm_ir);
    } catch (const Error &e) {
      if (e.kind() == ErrorKind::Limit) continue;
      fuzz::finding("codegen failed on a fused kernel",
                    ir::print(st.kernel.kernel) + "\n--- error ---\n" + e.what());
    }
  }
  return 0;
}
