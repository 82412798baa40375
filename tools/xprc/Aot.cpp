// tools/xprc/Aot.cpp — a script to an xprc object: the fused plan encoded for libxpr_rt, every
// kernel in the layouts it can be called with, the LLVM IR of the entry points, and the header.
#include "tools/xprc/Aot.h"

#include "compiler/codegen/CpuJit.h"
#include "compiler/codegen/GpuJit.h"
#include "compiler/codegen/ReduceKernel.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"
#include "runtime/KernelCache.h"
#include "runtime/Reduce.h"
#include "runtime/rt/xpr_rt.h"
#include "runtime/rt/xpr_rt_plan.h"
#include "support/Source.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "xpr_rt_header.inc" // kXprRtHeader: the text of runtime/rt/xpr_rt.h

namespace xpr::aot {

namespace {

using passes::BufferKind;
using passes::Step;

const std::set<std::string> &keywords() {
  static const std::set<std::string> k = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
      "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary",
      "bool", "true", "false", "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor",
      "catch", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "consteval",
      "constexpr", "constinit", "const_cast", "co_await", "co_return", "co_yield", "decltype",
      "delete", "dynamic_cast", "explicit", "export", "friend", "module", "mutable", "namespace",
      "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private",
      "protected", "public", "reinterpret_cast", "requires", "static_assert", "static_cast",
      "template", "this", "thread_local", "throw", "try", "typeid", "typename", "using",
      "virtual", "wchar_t", "xor", "xor_eq", "int8_t", "int16_t", "int32_t", "int64_t",
      "uint8_t", "uint16_t", "uint32_t", "uint64_t", "NULL"};
  return k;
}

/// The C type of an array element (f16/bf16 arrays hold their bit patterns).
const char *c_elem(DType t) {
  switch (t) {
  case DType::Bool: return "bool";
  case DType::I8: return "int8_t";
  case DType::I16: return "int16_t";
  case DType::I32: return "int32_t";
  case DType::I64: return "int64_t";
  case DType::U8: return "uint8_t";
  case DType::U16: return "uint16_t";
  case DType::U32: return "uint32_t";
  case DType::U64: return "uint64_t";
  case DType::F16:
  case DType::BF16: return "uint16_t";
  case DType::F32: return "float";
  case DType::F64: return "double";
  }
  return "void";
}
/// The C type of a param (f16/bf16 params are passed as float and rounded once, as
/// Program::run rounds a Scalar).
const char *c_param(DType t) { return is_half(t) ? "float" : c_elem(t); }
/// The LLVM IR type and attributes of a param as the C ABI passes it (x86-64 SysV).
const char *ir_param(DType t) {
  switch (t) {
  case DType::Bool: return "i1 zeroext";
  case DType::I8: return "i8 signext";
  case DType::U8: return "i8 zeroext";
  case DType::I16: return "i16 signext";
  case DType::U16: return "i16 zeroext";
  case DType::I32:
  case DType::U32: return "i32";
  case DType::I64:
  case DType::U64: return "i64";
  case DType::F16:
  case DType::BF16:
  case DType::F32: return "float";
  case DType::F64: return "double";
  }
  return "i64";
}
const char *ir_store_type(DType t) {
  std::string_view s = ir_param(t);
  if (s.starts_with("i1 ")) return "i1";
  if (s.starts_with("i8 ")) return "i8";
  if (s.starts_with("i16 ")) return "i16";
  return ir_param(t);
}

struct Operand {
  std::string name;
  ir::Type type;
};

/// The program as xprc sees it: symbols, inputs, params, outputs, and the C names of the
/// arguments.
struct Signature {
  std::vector<std::string> syms;
  std::vector<Operand> inputs, outputs;
  std::vector<passes::ParamInfo> params;
  // C argument names, unique and not keywords.
  std::vector<std::string> c_syms, c_inputs, c_input_strides, c_params, c_outputs,
      c_output_strides;
};

Signature signature_of(const passes::Plan &plan) {
  Signature s;
  for (int b : plan.input_buffers) {
    const passes::Buffer &buf = plan.buffers[static_cast<std::size_t>(b)];
    s.inputs.push_back({buf.name, buf.type});
    for (const ir::Dim &d : buf.type.dims)
      if (d.is_symbolic() && std::find(s.syms.begin(), s.syms.end(), d.sym) == s.syms.end())
        s.syms.push_back(d.sym);
  }
  for (int b : plan.output_buffers) {
    const passes::Buffer &buf = plan.buffers[static_cast<std::size_t>(b)];
    s.outputs.push_back({buf.name, buf.type});
    for (const ir::Dim &d : buf.type.dims)
      if (d.is_symbolic() && std::find(s.syms.begin(), s.syms.end(), d.sym) == s.syms.end())
        throw Error(ErrorKind::Internal, fmt::format("output symbol '{}' is bound by no input", d.sym));
  }
  s.params = plan.params;

  std::set<std::string> used;
  auto unique = [&](std::string n) {
    if (!valid_c_name(n)) n += "_";
    while (used.count(n)) n += "_";
    used.insert(n);
    return n;
  };
  // The user's own names first, so they stay as written wherever possible.
  for (const auto &i : s.inputs) s.c_inputs.push_back(unique(i.name));
  for (const auto &p : s.params) s.c_params.push_back(unique(p.name));
  for (const auto &o : s.outputs) s.c_outputs.push_back(unique(o.name));
  for (const auto &y : s.syms) s.c_syms.push_back(unique(y));
  for (const auto &i : s.c_inputs) s.c_input_strides.push_back(unique(i + "_strides"));
  for (const auto &o : s.c_outputs) s.c_output_strides.push_back(unique(o + "_strides"));
  return s;
}

// ---- the plan words ----

struct Words {
  std::vector<std::int64_t> w;
  void put(std::int64_t v) { w.push_back(v); }
  void str(const std::string &s) {
    put(static_cast<std::int64_t>(s.size()));
    for (std::size_t i = 0; i < s.size(); i += 8) {
      std::uint64_t v = 0;
      for (std::size_t k = 0; k < 8 && i + k < s.size(); ++k)
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + k])) << (8 * k);
      put(static_cast<std::int64_t>(v));
    }
  }
};

std::int64_t dim_word(const ir::Dim &d, const Signature &s) {
  if (!d.is_symbolic()) return d.size;
  auto it = std::find(s.syms.begin(), s.syms.end(), d.sym);
  if (it == s.syms.end()) throw Error(ErrorKind::Internal, "unbound symbol " + d.sym);
  return -1 - (it - s.syms.begin());
}

/// The layouts of the kernel JIT-compiled eagerly (runtime/Api.cpp, eager_spec): what every
/// contiguous call uses.
std::vector<cg::Layout> eager_layouts(const passes::Plan &plan, const passes::KernelStep &ks) {
  std::vector<cg::Layout> v;
  auto layout = [&](int b, bool output) {
    const ir::Type &t = plan.buffers[static_cast<std::size_t>(b)].type;
    bool ones = true;
    for (const ir::Dim &d : t.dims) ones = ones && !d.is_symbolic() && d.size == 1;
    if (ones && !output) return cg::Layout::Scalar;
    return t.dims == ks.iter_dims ? cg::Layout::Contiguous : cg::Layout::Strided;
  };
  for (int b : ks.inputs) v.push_back(layout(b, false));
  for (int b : ks.outputs) v.push_back(layout(b, true));
  return v;
}

struct StepCode {
  std::unique_ptr<rt::KernelCode> code;          // a reduce step's: its map (cuda: its first pass)
  std::vector<std::vector<cg::Layout>> variants; // the last one all Strided
  std::vector<int> kernel_index;                 // per variant
  std::shared_ptr<const rt::KernelCode> block;   // a reduce step's block kernel, if the JIT has one
  std::unique_ptr<rt::KernelCode> combine, finish; // cuda: a reduce step's later passes
};

std::string layout_name(cg::Layout l) {
  return l == cg::Layout::Contiguous ? "C" : l == cg::Layout::Scalar ? "S" : "X";
}

std::int64_t op_word(ir::Op op) {
  switch (op) {
  case ir::Op::Sum: return XPR_RT_OP_SUM;
  case ir::Op::Prod: return XPR_RT_OP_PROD;
  case ir::Op::Min: return XPR_RT_OP_MIN;
  case ir::Op::Max: return XPR_RT_OP_MAX;
  case ir::Op::Mean: return XPR_RT_OP_MEAN;
  case ir::Op::Any: return XPR_RT_OP_ANY;
  case ir::Op::All: return XPR_RT_OP_ALL;
  case ir::Op::ArgMin: return XPR_RT_OP_ARGMIN;
  case ir::Op::ArgMax: return XPR_RT_OP_ARGMAX;
  default: break;
  }
  throw Error(ErrorKind::Internal, fmt::format("'{}' is not a reduction", ir::op_name(op)));
}

/// A cuda object's first pass of a reduce step: the map fused into the GPU's block reduction,
/// made as the JIT makes it. Throws Error(Runtime) for what the cuda target does not reduce.
std::unique_ptr<rt::KernelCode> gpu_first_pass(const passes::ReduceStep &r, int step,
                                               const AotOptions &opts) {
  const ir::Graph &map = r.map.kernel;
  const DType value = map.outputs.size() == 1 ? map.type(map.outputs[0].value).dtype : DType::Bool;
  if (map.outputs.size() != 1 || !cg::gpu_reduce_supported(r.op, value))
    throw Error(ErrorKind::Runtime,
                fmt::format("xprc --target {}: the cuda target does not run {} of {} yet; compile "
                            "this script for a CPU target",
                            opts.target_label, ir::op_name(r.op), dtype_name(value)));
  passes::KernelStep ks = r.map;
  ks.kernel = cg::make_reduce_kernel(map, r.op);
  return std::make_unique<rt::KernelCode>(ks, step);
}

/// Whether a reduce step's reduced dims are its last ones: the GPU's [kept, reduced] order is
/// then the iteration space's own.
bool reduced_dims_last(const passes::ReduceStep &r, int rank) {
  std::vector<bool> red(static_cast<std::size_t>(rank), false);
  for (int a : r.axes) red.at(static_cast<std::size_t>(a)) = true;
  bool seen = false;
  for (int d = 0; d < rank; ++d) {
    if (seen && !red[static_cast<std::size_t>(d)]) return false;
    seen = seen || red[static_cast<std::size_t>(d)];
  }
  return true;
}

struct Lowered {
  passes::Plan plan;
  Signature sig;
  std::vector<StepCode> steps;
  std::vector<cg::ObjectKernel> kernels;
  Words words;
  std::string ptx, cubin, cubin_note; // cuda objects
};

Lowered lower(const SourceFile &src, const AotOptions &opts) {
  Lowered L;
  ir::Graph g = fe::compile_script(src);
  L.plan = passes::lower_to_plan(std::move(g));
  const passes::Plan &plan = L.plan;
  L.sig = signature_of(plan);
  const Signature &sig = L.sig;

  // Operand ids: inputs, then outputs, then intermediates (libxpr_rt allocates those per call).
  std::map<int, int> operand_of;
  std::vector<int> temps;
  for (std::size_t i = 0; i < plan.input_buffers.size(); ++i)
    operand_of[plan.input_buffers[i]] = static_cast<int>(i);
  for (std::size_t j = 0; j < plan.output_buffers.size(); ++j)
    operand_of[plan.output_buffers[j]] = static_cast<int>(plan.input_buffers.size() + j);
  const int nio = static_cast<int>(plan.input_buffers.size() + plan.output_buffers.size());
  for (std::size_t b = 0; b < plan.buffers.size(); ++b)
    if (plan.buffers[b].kind == BufferKind::Intermediate) {
      operand_of[static_cast<int>(b)] = nio + static_cast<int>(temps.size());
      temps.push_back(static_cast<int>(b));
    }
  auto operand = [&](int b) {
    auto it = operand_of.find(b);
    if (it == operand_of.end()) throw Error(ErrorKind::Internal, fmt::format("buffer {} has no operand", b));
    return it->second;
  };

  Words &W = L.words;
  W.put(XPR_RT_PLAN_MAGIC);
  W.put(XPR_RT_PLAN_VERSION);
  W.put(static_cast<std::int64_t>(sig.syms.size()));
  for (const auto &y : sig.syms) W.str(y);
  auto put_array = [&](const Operand &o) {
    W.put(static_cast<std::int64_t>(o.type.dtype));
    W.put(o.type.rank());
    for (const ir::Dim &d : o.type.dims) W.put(dim_word(d, sig));
    W.str(o.name);
  };
  W.put(static_cast<std::int64_t>(sig.inputs.size()));
  for (const auto &i : sig.inputs) put_array(i);
  W.put(static_cast<std::int64_t>(sig.params.size()));
  for (const auto &p : sig.params) {
    W.put(static_cast<std::int64_t>(p.dtype));
    W.str(p.name);
  }
  W.put(static_cast<std::int64_t>(sig.outputs.size()));
  for (const auto &o : sig.outputs) put_array(o);
  W.put(static_cast<std::int64_t>(temps.size()));
  for (int b : temps) {
    const passes::Buffer &buf = plan.buffers[static_cast<std::size_t>(b)];
    for (const ir::Dim &d : buf.type.dims)
      if (d.is_symbolic() && std::find(sig.syms.begin(), sig.syms.end(), d.sym) == sig.syms.end())
        throw Error(ErrorKind::Internal, fmt::format("intermediate symbol '{}' is bound by no input", d.sym));
    put_array({buf.name, buf.type});
  }

  auto add_kernel = [&](const ir::Graph &k, int rank, const std::vector<cg::Layout> &ins,
                        const std::vector<cg::Layout> &outs, const std::string &symbol) {
    cg::ObjectKernel ok;
    ok.kernel = &k;
    ok.spec.rank = rank;
    ok.spec.precision = opts.precision;
    ok.spec.inputs = ins;
    ok.spec.outputs = outs;
    ok.symbol = symbol;
    L.kernels.push_back(std::move(ok));
    return static_cast<int>(L.kernels.size() - 1);
  };
  auto put_slots = [&](const rt::KernelCode &code) {
    W.put(static_cast<std::int64_t>(code.slots().size()));
    for (const rt::KernelCode::Slot &sl : code.slots()) {
      W.put(sl.program_param);
      W.put(static_cast<std::int64_t>(sl.literal));
    }
  };
  auto tag_of = [](const std::vector<cg::Layout> &lay) {
    std::string tag;
    for (cg::Layout l : lay) tag += layout_name(l);
    return tag;
  };

  W.put(static_cast<std::int64_t>(plan.steps.size()));
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const Step &step = plan.steps[s];
    const bool reduce = step.kind == Step::Kind::Reduce;
    const bool gpu_reduce = reduce && opts.cuda_sm;
    const passes::KernelStep &ks = reduce ? step.reduce.map : step.kernel;
    const int rank = static_cast<int>(ks.iter_dims.size());
    StepCode sc;
    // The kernel exactly as the JIT compiles it: literals hoisted into param slots. On a cuda
    // target a reduce step's kernel is the GPU's first pass, the map fused into it
    // (runtime/cuda/CudaExecute.cpp, run_reduce).
    if (gpu_reduce) {
      sc.code = gpu_first_pass(step.reduce, static_cast<int>(s), opts);
    } else {
      sc.code = std::make_unique<rt::KernelCode>(ks, static_cast<int>(s));
    }
    std::vector<cg::Layout> eager = eager_layouts(plan, ks);
    const std::size_t nin = ks.inputs.size();
    // The GPU reads a reduce step's inputs over [kept, reduced]: a contiguous input stays so
    // only where the reduced dims are already last.
    if (gpu_reduce && !reduced_dims_last(step.reduce, rank))
      for (cg::Layout &l : eager)
        if (l == cg::Layout::Contiguous) l = cg::Layout::Strided;
    // A reduce step's map writes one value per iteration into a contiguous scratch block (on
    // the GPU: one partial per unit).
    if (reduce) eager.push_back(cg::Layout::Contiguous);
    std::vector<cg::Layout> strided(eager.size(), cg::Layout::Strided);
    if (reduce) strided.back() = cg::Layout::Contiguous;
    sc.variants.push_back(eager);
    if (eager != strided) sc.variants.push_back(strided);
    // argmin/argmax's GPU passes store (value, index) pairs: two partial arrays.
    const std::size_t gpu_outs = gpu_reduce && cg::is_arg_reduce(step.reduce.op) ? 2 : 1;
    for (const auto &lay : sc.variants)
      sc.kernel_index.push_back(add_kernel(
          sc.code->kernel(), rank, {lay.begin(), lay.begin() + static_cast<long>(nin)},
          gpu_reduce ? std::vector<cg::Layout>(gpu_outs, cg::Layout::Contiguous)
                     : std::vector<cg::Layout>(lay.begin() + static_cast<long>(nin), lay.end()),
          fmt::format("{}__xpr_k{}_{}{}", opts.name, s, reduce ? "m" : "", tag_of(lay))));

    W.put(reduce ? XPR_RT_STEP_REDUCE : XPR_RT_STEP_KERNEL);
    W.put(rank);
    for (const ir::Dim &d : ks.iter_dims) W.put(dim_word(d, sig));
    W.put(static_cast<std::int64_t>(nin));
    for (int b : ks.inputs) W.put(operand(b));
    if (reduce) {
      W.put(1);
      W.put(operand(step.reduce.output));
    } else {
      W.put(static_cast<std::int64_t>(ks.outputs.size()));
      for (int b : ks.outputs) {
        const int id = operand(b);
        if (id < static_cast<int>(sig.inputs.size()))
          throw Error(ErrorKind::Internal, "a kernel writes a program input");
        W.put(id);
      }
    }
    put_slots(*sc.code);
    W.put(static_cast<std::int64_t>(sc.variants.size()));
    for (std::size_t v = 0; v < sc.variants.size(); ++v) {
      W.put(sc.kernel_index[v]);
      for (cg::Layout l : sc.variants[v]) W.put(static_cast<std::int64_t>(l));
    }
    if (reduce) {
      const passes::ReduceStep &r = step.reduce;
      const ir::Graph &map = ks.kernel;
      if (map.outputs.size() != 1) throw Error(ErrorKind::Internal, "a reduction's map must have one output");
      W.put(op_word(r.op));
      W.put(static_cast<std::int64_t>(map.type(map.outputs[0].value).dtype));
      W.put(r.keepdims ? 1 : 0);
      W.put(static_cast<std::int64_t>(r.axes.size()));
      for (int a : r.axes) W.put(a);
      // The JIT's block kernel (runtime/Reduce.cpp, make_reduce_code), compiled for the eager
      // layouts; libxpr_rt uses it exactly when the JIT would and these layouts match.
      const std::vector<cg::Layout> ins(eager.begin(), eager.begin() + static_cast<long>(nin));
      const bool any_strided = std::any_of(ins.begin(), ins.end(),
                                           [](cg::Layout l) { return l == cg::Layout::Strided; });
      if (!gpu_reduce && !any_strided)
        sc.block = rt::make_reduce_code(r, static_cast<int>(s));
      if (sc.block) {
        W.put(1);
        W.put(add_kernel(sc.block->kernel(), rank, ins, {cg::Layout::Contiguous},
                         fmt::format("{}__xpr_k{}_r{}", opts.name, s, tag_of(ins))));
        put_slots(*sc.block);
        for (cg::Layout l : ins) W.put(static_cast<std::int64_t>(l));
      } else {
        W.put(0);
      }
      if (!gpu_reduce) {
        W.put(0);
      } else {
        // The GPU's later passes: combining the partials, then the mean's division and the
        // output's dtype where they apply (the last pass writes the output otherwise).
        const DType value = map.type(map.outputs[0].value).dtype;
        const DType vt = cg::reduce_partial_dtype(r.op, value);
        const DType result = cg::is_arg_reduce(r.op) ? DType::I64 : value;
        const DType out = plan.buffers[static_cast<std::size_t>(r.output)].type.dtype;
        const std::vector<cg::Layout> partials(gpu_outs, cg::Layout::Contiguous);
        W.put(1);
        W.put(static_cast<std::int64_t>(vt));
        passes::KernelStep cs;
        cs.kernel = cg::make_combine_kernel(r.op, vt);
        sc.combine = std::make_unique<rt::KernelCode>(cs, static_cast<int>(s));
        W.put(add_kernel(sc.combine->kernel(), 1, partials, partials,
                         fmt::format("{}__xpr_k{}_c", opts.name, s)));
        put_slots(*sc.combine);
        if (r.op != ir::Op::Mean && out == result) {
          W.put(-1);
          W.put(0);
        } else {
          passes::KernelStep fs;
          fs.kernel = cg::make_finish_kernel(r.op, result, out);
          if (r.op == ir::Op::Mean) fs.params = {XPR_RT_SLOT_COUNT};
          sc.finish = std::make_unique<rt::KernelCode>(fs, static_cast<int>(s));
          W.put(add_kernel(sc.finish->kernel(), 1, {cg::Layout::Contiguous},
                           {cg::Layout::Contiguous}, fmt::format("{}__xpr_k{}_f", opts.name, s)));
          put_slots(*sc.finish);
        }
      }
    }
    L.steps.push_back(std::move(sc));
  }
  return L;
}

// ---- the cuda module: PTX through the JIT's GPU lowering, a cubin through ptxas ----

/// The ptxas to use: the option, $XPR_PTXAS, $CUDA_HOME/bin/ptxas, /usr/local/cuda/bin/ptxas,
/// then PATH; empty if none is executable.
std::string find_ptxas(const AotOptions &opts) {
  if (!opts.ptxas.empty()) return opts.ptxas;
  std::vector<std::string> c;
  if (const char *e = std::getenv("XPR_PTXAS"); e && *e) c.push_back(e);
  if (const char *h = std::getenv("CUDA_HOME"); h && *h) c.push_back(std::string(h) + "/bin/ptxas");
  c.push_back("/usr/local/cuda/bin/ptxas");
  if (const char *path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');)
      if (!d.empty()) c.push_back(d + "/ptxas");
  }
  for (const std::string &p : c)
    if (access(p.c_str(), X_OK) == 0) return p;
  return "";
}

std::string quote(const std::string &s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Compiles every kernel of the object to one PTX module (entry "xk<k>" for kernel k, 64-bit
/// indexing, the vector width the JIT would pick where no operand is Strided: device arrays are
/// aligned, and so are inputs copied over from their first element) and, with a ptxas, a cubin.
void compile_gpu(Lowered &L, const AotOptions &opts) {
  static cg::GpuJit jit; // one MLIR context for the process, like the runtime's
  std::vector<cg::GpuKernel> gks;
  for (std::size_t i = 0; i < L.kernels.size(); ++i) {
    cg::GpuKernel k;
    k.kernel = L.kernels[i].kernel;
    k.spec.spec = L.kernels[i].spec;
    k.spec.index64 = true;
    bool strided = false;
    for (cg::Layout l : k.spec.spec.inputs) strided |= l == cg::Layout::Strided;
    for (cg::Layout l : k.spec.spec.outputs) strided |= l == cg::Layout::Strided;
    // Reduce kernels (a cuda object's reduction passes) read one value per thread step.
    k.spec.vector = strided || cg::is_reduce_kernel(*k.kernel)
                        ? 1
                        : cg::gpu_vector_width(*k.kernel, k.spec.spec);
    k.name = fmt::format("xk{}", i);
    gks.push_back(std::move(k));
  }
  L.ptx = jit.compile_ptx(gks, cg::gpu_target_sm(opts.cuda_sm));
  if (!opts.cubin) {
    L.cubin_note = "no cubin: --no-cubin";
    return;
  }
  const std::string ptxas = find_ptxas(opts);
  if (ptxas.empty()) {
    L.cubin_note = "no cubin: no ptxas found";
    return;
  }
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/xprc-cuda-XXXXXX";
  if (!mkdtemp(tmpl)) throw Error(ErrorKind::Runtime, "cannot create a temporary directory");
  const fs::path dir = tmpl;
  const std::string in = (dir / "k.ptx").string(), out = (dir / "k.cubin").string();
  std::ofstream(in, std::ios::binary) << L.ptx;
  const std::string cmd = fmt::format("{} -arch=sm_{} -O3 -o {} {} 2>&1", quote(ptxas),
                                      opts.cuda_sm, quote(out), quote(in));
  std::string log;
  int status = -1;
  if (FILE *p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) log.append(buf, n);
    const int st = pclose(p);
    status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  std::ifstream cin(out, std::ios::binary);
  std::stringstream bytes;
  bytes << cin.rdbuf();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (status != 0 || bytes.str().empty()) {
    // Typically a ptxas that no longer knows the architecture (CUDA 13 dropped sm_70): the PTX
    // alone still runs there, compiled by the driver on first use. Said, not hidden.
    std::string first = log.substr(0, log.find('\n'));
    if (first.empty()) first = fmt::format("exit status {}", status);
    std::fprintf(stderr, "xprc: warning: %s cannot assemble for sm_%d (%s): the object carries PTX "
                 "only, which the driver compiles on first use\n", ptxas.c_str(), opts.cuda_sm,
                 first.c_str());
    L.cubin_note = fmt::format("no cubin: {} failed for sm_{}: {}", ptxas, opts.cuda_sm, first);
    return;
  }
  L.cubin = bytes.str();
  L.cubin_note = fmt::format("a cubin for sm_{} ({})", opts.cuda_sm, ptxas);
}

/// Bytes as an LLVM IR string constant body (c"...").
std::string ir_bytes(const std::string &b) {
  std::string r;
  r.reserve(b.size() + b.size() / 4);
  for (unsigned char c : b) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') r += static_cast<char>(c);
    else r += fmt::format("\\{:02X}", c);
  }
  return r;
}

// ---- the driver (LLVM IR text) ----

std::string driver_ir(const Lowered &L, const AotOptions &opts) {
  const Signature &s = L.sig;
  const std::string &P = opts.name;
  const bool cuda = opts.cuda_sm != 0;
  std::string ir = fmt::format("; the entry points of {} (generated by xprc)\n", P);
  ir += fmt::format("@\"{}.plan\" = private unnamed_addr constant [{} x i64] [", P, L.words.w.size());
  for (std::size_t i = 0; i < L.words.w.size(); ++i)
    ir += fmt::format("{}i64 {}", i ? ", " : "", L.words.w[i]);
  ir += "], align 8\n";
  if (cuda) { // the module and libxpr_rt's per-process state for it (xpr_rt_cuda_object)
    ir += fmt::format("@\"{}.ptx\" = private unnamed_addr constant [{} x i8] c\"{}\\00\", align 1\n", P,
                      L.ptx.size() + 1, ir_bytes(L.ptx));
    if (!L.cubin.empty())
      ir += fmt::format("@\"{}.cubin\" = private unnamed_addr constant [{} x i8] c\"{}\", align 8\n",
                        P, L.cubin.size(), ir_bytes(L.cubin));
    ir += fmt::format("@\"{0}.cuda\" = internal global {{ ptr, ptr, i64, i64, i64, ptr }} {{ ptr "
                      "@\"{0}.ptx\", ptr {1}, i64 {2}, i64 {3}, i64 {4}, ptr null }}, align 8\n",
                      P, L.cubin.empty() ? "null" : fmt::format("@\"{}.cubin\"", P),
                      L.cubin.size(), L.kernels.size(), opts.cuda_sm);
    ir += "declare i32 @xpr_rt_cuda_run(ptr, ptr, ptr)\ndeclare i32 @xpr_rt_cuda_range()\n";
  }
  // One kernel table, or one per level (symbols suffixed _vN) and the tables' table.
  const bool multi = !opts.levels.empty();
  std::vector<std::string> suffixes;
  if (multi)
    for (const auto &l : opts.levels) suffixes.push_back(fmt::format("_v{}", cpu_level(l)));
  else if (!cuda)
    suffixes.push_back(""); // a cuda object has no CPU kernels: no kernel table
  for (const std::string &suf : suffixes) {
    ir += fmt::format("@\"{}.kernels{}\" = private unnamed_addr constant [{} x ptr] [", P, suf,
                      L.kernels.size());
    for (std::size_t i = 0; i < L.kernels.size(); ++i)
      ir += fmt::format("{}ptr @{}{}", i ? ", " : "", L.kernels[i].symbol, suf);
    ir += "], align 8\n";
    for (const auto &k : L.kernels)
      ir += fmt::format("declare void @{}{}(ptr, ptr, ptr, ptr, i64, i64)\n", k.symbol, suf);
  }
  if (multi) {
    ir += fmt::format("@\"{}.tables\" = private unnamed_addr constant [{} x ptr] [", P, suffixes.size());
    for (std::size_t i = 0; i < suffixes.size(); ++i)
      ir += fmt::format("{}ptr @\"{}.kernels{}\"", i ? ", " : "", P, suffixes[i]);
    ir += "], align 8\n";
    ir += fmt::format("@\"{}.levels\" = private unnamed_addr constant [{} x i64] [", P, suffixes.size());
    for (std::size_t i = 0; i < opts.levels.size(); ++i)
      ir += fmt::format("{}i64 {}", i ? ", " : "", cpu_level(opts.levels[i]));
    ir += "], align 8\n";
    ir += "declare ptr @xpr_rt_pick(ptr, ptr, i32)\n";
  }
  // The kernel table an entry passes to xpr_rt_run: picked once per call in multi objects (an
  // unsupported CPU returns XPR_RT_EUNSUPPORTED before anything runs).
  auto pick = [&]() -> std::string {
    if (!multi) return "";
    return fmt::format("  %kt = call ptr @xpr_rt_pick(ptr @\"{0}.tables\", ptr @\"{0}.levels\", i32 {1})\n"
                       "  %none = icmp eq ptr %kt, null\n"
                       "  br i1 %none, label %unsupported, label %run\n"
                       "unsupported:\n  ret i32 {2}\nrun:\n",
                       P, suffixes.size(), static_cast<int>(XPR_RT_EUNSUPPORTED));
  };
  const std::string table = multi ? "%kt" : fmt::format("@\"{}.kernels\"", P);
  ir += "declare i32 @xpr_rt_run(ptr, ptr, ptr, i64, i64, i32)\n";
  ir += "declare i64 @xpr_rt_work(ptr, ptr)\n\n";

  // Arguments in slot order: (IR type with attributes, store type, name).
  struct Arg {
    std::string type, store, name;
  };
  std::vector<Arg> args;
  for (std::size_t i = 0; i < s.syms.size(); ++i) args.push_back({"i64", "i64", fmt::format("d{}", i)});
  for (std::size_t i = 0; i < s.inputs.size(); ++i) {
    args.push_back({"ptr", "ptr", fmt::format("i{}", i)});
    args.push_back({"ptr", "ptr", fmt::format("is{}", i)});
  }
  for (std::size_t i = 0; i < s.params.size(); ++i)
    args.push_back({ir_param(s.params[i].dtype), ir_store_type(s.params[i].dtype), fmt::format("p{}", i)});
  for (std::size_t i = 0; i < s.outputs.size(); ++i) {
    args.push_back({"ptr", "ptr", fmt::format("o{}", i)});
    args.push_back({"ptr", "ptr", fmt::format("os{}", i)});
  }
  auto params_text = [&](std::size_t n) {
    std::string t;
    for (std::size_t i = 0; i < n; ++i)
      t += fmt::format("{}{} %{}", i ? ", " : "", args[i].type, args[i].name);
    return t;
  };
  auto stores = [&](std::size_t n) {
    std::string t = fmt::format("  %args = alloca [{} x i64], align 8\n", std::max<std::size_t>(n, 1));
    for (std::size_t i = 0; i < n; ++i)
      t += fmt::format("  %s{0} = getelementptr inbounds [{1} x i64], ptr %args, i64 0, i64 {0}\n"
                       "  store {2} %{3}, ptr %s{0}, align 8\n",
                       i, std::max<std::size_t>(n, 1), args[i].store, args[i].name);
    return t;
  };
  const std::string all = params_text(args.size());
  ir += fmt::format("define i32 @{}({}) {{\nentry:\n{}{}", P, all, stores(args.size()), pick());
  if (cuda)
    ir += fmt::format("  %r = call i32 @xpr_rt_cuda_run(ptr @\"{0}.plan\", ptr @\"{0}.cuda\", "
                      "ptr %args)\n  ret i32 %r\n}}\n\n", P);
  else
    ir += fmt::format("  %r = call i32 @xpr_rt_run(ptr @\"{0}.plan\", ptr {1}, ptr %args, "
                      "i64 0, i64 0, i32 0)\n  ret i32 %r\n}}\n\n", P, table);
  if (cuda)
    ir += fmt::format("define i32 @{}_range(i64 %lo, i64 %hi{}{}) {{\nentry:\n  %r = call i32 "
                      "@xpr_rt_cuda_range()\n  ret i32 %r\n}}\n\n",
                      P, args.empty() ? "" : ", ", all);
  else
    ir += fmt::format("define i32 @{}_range(i64 %lo, i64 %hi{}{}) {{\nentry:\n{}{}", P,
                      args.empty() ? "" : ", ", all, stores(args.size()), pick()) +
          fmt::format("  %r = call i32 @xpr_rt_run(ptr @\"{0}.plan\", ptr {1}, ptr %args, "
                      "i64 %lo, i64 %hi, i32 1)\n  ret i32 %r\n}}\n\n", P, table);
  ir += fmt::format("define i64 @{}_work({}) {{\nentry:\n{}", P, params_text(s.syms.size()),
                    stores(s.syms.size()));
  ir += fmt::format("  %r = call i64 @xpr_rt_work(ptr @\"{0}.plan\", ptr %args)\n  ret i64 %r\n}}\n", P);
  return ir;
}

// ---- the header ----

std::string type_text(const ir::Type &t) { return ir::to_string(t); }

std::string comment_safe(std::string s) {
  for (std::size_t p; (p = s.find("*/")) != std::string::npos;) s.replace(p, 2, "* /");
  return s;
}

std::string header_text(const Lowered &L, const AotOptions &opts, const SourceFile &src) {
  const Signature &s = L.sig;
  const std::string &P = opts.name;
  std::string guard = "XPRC_" + P + "_H";
  std::transform(guard.begin(), guard.end(), guard.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string h = fmt::format("/* {}.h — generated by xprc from {}; do not edit. */\n", P,
                              comment_safe(src.name()));
  h += fmt::format("#ifndef {0}\n#define {0}\n\n#include <stdbool.h>\n#include <stdint.h>\n\n", guard);
  h += kXprRtHeader;
  h += "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";

  // The argument list, one per line, and its documentation.
  std::vector<std::string> decl;
  for (std::size_t i = 0; i < s.syms.size(); ++i) decl.push_back("int64_t " + s.c_syms[i]);
  for (std::size_t i = 0; i < s.inputs.size(); ++i) {
    decl.push_back(fmt::format("const {} *{}", c_elem(s.inputs[i].type.dtype), s.c_inputs[i]));
    decl.push_back(fmt::format("const int64_t *{}", s.c_input_strides[i]));
  }
  for (std::size_t i = 0; i < s.params.size(); ++i)
    decl.push_back(fmt::format("{} {}", c_param(s.params[i].dtype), s.c_params[i]));
  for (std::size_t i = 0; i < s.outputs.size(); ++i) {
    decl.push_back(fmt::format("{} *{}", c_elem(s.outputs[i].type.dtype), s.c_outputs[i]));
    decl.push_back(fmt::format("const int64_t *{}", s.c_output_strides[i]));
  }
  std::string list;
  for (std::size_t i = 0; i < decl.size(); ++i) list += fmt::format("{}\n    {}", i ? "," : "", decl[i]);
  std::string sym_list;
  for (std::size_t i = 0; i < s.syms.size(); ++i)
    sym_list += fmt::format("{}\n    int64_t {}", i ? "," : "", s.c_syms[i]);

  std::string doc = fmt::format("/** {}: the script {}, compiled ahead of time by xprc for target {} "
                                "({} precision).\n *\n",
                                P, comment_safe(src.name()), opts.target_label,
                                opts.precision == cg::Precision::Fast ? "fast" : "accurate");
  if (!opts.levels.empty()) {
    std::string lv;
    for (std::size_t i = 0; i < opts.levels.size(); ++i) lv += (i ? ", " : "") + opts.levels[i];
    doc += fmt::format(" * Multi-versioned: every kernel is compiled for {}; each call runs the "
                       "highest level\n * this CPU supports (xpr_rt_cpu_level(), which "
                       "XPR_RT_CPU_LEVEL=vN caps) and returns\n * XPR_RT_EUNSUPPORTED on a CPU "
                       "below {}.\n *\n",
                       lv, opts.levels.front());
  }
  if (opts.cuda_sm)
    doc += fmt::format(" * Runs on an NVIDIA GPU: CUDA device 0 (XPR_RT_CUDA_DEVICE=N or "
                       "xpr_rt_cuda_set_device() choose\n * another). Arrays are host memory: each "
                       "call copies the inputs to the device and the\n * outputs back. The driver "
                       "(libcuda.so.1) is loaded on the first call; without it, or without\n * a "
                       "GPU, the call returns XPR_RT_EDEVICE and writes nothing.\n * Embedded: PTX "
                       "for sm_{} {}.\n *\n",
                       cg::gpu_target_sm(opts.cuda_sm),
                       L.cubin.empty() ? "(" + comment_safe(L.cubin_note) + "; the driver compiles "
                                             "the PTX on first use)"
                                       : "and " + L.cubin_note);
  if (L.plan.reduce_count() > 0 && opts.cuda_sm)
    doc += fmt::format(" * Reductions ({} step(s)) run in the cuda target's fixed order (blocks of "
                       "256 threads, chunks\n * of 16384 values, no atomics): the same bits on "
                       "every run and GPU. An output of a\n * reduction may not share memory "
                       "with any input.\n *\n",
                       L.plan.reduce_count());
  else if (L.plan.reduce_count() > 0)
    doc += fmt::format(" * Reductions ({} step(s)) run in the JIT's fixed block order: results do "
                       "not depend on the\n * thread count. An output of a reduction may not share "
                       "memory with any input.\n *\n",
                       L.plan.reduce_count());
  if (!s.syms.empty()) {
    doc += " * Sizes (symbolic dims, each >= 0):\n";
    for (std::size_t i = 0; i < s.syms.size(); ++i)
      doc += fmt::format(" *   {}{}\n", s.syms[i], s.c_syms[i] != s.syms[i] ? " (argument " + s.c_syms[i] + ")" : "");
  }
  auto arr_doc = [&](const Operand &o, const std::string &cname, const std::string &cstr) {
    std::string d = fmt::format(" *   {}: {}  ->  {} *{}, int64_t {}[{}]", o.name, type_text(o.type),
                                c_elem(o.type.dtype), cname, cstr, o.type.rank());
    if (is_half(o.type.dtype)) d += fmt::format(" ({} bit patterns)", dtype_name(o.type.dtype));
    return d + "\n";
  };
  if (!s.inputs.empty()) {
    doc += " * Inputs (element strides, not bytes; NULL strides = C-contiguous; any sign, 0 "
           "broadcasts):\n";
    for (std::size_t i = 0; i < s.inputs.size(); ++i)
      doc += arr_doc(s.inputs[i], s.c_inputs[i], s.c_input_strides[i]);
  }
  if (!s.params.empty()) {
    doc += " * Params:\n";
    for (std::size_t i = 0; i < s.params.size(); ++i)
      doc += fmt::format(" *   {}: {}  ->  {} {}{}\n", s.params[i].name, dtype_name(s.params[i].dtype),
                         c_param(s.params[i].dtype), s.c_params[i],
                         is_half(s.params[i].dtype) ? " (rounded once to nearest even)" : "");
  }
  doc += " * Outputs (written, never allocated; any strides without self-overlap; an output may be "
         "the very\n * same memory as an input of the same layout, for in-place updates):\n";
  for (std::size_t i = 0; i < s.outputs.size(); ++i)
    doc += arr_doc(s.outputs[i], s.c_outputs[i], s.c_output_strides[i]);
  if (opts.cuda_sm)
    doc += " *\n * Returns XPR_RT_OK (0) or an XPR_RT_E* code; xpr_rt_last_error() then says why. "
           "The kernels are\n * the cuda target's own lowering (xpr::Target::cuda) at the same "
           "precision.\n *\n * The script:\n";
  else
    doc += " *\n * Runs on libxpr_rt's thread pool (xpr_rt_set_threads). Returns XPR_RT_OK (0) or "
           "an XPR_RT_E*\n * code; xpr_rt_last_error() then says why. Results are bit-identical "
           "to xpr::Context::compile\n * of the same script on the same CPU and precision.\n *\n"
           " * The script:\n";
  std::string text = comment_safe(src.text());
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(b, e - b);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    doc += line.empty() ? " *\n" : " *   " + line + "\n";
    b = e + 1;
  }
  doc += " */\n";
  h += doc;
  h += fmt::format("int {}({});\n\n", P, list);
  h += fmt::format("/** The number of work items of {0}_range for these sizes (the iteration counts "
                   "of the program's\n * {1} loop(s), one after the other); -1 when a size is invalid. */\n"
                   "int64_t {0}_work({2});\n\n",
                   P, L.plan.steps.size(), sym_list.empty() ? std::string("void") : sym_list);
  h += fmt::format("/** {0}, restricted to work items [lo, hi) of [0, {0}_work(...)), on the calling "
                   "thread: for callers\n * that bring their own threads. Disjoint ranges may run "
                   "concurrently; together they compute\n * exactly what {0} computes. Same "
                   "arguments and errors as {0}, plus XPR_RT_ERANGE.{3} */\n"
                   "int {0}_range(\n    int64_t lo,\n    int64_t hi{1}{2});\n\n",
                   P, decl.empty() ? "" : ",", list.empty() ? "" : list.substr(0),
                   opts.cuda_sm ? "\n * A cuda object runs whole calls only: _range returns "
                                  "XPR_RT_EUNSUPPORTED (call " + P + ")."
                   : L.plan.reduce_count() > 0
                       ? "\n * This script has reductions: _range returns XPR_RT_EUNSUPPORTED "
                         "(call " + P + ")."
                       : "");
  h += "#ifdef __cplusplus\n}\n#endif\n\n";
  h += fmt::format("#endif /* {} */\n", guard);
  return h;
}

} // namespace

int cpu_level(const std::string &cpu) {
  if (cpu == "x86-64") return 1;
  if (cpu.size() == 9 && cpu.starts_with("x86-64-v") && cpu[8] >= '2' && cpu[8] <= '4')
    return cpu[8] - '0';
  return 0;
}

bool valid_c_name(const std::string &s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  if (s.size() >= 2 && s[0] == '_' && (s[1] == '_' || std::isupper(static_cast<unsigned char>(s[1]))))
    return false; // reserved
  return !keywords().count(s);
}

namespace {
AotResult result_of(Lowered &L, const AotOptions &opts, const SourceFile &src) {
  if (opts.cuda_sm) compile_gpu(L, opts);
  AotResult r;
  r.header = header_text(L, opts, src);
  r.driver_ir = driver_ir(L, opts);
  r.plan_text = passes::print(L.plan);
  if (!opts.cuda_sm)
    for (const auto &k : L.kernels) r.kernel_symbols.push_back(k.symbol);
  r.ptx = L.ptx;
  r.cubin_note = L.cubin_note;
  return r;
}
} // namespace

AotResult translate(const SourceFile &src, const AotOptions &opts) {
  Lowered L = lower(src, opts);
  return result_of(L, opts, src);
}

std::string compile_object(const SourceFile &src, const AotOptions &opts, AotResult &result,
                           std::string *asm_out) {
  Lowered L = lower(src, opts);
  result = result_of(L, opts, src);
  // The process-wide JIT: the same CpuJit (pipeline, target machine) that Context uses.
  cg::CpuJit &jit = rt::KernelCache::global().jit();
  if (opts.cuda_sm) // the kernels are in the driver's module: the object is the driver alone
    return jit.compile_objects({}, result.driver_ir, opts.cpu, asm_out);
  if (opts.levels.empty()) return jit.compile_objects(L.kernels, result.driver_ir, opts.cpu, asm_out);
  // Multi-versioned: the same kernels once per level, each lowered as a single-level object
  // lowers it, under suffixed symbols.
  std::vector<std::pair<std::string, std::vector<cg::ObjectKernel>>> per_cpu;
  result.kernel_symbols.clear();
  for (const std::string &level : opts.levels) {
    std::vector<cg::ObjectKernel> ks = L.kernels;
    for (cg::ObjectKernel &k : ks) {
      k.symbol += fmt::format("_v{}", cpu_level(level));
      result.kernel_symbols.push_back(k.symbol);
    }
    per_cpu.emplace_back(level, std::move(ks));
  }
  return jit.compile_objects_multi(per_cpu, result.driver_ir, asm_out);
}

} // namespace xpr::aot
