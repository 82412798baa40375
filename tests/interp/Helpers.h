// tests/interp/Helpers.h — building small graphs by hand and reading arrays, for interpreter tests.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ir/Interpreter.h"

#include <xpr/array.hpp>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace xpr::test {

inline ir::Type type(DType t, std::initializer_list<ir::Dim> dims = {}) {
  return ir::Type{t, dims};
}
inline ir::Dim D(std::int64_t n) { return ir::Dim::fixed(n); }
inline ir::Dim S(const char *s) { return ir::Dim::symbol(s); }

inline ir::ValueId input(ir::Graph &g, const std::string &name, ir::Type t) {
  ir::Node n;
  n.op = ir::Op::Input;
  n.name = name;
  n.type = std::move(t);
  return g.add(std::move(n));
}
inline ir::ValueId param(ir::Graph &g, const std::string &name, DType t) {
  ir::Node n;
  n.op = ir::Op::Param;
  n.name = name;
  n.type = type(t);
  return g.add(std::move(n));
}
inline ir::ValueId op(ir::Graph &g, ir::Op o, ir::Type t, std::vector<ir::ValueId> operands) {
  ir::Node n;
  n.op = o;
  n.type = std::move(t);
  n.operands = std::move(operands);
  return g.add(std::move(n));
}
inline ir::ValueId reduce(ir::Graph &g, ir::Op o, ir::Type t, ir::ValueId x, std::vector<int> axes,
                          bool keepdims = false) {
  ir::Node n;
  n.op = o;
  n.type = std::move(t);
  n.operands = {x};
  n.axes = std::move(axes);
  n.keepdims = keepdims;
  return g.add(std::move(n));
}
inline ir::ValueId cnst_f(ir::Graph &g, DType t, double v) {
  ir::Node n;
  n.op = ir::Op::Const;
  n.type = type(t);
  n.value.dtype = t;
  n.value.f = v;
  return g.add(std::move(n));
}
inline ir::ValueId cnst_i(ir::Graph &g, DType t, std::int64_t v) {
  ir::Node n;
  n.op = ir::Op::Const;
  n.type = type(t);
  n.value.dtype = t;
  n.value.i = v;
  return g.add(std::move(n));
}
inline void output(ir::Graph &g, ir::ValueId v, std::string name = "y") {
  g.outputs.push_back(ir::Output{std::move(name), v});
}

/// A contiguous array holding `vals`.
template <class T>
Array make(DType t, std::vector<std::int64_t> shape, const std::vector<T> &vals) {
  Array a = Array::empty(t, shape);
  if (!vals.empty()) std::memcpy(a.data(), vals.data(), vals.size() * sizeof(T));
  return a;
}

template <class T> std::vector<T> values(const Array &a) {
  std::vector<T> v(static_cast<std::size_t>(a.size()));
  if (!v.empty()) std::memcpy(v.data(), a.data(), v.size() * sizeof(T));
  return v;
}

} // namespace xpr::test
