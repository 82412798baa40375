// tests/differential/DifferentialTest.cpp — random programs run by the CPU JIT (public API) and by
// the reference interpreter on the same front-end graph; every element must agree (docs/testing.md).
#include "tests/differential/Compare.h"
#include "tests/differential/Gen.h"

#include "compiler/ir/Interpreter.h"
#include "frontend/Frontend.h"

#include <xpr/xpr.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>

namespace xpr::diff {
namespace {

std::uint64_t env_u64(const char *name, std::uint64_t fallback) {
  const char *v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 0); // accepts decimal and 0x...
}

/// splitmix64: decorrelates consecutive case numbers into program seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr int kRunsPerProgram = 4; // 2 contiguous, 2 strided: at most 2 kernels compiled per program

/// Index of element `flat` (C order over `shape`) in an array with `strides`.
std::int64_t offset_of(std::int64_t flat, const std::vector<std::int64_t> &shape,
                       const std::vector<std::int64_t> &strides) {
  std::int64_t off = 0;
  for (int k = static_cast<int>(shape.size()) - 1; k >= 0; --k) {
    std::int64_t n = shape[static_cast<std::size_t>(k)];
    off += (flat % n) * strides[static_cast<std::size_t>(k)];
    flat /= n;
  }
  return off;
}

std::vector<std::int64_t> unravel(std::int64_t flat, const std::vector<std::int64_t> &shape) {
  std::vector<std::int64_t> idx(shape.size());
  for (int k = static_cast<int>(shape.size()) - 1; k >= 0; --k) {
    std::int64_t n = shape[static_cast<std::size_t>(k)];
    idx[static_cast<std::size_t>(k)] = flat % n;
    flat /= n;
  }
  return idx;
}

/// The outcome of running one program on one instance.
struct Outcome {
  bool mismatch = false;
  std::string detail; // what differed, with values
};

/// An output buffer for run_into with a non-contiguous layout, filled with a sentinel so that a
/// write outside the elements shows up.
struct OutBuffer {
  std::vector<unsigned char> bytes;
  Array view;
  static constexpr unsigned char kSentinel = 0xA5;
};

OutBuffer make_out_buffer(DType t, const std::vector<std::int64_t> &shape, int style) {
  // style 0: every other element on every dim; style 1: reversed on every dim.
  const int r = static_cast<int>(shape.size());
  std::vector<std::int64_t> strides(static_cast<std::size_t>(r));
  std::int64_t span = 1, offset = 0;
  for (int k = r - 1; k >= 0; --k) {
    std::int64_t n = shape[static_cast<std::size_t>(k)];
    int s = style == 0 ? 2 : -1;
    strides[static_cast<std::size_t>(k)] = s * span;
    if (s < 0 && n > 0) offset += (n - 1) * span;
    span *= std::max<std::int64_t>(1, n * (s < 0 ? 1 : 2));
  }
  OutBuffer b;
  b.bytes.assign(static_cast<std::size_t>(span * dtype_size(t) + 16), OutBuffer::kSentinel);
  b.view = Array::view(b.bytes.data() + offset * dtype_size(t), t, shape, strides);
  return b;
}

class Runner {
public:
  Context ctx;

  /// Runs `script` both ways on `inst`; returns the first difference. `graph` is the front
  /// end's graph of `script`; `prog` the compiled program; `run_style` 0/1 = run(), 2/3 =
  /// run_into a strided / reversed output.
  Outcome run_once(const Program &p, const ir::Graph &graph, const xpr::Program &prog,
                   const Instance &inst, int run_style) {
    Outcome o;
    std::map<std::string, Array> contiguous;
    Inputs views;
    for (const auto &[name, d] : inst.inputs) {
      contiguous.emplace(name, d.contiguous);
      views.emplace(name, d.view);
    }
    // The oracle.
    std::vector<Array> ref;
    std::optional<Error> ref_err;
    try {
      ref = ir::interpret(graph, contiguous, inst.params);
    } catch (const Error &e) {
      ref_err = e;
    }
    // The JIT.
    Array jit;
    std::optional<Error> jit_err;
    std::optional<OutBuffer> out;
    try {
      if (run_style < 2 || ref_err || ref.size() != 1) {
        Outputs r = prog.run(views, inst.params);
        jit = r.at("r");
      } else {
        out = make_out_buffer(ref[0].dtype(), ref[0].shape(), run_style - 2);
        prog.run_into(views, {{"r", out->view}}, inst.params);
        jit = out->view;
      }
    } catch (const Error &e) {
      jit_err = e;
    }
    if (ref_err || jit_err) {
      if (ref_err && jit_err && ref_err->kind() == jit_err->kind()) return o; // both refuse alike
      o.mismatch = true;
      o.detail = fmt::format("interpreter: {}\nJIT: {}\n",
                             ref_err ? ref_err->what() : std::string("ok"),
                             jit_err ? jit_err->what() : std::string("ok"));
      return o;
    }
    const Array &want = ref.at(0);
    if (jit.dtype() != want.dtype() || jit.shape() != want.shape()) {
      o.mismatch = true;
      o.detail = fmt::format("result type differs: interpreter {}[{}], JIT {}[{}]\n",
                             dtype_name(want.dtype()), fmt::join(want.shape(), ", "),
                             dtype_name(jit.dtype()), fmt::join(jit.shape(), ", "));
      return o;
    }
    const DType t = want.dtype();
    const std::int64_t n = want.size();
    DType compute = p.tol.fn_compute;
    if (is_float(t) && dtype_size(t) < dtype_size(compute)) compute = t; // f16/bf16/f32 output
    const double abs_tol = p.tol.abs_eps * epsilon(p.tol.fn_compute);
    std::int64_t bad = 0, first = -1;
    std::uint64_t worst = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint64_t a = load_bits(jit.data(), t, offset_of(i, jit.shape(), jit.strides()));
      std::uint64_t b = load_bits(want.data(), t, i);
      bool ok = p.tol.exact || !is_float(t) ? exact_equal(t, a, b)
                                            : close_enough(t, a, b, compute, p.tol.ulps, abs_tol);
      if (!ok) {
        if (first < 0) first = i;
        ++bad;
        if (is_float(t)) worst = std::max(worst, ulp_distance(t, a, b));
      }
    }
    if (out) { // nothing outside the output's elements may have been written
      std::vector<bool> covered(out->bytes.size(), false);
      const auto *base = static_cast<const unsigned char *>(out->view.data());
      for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t off = offset_of(i, want.shape(), out->view.strides()) * dtype_size(t);
        for (int k = 0; k < dtype_size(t); ++k)
          covered[static_cast<std::size_t>(base - out->bytes.data() + off + k)] = true;
      }
      for (std::size_t k = 0; k < out->bytes.size(); ++k)
        if (!covered[k] && out->bytes[k] != OutBuffer::kSentinel) {
          o.mismatch = true;
          o.detail += fmt::format("run_into wrote outside the output's elements (byte {})\n", k);
          break;
        }
    }
    if (first >= 0) {
      o.mismatch = true;
      std::uint64_t a = load_bits(jit.data(), t, offset_of(first, jit.shape(), jit.strides()));
      std::uint64_t b = load_bits(want.data(), t, first);
      std::vector<std::int64_t> idx = unravel(first, want.shape());
      o.detail += fmt::format("{} of {} elements differ; first at [{}]:\n  JIT         {}\n  interpreter {}\n",
                              bad, n, fmt::join(idx, ", "), format_bits(t, a), format_bits(t, b));
      if (is_float(t))
        o.detail += fmt::format("  ulp distance {} (worst {}); allowed: {}\n", ulp_distance(t, a, b),
                                worst, p.tol.exact ? "exact" : p.tol.why);
      else
        o.detail += fmt::format("  integer difference {}; allowed: exact\n",
                                static_cast<std::int64_t>(a - b));
      // The inputs at that element (broadcasting: a size-1 dim reads index 0).
      const int rout = static_cast<int>(idx.size());
      for (const auto &[name, d] : inst.inputs) {
        const Array &c = d.contiguous;
        const int r = c.rank();
        std::int64_t flat = 0;
        for (int k = 0; k < r; ++k) {
          int ok = rout - r + k;
          std::int64_t ix = ok >= 0 && c.shape()[static_cast<std::size_t>(k)] != 1 ? idx[static_cast<std::size_t>(ok)] : 0;
          flat = flat * c.shape()[static_cast<std::size_t>(k)] + ix;
        }
        if (c.size() > 0)
          o.detail += fmt::format("  input {} = {}\n", name, format_bits(c.dtype(), load_bits(c.data(), c.dtype(), flat)));
      }
    }
    return o;
  }
};

/// What happened to one program.
enum class Fate { Compared, RejectedType, GeneratorBug };

struct Stats {
  std::int64_t cases = 0, compared = 0, rejected = 0, mismatches = 0, elements = 0;
  std::int64_t programs = 0, exact_programs = 0;
  std::vector<std::string> rejection_samples;
};

/// Compiles `p` with the front end and the JIT; runs instance `j` of it. Returns the mismatch
/// text, or nullopt when everything agreed. Throws nothing.
struct Checked {
  Fate fate = Fate::Compared;
  std::string message; // sema's message, or a generator bug
  std::vector<Outcome> outcomes;
  std::vector<std::string> instance_text;
  std::int64_t elements = 0;
};

Checked check_program(Runner &runner, const Program &p, const std::vector<Instance> &insts) {
  Checked c;
  const std::string text = p.script();
  ir::Graph graph;
  try {
    SourceFile src("<diff>", text);
    graph = fe::compile_script(src);
  } catch (const Error &e) {
    c.fate = e.kind() == ErrorKind::Type ? Fate::RejectedType : Fate::GeneratorBug;
    c.message = e.what();
    return c;
  }
  xpr::Program prog;
  try {
    prog = runner.ctx.compile(text, "<diff>");
  } catch (const Error &e) {
    Outcome o;
    o.mismatch = true;
    o.detail = fmt::format("the front end accepts the script but Context::compile throws:\n{}\n", e.what());
    c.outcomes.assign(insts.size(), o);
    for (const Instance &inst : insts) c.instance_text.push_back(inst.describe(p));
    return c;
  }
  if (prog.emit(Stage::Ir) != ir::print(graph)) {
    Outcome o;
    o.mismatch = true;
    o.detail = "Program::emit(Ir) differs from the front end's graph of the same text\n";
    c.outcomes.push_back(o);
    c.instance_text.push_back("");
    return c;
  }
  for (std::size_t j = 0; j < insts.size(); ++j) {
    c.outcomes.push_back(runner.run_once(p, graph, prog, insts[j], static_cast<int>(j)));
    c.instance_text.push_back(insts[j].describe(p));
    for (const auto &[name, d] : insts[j].inputs) c.elements += d.view.size();
  }
  return c;
}

std::vector<Instance> make_instances(const Program &p) {
  std::vector<Instance> v;
  for (int j = 0; j < kRunsPerProgram; ++j)
    v.push_back(make_instance(p, mix(p.seed + 1000003ull * static_cast<std::uint64_t>(j + 1)), j >= 2));
  return v;
}

/// Shrinks a failing program: replaces a node by one of its operands while the failure stays
/// (same inputs: extra names are ignored by both sides). Greedy, to a fixpoint.
Program shrink(Runner &runner, Program p, const Instance &inst, int run_style) {
  auto fails = [&](const Program &q) {
    ir::Graph graph;
    try {
      SourceFile src("<diff>", q.script());
      graph = fe::compile_script(src);
      xpr::Program prog = runner.ctx.compile(q.script(), "<diff>");
      return runner.run_once(q, graph, prog, inst, run_style).mismatch;
    } catch (const Error &) {
      return false; // a rejected or uncompilable shrink is not the same failure
    }
  };
  // All nodes in preorder, as paths of child indices.
  std::function<void(const GNode &, std::vector<int> &, std::vector<std::vector<int>> &)> paths =
      [&](const GNode &n, std::vector<int> &cur, std::vector<std::vector<int>> &out) {
        out.push_back(cur);
        for (std::size_t i = 0; i < n.kids.size(); ++i) {
          cur.push_back(static_cast<int>(i));
          paths(n.kids[i], cur, out);
          cur.pop_back();
        }
      };
  auto at = [](GNode &root, const std::vector<int> &path) -> GNode & {
    GNode *n = &root;
    for (int i : path) n = &n->kids[static_cast<std::size_t>(i)];
    return *n;
  };
  for (int round = 0; round < 100; ++round) {
    std::vector<std::vector<int>> all;
    std::vector<int> cur;
    paths(p.root, cur, all);
    bool progress = false;
    for (const auto &path : all) {
      GNode &n = at(p.root, path);
      for (std::size_t k = 0; k < n.kids.size() && !progress; ++k) {
        if (n.kids[k].kind == GNode::Kind::Lit) continue;
        Program q = p;
        GNode &m = at(q.root, path);
        GNode kid = m.kids[k];
        m = kid;
        if (fails(q)) {
          p = std::move(q);
          progress = true;
        }
      }
      if (progress) break;
    }
    if (!progress) break;
  }
  return p;
}

TEST(Differential, RandomProgramsJitVsInterpreter) {
  const std::uint64_t n_cases = env_u64("XPR_DIFF_CASES", 2000);
  const std::uint64_t master = env_u64("XPR_DIFF_SEED", 0x5eed2024);
  const std::uint64_t only = env_u64("XPR_DIFF_PROGRAM", 0); // one program seed, to reproduce
  const std::uint64_t n_programs = only ? 1 : (n_cases + kRunsPerProgram - 1) / kRunsPerProgram;
  Runner runner;
  Stats st;
  int reported = 0;
  const int max_detailed = static_cast<int>(env_u64("XPR_DIFF_REPORT", 5));
  const int max_shrunk = 50;
  std::vector<std::string> summaries;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n_programs; ++i) {
    const std::uint64_t seed = only ? only : mix(master ^ (i * 0x100000001b3ull));
    Program p = generate_program(seed);
    std::vector<Instance> insts = make_instances(p);
    Checked c = check_program(runner, p, insts);
    ++st.programs;
    st.cases += kRunsPerProgram;
    if (c.fate == Fate::RejectedType) {
      st.rejected += kRunsPerProgram;
      if (st.rejection_samples.size() < 5)
        st.rejection_samples.push_back(p.script() + c.message);
      continue;
    }
    if (c.fate == Fate::GeneratorBug) {
      ADD_FAILURE() << "the front end rejects a generated program with a non-type error "
                       "(a generator bug); program seed "
                    << fmt::format("{:#x}", seed) << "\n" << p.script() << c.message;
      continue;
    }
    st.exact_programs += p.tol.exact;
    st.elements += c.elements;
    std::optional<std::size_t> first_bad;
    for (std::size_t j = 0; j < c.outcomes.size(); ++j) {
      ++st.compared;
      if (!c.outcomes[j].mismatch) continue;
      ++st.mismatches;
      if (!first_bad) first_bad = j;
    }
    if (!first_bad) continue;
    // One report per failing program: its first failing run, shrunk. Full detail for the first
    // few programs, one line (seed and shrunk expression) for the next ones.
    ++reported;
    if (reported > max_shrunk) continue;
    const std::size_t j = *first_bad;
    const Outcome &o = c.outcomes[j];
    Program small = shrink(runner, p, insts[j], static_cast<int>(j));
    Outcome so;
    try {
      SourceFile src("<diff>", small.script());
      so = runner.run_once(small, fe::compile_script(src), runner.ctx.compile(small.script(), "<diff>"),
                           insts[j], static_cast<int>(j));
    } catch (const Error &e) {
      so.mismatch = true;
      so.detail = e.what();
    }
    std::string shrunk_expr = small.script().substr(small.script().rfind("output r = ") + 11);
    if (!shrunk_expr.empty() && shrunk_expr.back() == '\n') shrunk_expr.pop_back();
    summaries.push_back(fmt::format("  seed {:#x} run {}: {}", seed, j, shrunk_expr));
    if (reported > max_detailed) continue;
    ADD_FAILURE() << fmt::format(
        "differential mismatch, program seed {:#x}, run {} ({})\n"
        "reproduce: XPR_DIFF_PROGRAM={:#x} {}\n"
        "--- script\n{}--- inputs\n{}--- result\n{}"
        "--- shrunk script (same inputs)\n{}--- shrunk result\n{}",
        seed, j, j < 2 ? "run()" : j == 2 ? "run_into, strided output" : "run_into, reversed output",
        seed, "tests/differential/differential_test", p.script(), c.instance_text[j], o.detail,
        small.script(), so.mismatch ? so.detail : std::string("(the shrunk program passes)\n"));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string line = fmt::format("differential: {} cases, {} compared, {} rejected by sema, {} mismatches",
                                 st.cases, st.compared, st.rejected, st.mismatches);
  fmt::print("{}\n", line);
  fmt::print("  ({} programs, {} exact / {} with tolerances, {} input elements, {:.1f} s, seed {:#x})\n",
             st.programs, st.exact_programs, st.programs - st.rejected / kRunsPerProgram - st.exact_programs,
             st.elements, secs, master);
  if (!summaries.empty())
    fmt::print("failing programs ({} of {}; shrunk, on the inputs of their first failing run):\n{}\n",
               summaries.size(), reported, fmt::join(summaries, "\n"));
  for (const std::string &s : st.rejection_samples) fmt::print("  sample rejection:\n{}\n", s);
  RecordProperty("summary", line);
  EXPECT_EQ(st.mismatches, 0);
  // The generator must stay type-correct by construction; a high rate means it drifted from sema.
  EXPECT_LT(static_cast<double>(st.rejected), 0.2 * static_cast<double>(st.cases)) << line;
}

} // namespace
} // namespace xpr::diff
