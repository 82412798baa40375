// compiler/ir/Bind.h — binds a graph's symbolic dims to the shapes of the arrays given at run time.
// Shared by the interpreter and the JIT runtime, so both reject the same calls with the same words.
#pragma once

#include "compiler/ir/Graph.h"

#include <xpr/array.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace xpr::ir {

using SymbolSizes = std::map<std::string, std::int64_t>;

/// Checks every Input of `g` against `inputs` by name: present, dtype equal, rank equal, fixed
/// dims equal, each symbol the same size in every input (and element counts representable).
/// Returns the size of every symbol. Arrays in `inputs` that the graph does not name are ignored,
/// so one map of arrays can feed several programs. Throws Error(Runtime) naming the input, what
/// was expected and what was given, e.g. "input 'b': dimension 0 is n = 7, but 'a' set n = 5".
SymbolSizes bind_shapes(const Graph &g, const std::map<std::string, Array> &inputs);

/// The concrete extents of `t` under `syms`. A symbol that `syms` lacks is our bug:
/// Error(Internal).
std::vector<std::int64_t> concrete_shape(const Type &t, const SymbolSizes &syms);

} // namespace xpr::ir
