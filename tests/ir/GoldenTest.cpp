// tests/ir/GoldenTest.cpp — golden-file harness: every tests/ir/golden/NAME.ir is parsed,
// verified and printed, and the print must equal NAME.expected byte for byte.
//
// Why: later passes (constant folding, CSE, fusion...) are tested by feeding IR text and
// stating the IR that must come out, as MLIR's FileCheck tests do; this harness is the
// identity "pass" and the place such tests plug in. It also pins the canonical spelling of the
// textual form (comments and odd spacing in the .ir vanish, outputs move to the end).
//
// To add a golden test:
//   1. write tests/ir/golden/NAME.ir (any valid IR text; `#` comments are welcome and should
//      say what the case is about);
//   2. create the expected file by running the test once with XPR_UPDATE_GOLDEN=1:
//        XPR_UPDATE_GOLDEN=1 build-ir/tests/ir/xpr_ir_tests --gtest_filter='IRGolden.*'
//   3. read NAME.expected and check it is what you meant before committing it.
// The test is discovered from the directory, so no CMake or C++ edit is needed. A file whose
// IR must be *rejected* belongs in ParserTest/VerifierTest instead (exact diagnostics there).
#include "IRTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace xpr::ir::test {
namespace {

namespace fs = std::filesystem;

/// Path of a file in tests/ir/golden (the source tree, so updates land where git sees them).
std::string ir_golden_path(const std::string &file) {
  return std::string(XPR_TEST_DATA_DIR) + "/golden/" + file;
}

std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<fs::path> golden_inputs() {
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(ir_golden_path("")))
    if (e.path().extension() == ".ir") files.push_back(e.path());
  std::sort(files.begin(), files.end()); // a stable order for readable failures
  return files;
}

TEST(IRGolden, EachFileMatchesItsExpectedPrint) {
  auto files = golden_inputs();
  ASSERT_FALSE(files.empty()) << "no .ir files in " << ir_golden_path("");
  bool update = std::getenv("XPR_UPDATE_GOLDEN") != nullptr;
  for (const fs::path &in : files) {
    SCOPED_TRACE(in.filename().string());
    Graph g;
    // The file name is the diagnostic's file name, so a broken golden says where it is.
    ASSERT_NO_THROW(g = parse(slurp(in), in.filename().string()));
    ASSERT_NO_THROW(verify(g));
    std::string got = print(g);
    fs::path expected = in;
    expected.replace_extension(".expected");
    if (update) std::ofstream(expected, std::ios::binary) << got;
    ASSERT_TRUE(fs::exists(expected)) << "missing " << expected << " (see the comment at the "
                                      << "top of GoldenTest.cpp)";
    EXPECT_EQ(got, slurp(expected));
    // The expected text is canonical: it parses and prints to itself.
    EXPECT_EQ(print(parse(slurp(expected))), slurp(expected));
  }
}

TEST(IRGolden, NoOrphanExpectedFiles) {
  // A .expected without its .ir would silently test nothing.
  for (const auto &e : fs::directory_iterator(ir_golden_path(""))) {
    if (e.path().extension() != ".expected") continue;
    fs::path in = e.path();
    in.replace_extension(".ir");
    EXPECT_TRUE(fs::exists(in)) << e.path() << " has no .ir beside it";
  }
}

} // namespace
} // namespace xpr::ir::test
