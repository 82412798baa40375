// compiler/ir/Bind.cpp — run-time checks of input arrays against the graph's input types.
#include "compiler/ir/Bind.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <limits>

namespace xpr::ir {

namespace {
std::string shape_str(const std::vector<std::int64_t> &s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += std::to_string(s[i]);
  }
  return r + "]";
}
std::string array_str(const Array &a) {
  return std::string(dtype_name(a.dtype())) + shape_str(a.shape());
}

/// The input that fixed symbol `sym`'s size: the first with a dimension named `sym`.
/// Looked up only for an error: bind_shapes runs on every call and keeps no record of it.
const std::string &set_by(const Graph &g, const std::string &sym) {
  for (const Node &n : g.nodes)
    if (n.op == Op::Input)
      for (const Dim &d : n.type.dims)
        if (d.is_symbolic() && d.sym == sym) return n.name;
  static const std::string none = "?";
  return none;
}
} // namespace

SymbolSizes bind_shapes(const Graph &g, const std::map<std::string, Array> &inputs) {
  SymbolSizes syms;
  // Input nodes in graph order (Graph::inputs() without its vector): this runs on every call,
  // so nothing is formatted or copied unless it throws.
  for (const Node &n : g.nodes) {
    if (n.op != Op::Input) continue;
    const auto type = [&n] { return to_string(n.type); };
    auto it = inputs.find(n.name);
    if (it == inputs.end())
      throw Error(ErrorKind::Runtime,
                  fmt::format("missing input '{}' (expected {})", n.name, type()));
    const Array &a = it->second;
    if (a.dtype() != n.type.dtype)
      throw Error(ErrorKind::Runtime, fmt::format("input '{}': expected dtype {} ({}), got {} ({})",
                                                  n.name, dtype_name(n.type.dtype), type(),
                                                  dtype_name(a.dtype()), array_str(a)));
    if (a.rank() != n.type.rank())
      throw Error(ErrorKind::Runtime,
                  fmt::format("input '{}': expected rank {} ({}), got rank {} ({})", n.name,
                              n.type.rank(), type(), a.rank(), array_str(a)));
    if (!a.valid())
      throw Error(ErrorKind::Runtime, fmt::format("input '{}': the array has no data", n.name));
    std::int64_t count = 1;
    for (int d = 0; d < a.rank(); ++d) {
      const Dim &dim = n.type.dims[static_cast<std::size_t>(d)];
      const std::int64_t got = a.shape()[static_cast<std::size_t>(d)];
      if (got < 0)
        throw Error(ErrorKind::Runtime,
                    fmt::format("input '{}': dimension {} is negative ({})", n.name, d, got));
      if (!dim.is_symbolic()) {
        if (got != dim.size)
          throw Error(ErrorKind::Runtime,
                      fmt::format("input '{}': dimension {} must be {} ({}), got {} ({})", n.name,
                                  d, dim.size, type(), got, array_str(a)));
      } else {
        auto [sit, fresh] = syms.emplace(dim.sym, got);
        if (!fresh && sit->second != got)
          throw Error(ErrorKind::Runtime,
                      fmt::format("input '{}': dimension {} is {} = {}, but '{}' set {} = {}",
                                  n.name, d, dim.sym, got, set_by(g, dim.sym), dim.sym,
                                  sit->second));
      }
      if (got != 0 && count > std::numeric_limits<std::int64_t>::max() / got)
        throw Error(ErrorKind::Runtime, fmt::format("input '{}': shape {} has too many elements",
                                                    n.name, shape_str(a.shape())));
      count *= got;
    }
  }
  return syms;
}

std::vector<std::int64_t> concrete_shape(const Type &t, const SymbolSizes &syms) {
  std::vector<std::int64_t> s;
  s.reserve(t.dims.size());
  for (const Dim &d : t.dims) {
    if (!d.is_symbolic()) {
      s.push_back(d.size);
      continue;
    }
    auto it = syms.find(d.sym);
    if (it == syms.end())
      throw Error(ErrorKind::Internal,
                  fmt::format("symbol '{}' of type {} is bound by no input", d.sym, to_string(t)));
    s.push_back(it->second);
  }
  return s;
}

} // namespace xpr::ir
