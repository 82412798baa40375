// tools/xprc/Aot.h — ahead-of-time compilation of a script: kernels through the JIT's own
// lowering (CpuJit::compile_objects), an embedded plan that libxpr_rt runs, a driver per entry
// point, and the C header that documents them.
#pragma once

#include "compiler/codegen/Kernel.h"

#include <string>
#include <vector>

namespace xpr {
class SourceFile;
}

namespace xpr::aot {

struct AotOptions {
  std::string name;                  ///< the C name of the entry point (a valid C identifier)
  std::string cpu = "host";          ///< "host" or an LLVM CPU name (x86-64-v2, -v3, -v4)
  cg::Precision precision = cg::Precision::Accurate;
  std::string target_label = "host"; ///< what --target said, for the header's comment
  /// Multi-versioned objects: x86-64 levels ("x86-64-v2", ...), ascending; every kernel is
  /// compiled once per level and the entry points pick one table at run time (xpr_rt_pick).
  /// Empty: one version, for `cpu`.
  std::vector<std::string> levels;
  /// The cuda target (--target cuda:sm_XX): the compute capability (major*10 + minor) the object
  /// is for; 0 for a CPU object. Its kernels are PTX (and a cubin when ptxas is found) run by
  /// libxpr_rt's launcher (runtime/rt/xpr_rt_cuda.inc).
  int cuda_sm = 0;
  /// cuda objects: the ptxas that assembles the embedded cubin; empty: look for one ($XPR_PTXAS,
  /// $CUDA_HOME/bin, /usr/local/cuda/bin, PATH) and embed PTX only where there is none.
  std::string ptxas;
  bool cubin = true; ///< cuda objects: embed a cubin when a ptxas is found (--no-cubin: PTX only)
};

/// The x86-64 level of an LLVM CPU name: "x86-64" 1, "x86-64-vN" N; 0 for anything else.
int cpu_level(const std::string &cpu);

/// Everything xprc can write for one script.
struct AotResult {
  std::string header;    ///< the C header
  std::string driver_ir; ///< the driver functions and the embedded plan, as LLVM IR text
  std::string plan_text; ///< the plan as text (--emit=plan)
  std::string ptx;       ///< cuda objects: the embedded PTX (kernel k is entry "xk<k>")
  std::string cubin_note; ///< cuda objects: what was embedded besides the PTX, for messages
  std::vector<std::string> kernel_symbols;
};

/// Lowers the script to its plan and writes the header and the driver. Throws xpr::Error: user
/// errors from the front end, Error(Runtime) for an unknown target CPU.
AotResult translate(const SourceFile &src, const AotOptions &opts);

/// translate(), then compiles the kernels and the driver into one relocatable object (its bytes).
/// With `asm_out`, the object's assembly too.
std::string compile_object(const SourceFile &src, const AotOptions &opts, AotResult &result,
                           std::string *asm_out = nullptr);

/// True for a string usable as a C identifier that is not a C or C++ keyword.
bool valid_c_name(const std::string &s);

} // namespace xpr::aot
