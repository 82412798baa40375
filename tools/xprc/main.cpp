// tools/xprc/main.cpp — xprc, the ahead-of-time compiler: a script to an object file and a C
// header (or a static library with libxpr_rt inside), or any stage of the --emit ladder.
// Exit codes: 0 ok, 1 user error (including scripts AOT does not support), 2 usage error,
// 3 internal error.
#include "support/Source.h"
#include "tools/xpr/Emit.h"
#include "compiler/codegen/GpuJit.h"
#include "tools/xprc/Aot.h"

#include <xpr/error.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace {

enum ExitCode { kOk = 0, kUserError = 1, kUsageError = 2, kInternalError = 3 };

int report(const xpr::Error &e) {
  std::string text = e.what();
  if (e.kind() == xpr::ErrorKind::Internal) {
    std::cerr << "xprc: internal error: " << text
              << "\nnote: this is a bug in xpr; please report it\n";
    return kInternalError;
  }
  if (text.find("error:") == std::string::npos) text = "error: " + text;
  std::cerr << text << '\n';
  return kUserError;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw xpr::Error(xpr::ErrorKind::Runtime, fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes through a temporary file and a rename, so a failed run never leaves half a file that
/// a build system would take as up to date.
void write_file(const std::string &path, const std::string &bytes) {
  const std::string tmp = fmt::format("{}.tmp{}", path, getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw xpr::Error(xpr::ErrorKind::Runtime, fmt::format("cannot write '{}'", path));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw xpr::Error(xpr::ErrorKind::Runtime, fmt::format("cannot write '{}'", path));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw xpr::Error(xpr::ErrorKind::Runtime, fmt::format("cannot write '{}'", path));
  }
}

std::string shell_quote(const std::string &s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// An archive holding the object and libxpr_rt's members (through `ar -M`, which GNU ar and
/// llvm-ar both read), so a user links one file.
void write_static_lib(const std::string &path, const std::string &object, const std::string &name,
                      const std::string &rt_lib, const std::string &ar) {
  namespace fs = std::filesystem;
  if (!fs::exists(rt_lib))
    throw xpr::Error(xpr::ErrorKind::Runtime,
                     fmt::format("--static-lib: libxpr_rt not found at '{}' (give --rt-lib PATH)", rt_lib));
  char tmpl[] = "/tmp/xprc-XXXXXX";
  if (!mkdtemp(tmpl)) throw xpr::Error(xpr::ErrorKind::Runtime, "cannot create a temporary directory");
  const fs::path dir = tmpl;
  const std::string obj = (dir / (name + ".o")).string();
  const std::string tmp_lib = (dir / "out.a").string();
  write_file(obj, object);
  // MRI scripts take names unquoted: keep every path free of spaces by working in `dir`.
  fs::copy_file(rt_lib, dir / "libxpr_rt.a");
  write_file((dir / "lib.mri").string(),
             "create out.a\naddlib libxpr_rt.a\naddmod " + name + ".o\nsave\nend\n");
  const std::string cmd = fmt::format("cd {} && {} -M < lib.mri", shell_quote(dir.string()), shell_quote(ar));
  const int rc = std::system(cmd.c_str());
  std::error_code ec;
  if (rc != 0) {
    fs::remove_all(dir, ec);
    throw xpr::Error(xpr::ErrorKind::Runtime,
                     fmt::format("--static-lib: '{} -M' failed (exit status {})", ar, rc));
  }
  write_file(path, read_file(tmp_lib));
  fs::remove_all(dir, ec);
}

std::string default_name(const std::string &file) {
  std::string stem = std::filesystem::path(file).stem().string(), n;
  for (char c : stem) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) n = "xpr_" + n;
  return n;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"xprc: compiles an xpr script ahead of time into an object file and a C header.\n"
               "  xprc SCRIPT.xpr -o NAME.o --header NAME.h [--name NAME] [--target CPU|cuda:sm_XX]\n"
               "  xprc SCRIPT.xpr --static-lib libNAME.a --header NAME.h   (libxpr_rt inside)\n"
               "  xprc SCRIPT.xpr --emit=STAGE                            (print a stage)\n"
               "Link: cc main.c NAME.o -lxpr_rt -lsleef -lm -lpthread (docs/aot.md)",
               "xprc"};
  std::string file, out_obj, out_header, out_lib, name, target = "host", precision = "accurate",
                                                      emit = "obj", ptxas;
  bool no_cubin = false;
  std::string rt_lib = XPRC_RT_LIBRARY, ar = XPRC_AR;
  app.add_option("script", file, "the script (.xpr)")->required()->check(CLI::ExistingFile);
  app.add_option("-o,--output", out_obj, "the object file to write");
  app.add_option("--header", out_header, "the C header to write");
  app.add_option("--static-lib", out_lib, "a static library to write: the object and libxpr_rt");
  app.add_option("--name", name, "the C name of the entry point (default: the script's stem)");
  app.add_option("--target", target,
                 "host | x86-64-v2 | x86-64-v3 | x86-64-v4, or several levels separated by "
                 "commas (a multi-versioned object; 'multi' = x86-64-v2,x86-64-v3,x86-64-v4), or "
                 "cuda:sm_XX (an NVIDIA GPU of compute capability X.X or newer; 'cuda' = the "
                 "oldest this LLVM supports)");
  app.add_option("--ptxas", ptxas, "cuda targets: the ptxas that assembles the embedded cubin "
                                   "(default: $XPR_PTXAS, $CUDA_HOME/bin, /usr/local/cuda/bin, PATH)");
  app.add_flag("--no-cubin", no_cubin, "cuda targets: embed the PTX alone (the driver compiles it "
                                       "on first use)");
  app.add_option("--precision", precision, "accurate | fast")
      ->check(CLI::IsMember({"accurate", "fast"}));
  app.add_option("--emit", emit,
                 "obj (default: write the files) | ast ir opt fused mlir mlir-llvm llvm (the JIT's "
                 "view, host) | asm (the object's assembly) | header | driver (LLVM IR of the entry "
                 "points and the plan) | ptx (cuda targets: the embedded PTX)")
      ->check(CLI::IsMember({"obj", "ast", "ir", "opt", "fused", "mlir", "mlir-llvm", "llvm", "asm",
                             "header", "driver", "ptx"}));
  app.add_option("--rt-lib", rt_lib, "libxpr_rt.a for --static-lib")->capture_default_str();
  app.add_option("--ar", ar, "the archiver for --static-lib (GNU ar or llvm-ar)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }
  // --target: one CPU, or a list of x86-64 levels for a multi-versioned object.
  std::vector<std::string> levels;
  int cuda_sm = 0;
  if (target == "multi") target = "x86-64-v2,x86-64-v3,x86-64-v4";
  if (target == "cuda" || target.starts_with("cuda:")) {
    const std::string arch = target == "cuda" ? "" : target.substr(5);
    if (arch.empty()) {
      cuda_sm = xpr::cg::gpu_supported_sms().front();
      target = fmt::format("cuda:sm_{}", cuda_sm);
    } else {
      const bool digits = arch.size() >= 5 && arch.starts_with("sm_") &&
                          std::all_of(arch.begin() + 3, arch.end(),
                                      [](unsigned char c) { return std::isdigit(c); });
      cuda_sm = digits && arch.size() <= 6 ? std::stoi(arch.substr(3)) : 0;
      const auto sms = xpr::cg::gpu_supported_sms();
      if (cuda_sm < sms.front()) {
        std::cerr << fmt::format("xprc: --target '{}': expected cuda:sm_XX with XX the compute "
                                 "capability, at least {} (e.g. cuda:sm_80, cuda:sm_90)\n",
                                 target, sms.front());
        return kUsageError;
      }
    }
  } else if (target.find(',') != std::string::npos) {
    std::stringstream ss(target);
    for (std::string t; std::getline(ss, t, ',');) {
      if (xpr::aot::cpu_level(t) < 2) {
        std::cerr << fmt::format("xprc: --target '{}': a multi-versioned object takes x86-64-v2, "
                                 "x86-64-v3 and x86-64-v4 ('{}' is none of them)\n",
                                 target, t);
        return kUsageError;
      }
      if (std::find(levels.begin(), levels.end(), t) == levels.end()) levels.push_back(t);
    }
    std::sort(levels.begin(), levels.end(), [](const std::string &a, const std::string &b) {
      return xpr::aot::cpu_level(a) < xpr::aot::cpu_level(b);
    });
  } else if (target != "host" && xpr::aot::cpu_level(target) < 2) {
    std::cerr << fmt::format("xprc: --target '{}': expected host, x86-64-v2, x86-64-v3, "
                             "x86-64-v4, a comma-separated list of those levels, or multi\n",
                             target);
    return kUsageError;
  }
  if (name.empty()) name = default_name(file);
  if (!xpr::aot::valid_c_name(name)) {
    std::cerr << fmt::format("xprc: --name '{}' is not a usable C identifier\n", name);
    return kUsageError;
  }
  if (emit == "obj" && out_obj.empty() && out_lib.empty() && out_header.empty()) {
    std::cerr << "xprc: nothing to write: give -o NAME.o, --static-lib NAME.a and/or --header "
                 "NAME.h, or --emit=STAGE\n";
    return kUsageError;
  }

  try {
    const xpr::SourceFile src(file, read_file(file));
    xpr::aot::AotOptions opts;
    opts.name = name;
    opts.cpu = cuda_sm ? "x86-64" : levels.empty() ? target : levels.front();
    opts.cuda_sm = cuda_sm;
    opts.ptxas = ptxas;
    opts.cubin = !no_cubin;
    opts.levels = levels.size() > 1 ? levels : std::vector<std::string>{};
    opts.target_label = target;
    opts.precision = precision == "fast" ? xpr::cg::Precision::Fast : xpr::cg::Precision::Accurate;

    if (emit == "ptx" && !cuda_sm) {
      std::cerr << "xprc: --emit=ptx needs a cuda target (--target cuda:sm_XX)\n";
      return kUsageError;
    }
    if (emit != "obj" && emit != "asm" && emit != "header" && emit != "driver" && emit != "ptx") {
      const auto stage = xpr::tool::emit_stage_from_name(emit);
      if (!stage) return kUsageError;
      std::cout << xpr::tool::emit(src, false, {}, *stage,
                                   precision == "fast" ? xpr::Precision::Fast
                                                       : xpr::Precision::Accurate);
      return kOk;
    }
    if (emit == "header" || emit == "driver" || emit == "ptx") {
      const xpr::aot::AotResult r = xpr::aot::translate(src, opts);
      std::cout << (emit == "header" ? r.header : emit == "ptx" ? r.ptx : r.driver_ir);
      return kOk;
    }
    xpr::aot::AotResult r;
    std::string asm_text;
    const std::string object =
        xpr::aot::compile_object(src, opts, r, emit == "asm" ? &asm_text : nullptr);
    if (emit == "asm") {
      std::cout << asm_text;
      return kOk;
    }
    if (!out_obj.empty()) write_file(out_obj, object);
    if (!out_header.empty()) write_file(out_header, r.header);
    if (!out_lib.empty()) write_static_lib(out_lib, object, name, rt_lib, ar);
    return kOk;
  } catch (const xpr::Error &e) {
    return report(e);
  } catch (const std::exception &e) {
    std::cerr << "xprc: internal error: " << e.what()
              << "\nnote: this is a bug in xpr; please report it\n";
    return kInternalError;
  }
}
