// fuzz/fuzz_ir.cpp — the textual Graph IR parser and verifier on arbitrary bytes.
//
// Properties checked:
//  - parse() fails only with a user error (Syntax/Limit), never a crash or another exception;
//  - round trip: when parse(text) succeeds, print(parse(print(g))) == print(g), whether or not
//    the graph verifies (the text form must not depend on validity);
//  - verify() fails only with Error(Internal) (its documented kind) and a message;
//  - a graph that verifies goes through the whole pass pipeline (fold, simplify, CSE, DCE,
//    fusion) with the IR re-verified after each pass: a verified graph is a valid program, so
//    any error there other than a Limit is a bug in a pass.
#include "FuzzCommon.h"

#include "compiler/ir/Graph.h"
#include "compiler/passes/Pipeline.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace xpr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size > (1u << 16)) return -1; // keep executions fast; size limits are tested directly
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  ir::Graph g;
  try {
    g = ir::parse(text, "fuzz.ir");
  } catch (const Error &e) {
    fuzz::check_user_error(e, "ir::parse");
    return 0;
  }
  std::string p1 = ir::print(g);
  ir::Graph g2;
  try {
    g2 = ir::parse(p1, "printed.ir");
  } catch (const Error &e) {
    fuzz::finding("printed IR does not parse again", p1 + "\n--- error ---\n" + e.what());
  }
  std::string p2 = ir::print(g2);
  if (p1 != p2) fuzz::finding("IR print/parse round trip differs", p1 + "\n--- vs ---\n" + p2);

  try {
    ir::verify(g);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::Internal) fuzz::finding("verify threw a non-Internal kind", e.what());
    if (e.message().empty()) fuzz::finding("verify error without a message");
    return 0;
  }
  try {
    passes::PipelineOptions opts;
    opts.verify = true;
    passes::Plan plan = passes::lower_to_plan(g, opts);
    (void)passes::print(plan);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::Limit)
      fuzz::finding("pass pipeline failed on a verified graph", p1 + "\n--- error ---\n" + e.what());
  }
  return 0;
}
