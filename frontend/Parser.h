// frontend/Parser.h — the recursive-descent parser: tokens to AST, with error recovery per line.
// parse_module() itself is declared in frontend/Frontend.h (and defined in Parser.cpp).
#pragma once

#include "frontend/AST.h"
#include "frontend/Frontend.h"

#include <string>
#include <utility>
#include <vector>

namespace xpr::fe {

/// One declaration `name: type` of a declaration list, with where its name is.
struct DeclSyntax {
  std::string name;
  SourceRange name_range;
  TypeDecl type;
};

/// Parses a declaration list for the driver's --decl and the REPL's :type:
///   `a: f32[n], b: f64[n, 3], s: f32`
/// Declarations are separated by ',' or line breaks (a trailing ',' is fine); an empty text
/// is an empty list. Types are as for `input` (`DTYPE`, `DTYPE[]`, `DTYPE[DIM, ...]`).
/// Duplicate names are not checked here (sema reports them, with both places).
/// Throws xpr::Error (Syntax, or Limit) on the first error.
std::vector<DeclSyntax> parse_decl_list_ranged(const SourceFile &src, const Limits &limits = {});
std::vector<std::pair<std::string, TypeDecl>> parse_decl_list(const SourceFile &src,
                                                              const Limits &limits = {});

} // namespace xpr::fe
