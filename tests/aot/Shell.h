// tests/aot/Shell.h — runs a shell command for the AOT tests (xprc, cc, the built programs).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace xpr::aottest {

/// Runs `cmd` with stderr folded into stdout; returns its exit status (-1 if it did not exit
/// normally) and its output.
inline std::pair<int, std::string> sh(const std::string &cmd) {
  std::string out;
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

} // namespace xpr::aottest
