// frontend/Sema.h — semantic analysis: resolves names, infers dtypes and shapes, and lowers a
// parsed Module to Graph IR. The last place a user error is raised.
#pragma once

#include "frontend/Frontend.h"

#include <xpr/array.hpp> // kMaxRank

namespace xpr::fe {

/// Lowers a script (inputs, params, lets, outputs). Throws xpr::Error carrying every diagnostic
/// found (at most one per statement; a failed `let` binds a poisoned value so its uses stay
/// quiet). The graph is not yet verified.
ir::Graph lower_script(const Module &m, const SourceFile &src, const Limits &limits = {});

/// Lowers the expression form: free names resolve to `decls` (only those used become Input
/// nodes, in `decls` order); the graph has one output named "result".
ir::Graph lower_expression(const Module &m, const SourceFile &src, const std::vector<Decl> &decls,
                           const Limits &limits = {});

/// Damerau (optimal string alignment) edit distance, for "did you mean" suggestions.
int edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `name` if it is close enough to be a plausible typo, else "".
std::string closest_name(std::string_view name, const std::vector<std::string> &candidates);

} // namespace xpr::fe
