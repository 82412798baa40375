// compiler/passes/Fusion.cpp — groups values by (reduction depth, iteration shape) into kernels,
// fuses each reduction's producer chain into it, and forms row groups.
#include "compiler/passes/Fusion.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace xpr::passes {

namespace {

using ir::Graph;
using ir::Node;
using ir::Op;
using ir::OpKind;
using ir::ValueId;

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "fusion: " + msg);
}

struct Root {
  ValueId value;
  int buffer;
};

struct Group {
  int level;
  std::vector<ir::Dim> dims;
  std::vector<Root> roots;
};

class Fuser {
public:
  explicit Fuser(const Graph &g) : g_(g), n_(g.nodes.size()), level_(n_, 0), buf_of_(n_, -1) {}

  Plan run() {
    plan_.graph = g_;
    compute_levels();
    add_program_buffers();
    assign_reduce_buffers();
    collect_roots();
    schedule();
    form_row_groups();
    return std::move(plan_);
  }

private:
  void compute_levels() {
    for (std::size_t i = 0; i < n_; ++i) {
      const Node &n = g_.nodes[i];
      int l = 0;
      for (auto o : n.operands) {
        if (o < 0 || static_cast<std::size_t>(o) >= i) internal("operands out of order");
        l = std::max(l, level_[static_cast<std::size_t>(o)]);
      }
      if (ir::op_kind(n.op) == OpKind::Reduce) ++l;
      level_[i] = l;
      max_level_ = std::max(max_level_, l);
    }
  }

  int add_buffer(BufferKind kind, std::string name, ir::Type type, int index) {
    plan_.buffers.push_back(Buffer{kind, std::move(name), std::move(type), index});
    return static_cast<int>(plan_.buffers.size() - 1);
  }

  void add_program_buffers() {
    int k = 0;
    for (ValueId v : g_.inputs()) {
      int b = add_buffer(BufferKind::Input, g_.node(v).name, g_.type(v), k++);
      plan_.input_buffers.push_back(b);
      buf_of_[static_cast<std::size_t>(v)] = b;
    }
    for (ValueId v : g_.params()) plan_.params.push_back({g_.node(v).name, g_.type(v).dtype});
    for (std::size_t k2 = 0; k2 < g_.outputs.size(); ++k2) {
      const auto &o = g_.outputs[k2];
      plan_.output_buffers.push_back(
          add_buffer(BufferKind::Output, o.name, g_.type(o.value), static_cast<int>(k2)));
    }
    output_claimed_.assign(g_.outputs.size(), false);
  }

  // An output whose value a step writes anyway gets that step's write directly.
  int claim_output_for(ValueId v) {
    for (std::size_t k = 0; k < g_.outputs.size(); ++k)
      if (g_.outputs[k].value == v && !output_claimed_[k]) {
        output_claimed_[k] = true;
        return plan_.output_buffers[k];
      }
    return -1;
  }

  int new_intermediate(const ir::Type &t) {
    return add_buffer(BufferKind::Intermediate, fmt::format("t{}", temps_++), t, -1);
  }

  void assign_reduce_buffers() {
    for (std::size_t i = 0; i < n_; ++i) {
      const Node &n = g_.nodes[i];
      if (ir::op_kind(n.op) != OpKind::Reduce) continue;
      ValueId operand = n.operands.at(0);
      auto oi = static_cast<std::size_t>(operand);
      if (buf_of_[oi] < 0) {
        // An operand that is also an output is written by a kernel of its own level anyway: the
        // reduction reads that buffer back. Any other operand is computed inside the reduction
        // (its map), so no array ever holds it.
        for (std::size_t k = 0; k < g_.outputs.size(); ++k)
          if (g_.outputs[k].value == operand) {
            buf_of_[oi] = plan_.output_buffers[k];
            break;
          }
      }
      int r = claim_output_for(static_cast<ValueId>(i));
      if (r < 0) r = new_intermediate(n.type);
      buf_of_[i] = r;
      reduces_.push_back(static_cast<ValueId>(i));
    }
  }

  void collect_roots() {
    // Outputs first, in declaration order, so kernels write outputs in the user's order.
    std::vector<Root> roots;
    for (std::size_t k = 0; k < g_.outputs.size(); ++k)
      if (!output_claimed_[k]) roots.push_back({g_.outputs[k].value, plan_.output_buffers[k]});
    for (const Root &r : roots) {
      int l = level_[static_cast<std::size_t>(r.value)];
      const auto &dims = g_.type(r.value).dims;
      auto it = std::find_if(groups_.begin(), groups_.end(),
                             [&](const Group &gr) { return gr.level == l && gr.dims == dims; });
      if (it == groups_.end()) {
        groups_.push_back(Group{l, dims, {}});
        it = groups_.end() - 1;
      }
      it->roots.push_back(r);
    }
  }

  // A value is readable from a buffer by a kernel at `level` when an earlier step wrote it:
  // inputs always, reduction results of depth <= level, kernel materializations of depth < level.
  int available(ValueId v, int level) const {
    auto i = static_cast<std::size_t>(v);
    int b = buf_of_[i];
    if (b < 0) return -1;
    const Node &n = g_.nodes[i];
    if (n.op == Op::Input) return b;
    if (ir::op_kind(n.op) == OpKind::Reduce) return level_[i] <= level ? b : -1;
    return level_[i] < level ? b : -1;
  }

  KernelStep build_kernel(const Group &gr) { return build_kernel(gr.level, gr.dims, gr.roots); }

  // The reduction's operand as a one-output kernel (a root with buffer -1), converted to the
  // dtype the reduction accumulates in.
  KernelStep build_map(const Node &red) {
    ValueId operand = red.operands.at(0);
    const ir::Type &ot = g_.type(operand);
    KernelStep ks;
    if (int b = buf_of_[static_cast<std::size_t>(operand)]; b >= 0) {
      Node in;
      in.op = Op::Input;
      in.type = plan_.buffers[static_cast<std::size_t>(b)].type;
      in.name = "in0";
      ks.iter_dims = ot.dims;
      ks.inputs.push_back(b);
      ks.kernel.outputs.push_back({"out0", ks.kernel.add(std::move(in))});
    } else {
      ks = build_kernel(level_[static_cast<std::size_t>(operand)], ot.dims, {Root{operand, -1}});
    }
    DType acc = reduce_value_dtype(red.op, ot.dtype);
    if (acc != ot.dtype) {
      Node c;
      c.op = Op::Cast;
      c.type = ir::Type{acc, ot.dims};
      c.operands = {ks.kernel.outputs[0].value};
      ks.kernel.outputs[0].value = ks.kernel.add(std::move(c));
    }
    return ks;
  }

  KernelStep build_kernel(int level, const std::vector<ir::Dim> &dims,
                          const std::vector<Root> &roots) {
    KernelStep ks;
    ks.iter_dims = dims;
    Group gr{level, dims, roots};
    // Mark the cone of the roots, stopping at leaves and at values available in buffers.
    std::vector<char> need(n_, 0);
    std::vector<ValueId> stack;
    for (const Root &r : gr.roots) stack.push_back(r.value);
    while (!stack.empty()) {
      ValueId v = stack.back();
      stack.pop_back();
      auto i = static_cast<std::size_t>(v);
      if (need[i]) continue;
      need[i] = 1;
      if (available(v, gr.level) >= 0) continue;
      const Node &n = g_.nodes[i];
      if (ir::op_kind(n.op) == OpKind::Reduce)
        internal(fmt::format("reduction %{} is not available to a kernel at depth {}", v, gr.level));
      for (auto o : n.operands) stack.push_back(o);
    }
    // Emit in id order (topological), renaming leaves canonically.
    Graph &k = ks.kernel;
    std::vector<ValueId> kmap(n_, -1);
    std::map<int, ValueId> input_of_buffer;
    std::map<std::string, ValueId> param_of_name;
    for (std::size_t i = 0; i < n_; ++i) {
      if (!need[i]) continue;
      auto v = static_cast<ValueId>(i);
      const Node &n = g_.nodes[i];
      if (int b = available(v, gr.level); b >= 0) {
        auto it = input_of_buffer.find(b);
        if (it == input_of_buffer.end()) {
          Node in;
          in.op = Op::Input;
          in.type = plan_.buffers[static_cast<std::size_t>(b)].type;
          in.name = fmt::format("in{}", ks.inputs.size());
          ks.inputs.push_back(b);
          it = input_of_buffer.emplace(b, k.add(std::move(in))).first;
        }
        kmap[i] = it->second;
        continue;
      }
      if (n.op == Op::Param) {
        auto it = param_of_name.find(n.name);
        if (it == param_of_name.end()) {
          Node p = n;
          p.name = fmt::format("p{}", ks.params.size());
          auto params = g_.params();
          auto pos = std::find(params.begin(), params.end(), v) - params.begin();
          ks.params.push_back(static_cast<int>(pos));
          it = param_of_name.emplace(n.name, k.add(std::move(p))).first;
        }
        kmap[i] = it->second;
        continue;
      }
      if (n.op == Op::Input) internal("input without a buffer");
      Node c = n;
      for (auto &o : c.operands) o = kmap[static_cast<std::size_t>(o)];
      kmap[i] = k.add(std::move(c));
    }
    for (const Root &r : gr.roots) {
      k.outputs.push_back({fmt::format("out{}", k.outputs.size()),
                           kmap[static_cast<std::size_t>(r.value)]});
      if (r.buffer >= 0) ks.outputs.push_back(r.buffer);
    }
    return ks;
  }

  void schedule() {
    for (int l = 0; l <= max_level_; ++l) {
      for (const Group &gr : groups_)
        if (gr.level == l) {
          Step s;
          s.kind = Step::Kind::Kernel;
          s.kernel = build_kernel(gr);
          plan_.steps.push_back(std::move(s));
        }
      for (ValueId r : reduces_) {
        const Node &n = g_.node(r);
        if (level_[static_cast<std::size_t>(n.operands[0])] != l) continue;
        Step s;
        s.kind = Step::Kind::Reduce;
        s.reduce.op = n.op;
        s.reduce.axes = n.axes;
        s.reduce.keepdims = n.keepdims;
        s.reduce.input = buf_of_[static_cast<std::size_t>(n.operands[0])];
        s.reduce.output = buf_of_[static_cast<std::size_t>(r)];
        s.reduce.map = build_map(n);
        plan_.steps.push_back(std::move(s));
      }
    }
  }

  // Row groups: a row reduction (first reduced axis p > 0) and the steps right after it that
  // iterate over the same leading p dims and read what the group writes only row for row (the
  // buffer has the step's rank, so its leading dims line up with the step's rows).
  void form_row_groups() {
    auto &steps = plan_.steps;
    auto prefix_is = [](const std::vector<ir::Dim> &d, const std::vector<ir::Dim> &rows) {
      return d.size() >= rows.size() && std::equal(rows.begin(), rows.end(), d.begin());
    };
    auto fits = [&](const Step &st, const std::vector<ir::Dim> &rows,
                    const std::vector<int> &written) {
      const bool red = st.kind == Step::Kind::Reduce;
      const KernelStep &k = red ? st.reduce.map : st.kernel;
      if (!prefix_is(k.iter_dims, rows)) return false;
      if (red && !st.reduce.axes.empty() &&
          st.reduce.axes.front() < static_cast<int>(rows.size()))
        return false;
      for (int b : k.inputs) {
        if (std::find(written.begin(), written.end(), b) == written.end()) continue;
        const ir::Type &t = plan_.buffers[static_cast<std::size_t>(b)].type;
        if (t.dims.size() != k.iter_dims.size() || !prefix_is(t.dims, rows)) return false;
      }
      std::vector<int> outs = red ? std::vector<int>{st.reduce.output} : k.outputs;
      for (int b : outs)
        if (!prefix_is(plan_.buffers[static_cast<std::size_t>(b)].type.dims, rows)) return false;
      return true;
    };
    for (std::size_t i = 0; i < steps.size();) {
      const Step &first = steps[i];
      if (first.kind != Step::Kind::Reduce || first.reduce.axes.empty() ||
          first.reduce.axes.front() == 0) {
        ++i;
        continue;
      }
      const auto &od = first.reduce.map.iter_dims;
      std::vector<ir::Dim> rows(od.begin(), od.begin() + first.reduce.axes.front());
      std::vector<int> written;
      std::size_t j = i;
      for (; j < steps.size() && fits(steps[j], rows, written); ++j) {
        if (steps[j].kind == Step::Kind::Reduce)
          written.push_back(steps[j].reduce.output);
        else
          written.insert(written.end(), steps[j].kernel.outputs.begin(),
                         steps[j].kernel.outputs.end());
      }
      if (j - i >= 2) {
        int gi = static_cast<int>(plan_.row_groups.size());
        plan_.row_groups.push_back(RowGroup{rows, static_cast<int>(i), static_cast<int>(j - 1)});
        for (std::size_t k = i; k < j; ++k) steps[k].row_group = gi;
      }
      i = std::max(j, i + 1);
    }
  }

  const Graph &g_;
  std::size_t n_;
  std::vector<int> level_;
  std::vector<int> buf_of_; // value -> buffer holding it (inputs, reductions, materializations)
  std::vector<bool> output_claimed_;
  std::vector<ValueId> reduces_;
  std::vector<Group> groups_;
  int max_level_ = 0;
  int temps_ = 0;
  Plan plan_;
};

} // namespace

Plan fuse(const ir::Graph &g) { return Fuser(g).run(); }

} // namespace xpr::passes
