// tools/xprc/Aot.cpp — a script to an xprc object: the fused plan encoded for libxpr_rt, every
// kernel in the layouts it can be called with, the LLVM IR of the entry points, and the header.
#include "tools/xprc/Aot.h"

#include "compiler/codegen/CpuJit.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"
#include "runtime/KernelCache.h"
#include "runtime/rt/xpr_rt_plan.h"
#include "support/Source.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

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
  std::unique_ptr<rt::KernelCode> code;
  std::vector<std::vector<cg::Layout>> variants; // the last one all Strided
  std::vector<int> kernel_index;                 // per variant
};

std::string layout_name(cg::Layout l) {
  return l == cg::Layout::Contiguous ? "C" : l == cg::Layout::Scalar ? "S" : "X";
}

const char *reduce_name(const passes::Plan &plan) {
  for (const Step &s : plan.steps)
    if (s.kind == Step::Kind::Reduce) return ir::op_name(s.reduce.op).data();
  return "";
}

struct Lowered {
  passes::Plan plan;
  Signature sig;
  std::vector<StepCode> steps;
  std::vector<cg::ObjectKernel> kernels;
  Words words;
};

Lowered lower(const SourceFile &src, const AotOptions &opts) {
  Lowered L;
  ir::Graph g = fe::compile_script(src);
  L.plan = passes::lower_to_plan(std::move(g));
  const passes::Plan &plan = L.plan;
  if (plan.reduce_count() > 0)
    throw Error(ErrorKind::Runtime,
                fmt::format("{}: xprc cannot compile reductions yet ('{}' here): AOT v1 supports "
                            "elementwise scripts only (docs/aot.md); run this script with the JIT "
                            "(xpr run, xpr::Context::compile)",
                            src.name(), reduce_name(plan)));
  for (const passes::Buffer &b : plan.buffers)
    if (b.kind == BufferKind::Intermediate)
      throw Error(ErrorKind::Runtime,
                  fmt::format("{}: xprc cannot compile programs with intermediate buffers yet "
                              "('{}'): AOT v1 supports elementwise scripts only",
                              src.name(), b.name));
  L.sig = signature_of(plan);
  const Signature &sig = L.sig;

  std::map<int, int> operand_of; // buffer id -> operand id (inputs, then outputs)
  for (std::size_t i = 0; i < plan.input_buffers.size(); ++i)
    operand_of[plan.input_buffers[i]] = static_cast<int>(i);
  for (std::size_t j = 0; j < plan.output_buffers.size(); ++j)
    operand_of[plan.output_buffers[j]] = static_cast<int>(plan.input_buffers.size() + j);

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
  W.put(static_cast<std::int64_t>(plan.steps.size()));
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const passes::KernelStep &ks = plan.steps[s].kernel;
    StepCode sc;
    // The kernel exactly as the JIT compiles it: literals hoisted into param slots.
    sc.code = std::make_unique<rt::KernelCode>(ks, static_cast<int>(s));
    sc.variants.push_back(eager_layouts(plan, ks));
    std::vector<cg::Layout> strided(ks.inputs.size() + ks.outputs.size(), cg::Layout::Strided);
    if (sc.variants.front() != strided) sc.variants.push_back(strided);
    for (std::size_t v = 0; v < sc.variants.size(); ++v) {
      cg::ObjectKernel k;
      k.kernel = &sc.code->kernel();
      k.spec.rank = static_cast<int>(ks.iter_dims.size());
      k.spec.precision = opts.precision;
      const auto &lay = sc.variants[v];
      k.spec.inputs.assign(lay.begin(), lay.begin() + static_cast<long>(ks.inputs.size()));
      k.spec.outputs.assign(lay.begin() + static_cast<long>(ks.inputs.size()), lay.end());
      std::string tag;
      for (cg::Layout l : lay) tag += layout_name(l);
      k.symbol = fmt::format("{}__xpr_k{}_{}", opts.name, s, tag);
      sc.kernel_index.push_back(static_cast<int>(L.kernels.size()));
      L.kernels.push_back(std::move(k));
    }

    W.put(static_cast<std::int64_t>(ks.iter_dims.size()));
    for (const ir::Dim &d : ks.iter_dims) W.put(dim_word(d, sig));
    W.put(static_cast<std::int64_t>(ks.inputs.size()));
    for (int b : ks.inputs) W.put(operand_of.at(b));
    W.put(static_cast<std::int64_t>(ks.outputs.size()));
    for (int b : ks.outputs) {
      const int id = operand_of.at(b);
      if (id < static_cast<int>(sig.inputs.size()))
        throw Error(ErrorKind::Internal, "a kernel writes a program input");
      W.put(id - static_cast<std::int64_t>(sig.inputs.size()));
    }
    W.put(static_cast<std::int64_t>(sc.code->slots().size()));
    for (const rt::KernelCode::Slot &sl : sc.code->slots()) {
      W.put(sl.program_param);
      W.put(static_cast<std::int64_t>(sl.literal));
    }
    W.put(static_cast<std::int64_t>(sc.variants.size()));
    for (std::size_t v = 0; v < sc.variants.size(); ++v) {
      W.put(sc.kernel_index[v]);
      for (cg::Layout l : sc.variants[v]) W.put(static_cast<std::int64_t>(l));
    }
    L.steps.push_back(std::move(sc));
  }
  return L;
}

// ---- the driver (LLVM IR text) ----

std::string driver_ir(const Lowered &L, const AotOptions &opts) {
  const Signature &s = L.sig;
  const std::string &P = opts.name;
  std::string ir = fmt::format("; the entry points of {} (generated by xprc)\n", P);
  ir += fmt::format("@\"{}.plan\" = private unnamed_addr constant [{} x i64] [", P, L.words.w.size());
  for (std::size_t i = 0; i < L.words.w.size(); ++i)
    ir += fmt::format("{}i64 {}", i ? ", " : "", L.words.w[i]);
  ir += "], align 8\n";
  ir += fmt::format("@\"{}.kernels\" = private unnamed_addr constant [{} x ptr] [", P, L.kernels.size());
  for (std::size_t i = 0; i < L.kernels.size(); ++i)
    ir += fmt::format("{}ptr @{}", i ? ", " : "", L.kernels[i].symbol);
  ir += "], align 8\n";
  for (const auto &k : L.kernels)
    ir += fmt::format("declare void @{}(ptr, ptr, ptr, ptr, i64, i64)\n", k.symbol);
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
  ir += fmt::format("define i32 @{}({}) {{\nentry:\n{}", P, all, stores(args.size()));
  ir += fmt::format("  %r = call i32 @xpr_rt_run(ptr @\"{0}.plan\", ptr @\"{0}.kernels\", ptr %args, "
                    "i64 0, i64 0, i32 0)\n  ret i32 %r\n}}\n\n", P);
  ir += fmt::format("define i32 @{}_range(i64 %lo, i64 %hi{}{}) {{\nentry:\n{}", P,
                    args.empty() ? "" : ", ", all, stores(args.size()));
  ir += fmt::format("  %r = call i32 @xpr_rt_run(ptr @\"{0}.plan\", ptr @\"{0}.kernels\", ptr %args, "
                    "i64 %lo, i64 %hi, i32 1)\n  ret i32 %r\n}}\n\n", P);
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
  doc += " *\n * Runs on libxpr_rt's thread pool (xpr_rt_set_threads). Returns XPR_RT_OK (0) or an "
         "XPR_RT_E*\n * code; xpr_rt_last_error() then says why. Results are bit-identical to "
         "xpr::Context::compile\n * of the same script on the same CPU and precision.\n *\n"
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
                   "arguments and errors as {0}, plus XPR_RT_ERANGE. */\n"
                   "int {0}_range(\n    int64_t lo,\n    int64_t hi{1}{2});\n\n",
                   P, decl.empty() ? "" : ",", list.empty() ? "" : list.substr(0));
  h += "#ifdef __cplusplus\n}\n#endif\n\n";
  h += fmt::format("#endif /* {} */\n", guard);
  return h;
}

} // namespace

bool valid_c_name(const std::string &s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  if (s.size() >= 2 && s[0] == '_' && (s[1] == '_' || std::isupper(static_cast<unsigned char>(s[1]))))
    return false; // reserved
  return !keywords().count(s);
}

namespace {
AotResult result_of(const Lowered &L, const AotOptions &opts, const SourceFile &src) {
  AotResult r;
  r.header = header_text(L, opts, src);
  r.driver_ir = driver_ir(L, opts);
  r.plan_text = passes::print(L.plan);
  for (const auto &k : L.kernels) r.kernel_symbols.push_back(k.symbol);
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
  return rt::KernelCache::global().jit().compile_objects(L.kernels, result.driver_ir, opts.cpu,
                                                          asm_out);
}

} // namespace xpr::aot
