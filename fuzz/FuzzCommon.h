// fuzz/FuzzCommon.h — what every harness checks about an xpr::Error, and how a finding aborts.
#pragma once

#include <xpr/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace xpr::fuzz {

/// A finding: print why and abort, so libFuzzer saves the input as a crash.
[[noreturn]] inline void finding(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n*** xpr fuzz finding: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// A user-facing error must be a user error (Internal means "our bug"), must say something,
/// and must never echo raw control bytes of hostile input (Source.h renders them as '?').
inline void check_user_error(const Error &e, std::string_view stage) {
  if (e.kind() == ErrorKind::Internal) finding("internal error from user input", e.what());
  if (e.message().empty()) finding("error with an empty message", stage);
  std::string_view w = e.what();
  for (char c : w) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f)
      finding("raw control byte in a diagnostic", w);
  }
}

} // namespace xpr::fuzz
