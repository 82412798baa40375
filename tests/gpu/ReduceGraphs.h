// tests/gpu/ReduceGraphs.h — the map graph the PTX tests reduce: one input `x: dt[r, n]`, its
// value the map's one output (PtxTest.cpp's reduce corpus, PtxSimTest.cpp's schedules).
#pragma once

#include "compiler/ir/Graph.h"

namespace xpr::cg::testing {

inline ir::Graph row_input_map(DType dt) {
  ir::Graph map;
  ir::Node in;
  in.op = ir::Op::Input;
  in.name = "x";
  in.type = ir::Type{dt, {ir::Dim::symbol("r"), ir::Dim::symbol("n")}};
  map.outputs.push_back(ir::Output{"out0", map.add(std::move(in))});
  return map;
}

} // namespace xpr::cg::testing
