// frontend/Frontend.cpp — the front end's entry points: parse, lower (sema), verify.
#include "frontend/Frontend.h"

#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <fmt/format.h>

#include <unordered_map>

namespace xpr::fe {

namespace {

/// Sema reports every user error; a graph it accepts that the verifier rejects is our bug, and
/// verify() says so with Error(Internal).
ir::Graph checked(ir::Graph g) {
  ir::verify(g);
  return g;
}

} // namespace

std::vector<Decl> parse_decls(const SourceFile &src) {
  std::vector<DeclSyntax> syn = parse_decl_list_ranged(src);
  Diagnostics diags(src);
  std::unordered_map<std::string, SourceRange> seen;
  std::vector<Decl> out;
  for (const DeclSyntax &d : syn) {
    if (auto it = seen.find(d.name); it != seen.end()) {
      Diagnostic &e = diags.error(ErrorKind::Name, d.name_range,
                                  fmt::format("'{}' is already declared", d.name));
      e.notes.push_back(Note{it->second, true, "previously declared here"});
      continue;
    }
    seen.emplace(d.name, d.name_range);
    if (d.type.dims.size() > static_cast<std::size_t>(kMaxRank)) {
      diags.error(ErrorKind::Limit, d.type.range,
                  fmt::format("rank {} is more than the limit of {} dimensions", d.type.dims.size(),
                              kMaxRank));
      continue;
    }
    Decl decl{d.name, ir::Type{d.type.dtype, {}}};
    for (const DimDecl &dim : d.type.dims)
      decl.type.dims.push_back(dim.size ? ir::Dim::fixed(*dim.size) : ir::Dim::symbol(dim.symbol));
    out.push_back(std::move(decl));
  }
  diags.check();
  return out;
}

ir::Graph compile_expression(const SourceFile &src, const std::vector<Decl> &decls,
                             const Limits &limits) {
  Module m = parse_module(src, /*expression_form=*/true, limits);
  return checked(lower_expression(m, src, decls, limits));
}

ir::Graph compile_script(const SourceFile &src, const Limits &limits) {
  Module m = parse_module(src, /*expression_form=*/false, limits);
  return checked(lower_script(m, src, limits));
}

} // namespace xpr::fe
