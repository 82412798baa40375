// compiler/passes/Plan.cpp — counting and printing fused plans (`--emit=fused`).
#include "compiler/passes/Plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace xpr::passes {

int Plan::kernel_count() const {
  int n = 0;
  for (const auto &s : steps) n += s.kind == Step::Kind::Kernel;
  return n;
}
int Plan::reduce_count() const {
  int n = 0;
  for (const auto &s : steps) n += s.kind == Step::Kind::Reduce;
  return n;
}
int Plan::intermediate_count() const {
  int n = 0;
  for (const auto &b : buffers) n += b.kind == BufferKind::Intermediate;
  return n;
}

int Plan::memory_passes(int b) const {
  int n = 0, last_group = -1;
  for (const auto &s : steps) {
    const std::vector<int> &in = s.kind == Step::Kind::Kernel ? s.kernel.inputs : s.reduce.map.inputs;
    if (std::find(in.begin(), in.end(), b) == in.end()) continue;
    if (s.row_group >= 0 && s.row_group == last_group) continue;
    last_group = s.row_group;
    ++n;
  }
  return n;
}

DType reduce_value_dtype(ir::Op op, DType d) {
  switch (op) {
  case ir::Op::Sum:
  case ir::Op::Prod:
    if (is_bool(d) || is_signed_int(d)) return DType::I64;
    if (is_unsigned_int(d)) return DType::U64;
    return is_half(d) ? DType::F32 : d;
  case ir::Op::Mean: return DType::F64;
  case ir::Op::Any:
  case ir::Op::All: return DType::Bool;
  default: return is_half(d) ? DType::F32 : d;
  }
}

namespace {
std::string_view kind_name(BufferKind k) {
  switch (k) {
  case BufferKind::Input: return "input";
  case BufferKind::Output: return "output";
  case BufferKind::Intermediate: return "temp";
  }
  return "?";
}
std::string dims_text(const std::vector<ir::Dim> &d) {
  return ir::to_string(ir::Type{DType::Bool, d}).substr(4); // drop the "bool" prefix
}
std::string buf_ref(const Plan &p, int b) {
  return fmt::format("b{} \"{}\"", b, p.buffers.at(static_cast<std::size_t>(b)).name);
}
} // namespace

std::string print(const Plan &p) {
  std::string out = "plan {\n";
  for (std::size_t i = 0; i < p.buffers.size(); ++i) {
    const Buffer &b = p.buffers[i];
    out += fmt::format("  b{} = {} \"{}\" : {}\n", i, kind_name(b.kind), b.name,
                       ir::to_string(b.type));
  }
  for (std::size_t i = 0; i < p.params.size(); ++i)
    out += fmt::format("  param {} \"{}\" : {}\n", i, p.params[i].name,
                       dtype_name(p.params[i].dtype));
  int kernel_no = 0;
  auto kernel_body = [&](const KernelStep &k, const std::string &ind, bool outputs) {
    std::string o;
    for (std::size_t i = 0; i < k.inputs.size(); ++i)
      o += fmt::format("{}  in{} <- {}\n", ind, i, buf_ref(p, k.inputs[i]));
    for (std::size_t i = 0; i < k.params.size(); ++i)
      o += fmt::format("{}  p{} <- param \"{}\"\n", ind, i,
                       p.params.at(static_cast<std::size_t>(k.params[i])).name);
    if (outputs)
      for (std::size_t i = 0; i < k.outputs.size(); ++i)
        o += fmt::format("{}  out{} -> {}\n", ind, i, buf_ref(p, k.outputs[i]));
    std::istringstream body(ir::print(k.kernel));
    for (std::string line; std::getline(body, line);) o += ind + "  " + line + "\n";
    return o;
  };
  for (std::size_t si = 0; si < p.steps.size(); ++si) {
    const Step &s = p.steps[si];
    std::string ind = "  ";
    if (s.row_group >= 0) {
      const RowGroup &g = p.row_groups.at(static_cast<std::size_t>(s.row_group));
      if (static_cast<std::size_t>(g.first) == si)
        out += fmt::format("  rows {} {{\n", dims_text(g.rows));
      ind = "    ";
    }
    if (s.kind == Step::Kind::Reduce) {
      const ReduceStep &r = s.reduce;
      std::string axes;
      for (std::size_t i = 0; i < r.axes.size(); ++i)
        axes += fmt::format("{}{}", i ? ", " : "", r.axes[i]);
      // A map that only reads its one input prints as that buffer; anything else in full.
      const ir::Graph &m = r.map.kernel;
      bool identity = r.input >= 0 && m.nodes.size() == 1;
      out += fmt::format("{}reduce {} {}{{axes = [{}], keepdims = {}}} -> {}\n", ind,
                         ir::op_name(r.op), identity ? buf_ref(p, r.input) + " " : "", axes,
                         r.keepdims, buf_ref(p, r.output));
      if (!identity) out += kernel_body(r.map, ind, false);
    } else {
      const KernelStep &k = s.kernel;
      out += fmt::format("{}kernel k{} over {}\n", ind, kernel_no++, dims_text(k.iter_dims));
      out += kernel_body(k, ind, true);
    }
    if (s.row_group >= 0 &&
        static_cast<std::size_t>(p.row_groups[static_cast<std::size_t>(s.row_group)].last) == si)
      out += "  }\n";
  }
  out += fmt::format("}} # {} kernel(s), {} reduction(s), {} intermediate buffer(s)",
                     p.kernel_count(), p.reduce_count(), p.intermediate_count());
  if (!p.row_groups.empty()) out += fmt::format(", {} row group(s)", p.row_groups.size());
  out += "\n";
  return out;
}

} // namespace xpr::passes
