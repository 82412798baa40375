// frontend/Frontend.h — the front end's entry points: text in, verified Graph IR out.
// Every user error (syntax, names, dtypes, shapes, limits) is raised here, as xpr::Error with
// a rendered caret diagnostic; anything that fails after this point is an internal error.
#pragma once

#include "compiler/ir/Graph.h"
#include "frontend/AST.h"

#include <string>
#include <string_view>
#include <vector>

namespace xpr::fe {

/// A free name of the expression form, as bound by the caller (`a: f32[n]`).
struct Decl {
  std::string name;
  ir::Type type;
};

/// Limits on hostile input (docs/language.md states them). Exceeding one is Error(Limit).
struct Limits {
  std::size_t max_source_bytes = 16u << 20; // 16 MiB
  int max_nesting = 256;                    // parenthesis / call / unary nesting depth
  std::size_t max_nodes = 1'000'000;        // AST nodes
  /// Height of one expression's syntax tree, where each operator of a flat chain `a+b+c...`
  /// adds a level. Bounds the recursion of every pass that walks the AST (sema, dump, the
  /// AST's own destructor), which max_nesting alone does not: flat chains parse in a loop.
  int max_depth = 2048;
};

/// Parses either form; `expression_form` selects which grammar is expected.
Module parse_module(const SourceFile &src, bool expression_form, const Limits &limits = {});

/// Parses declarations `a: f32[n], b: f64[n, 3]` (driver's --decl, REPL's :type).
std::vector<Decl> parse_decls(const SourceFile &src);

/// Expression form: free names resolve to `decls`; the graph has one output named "result".
ir::Graph compile_expression(const SourceFile &src, const std::vector<Decl> &decls,
                             const Limits &limits = {});
/// Script form: inputs, params, lets and outputs.
ir::Graph compile_script(const SourceFile &src, const Limits &limits = {});

} // namespace xpr::fe
