// xpr/xpr.hpp — the public C++ API: a Context that evaluates expressions and compiles scripts.
#pragma once

#include <xpr/array.hpp>
#include <xpr/dtype.hpp>
#include <xpr/error.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

/// \mainpage xpr: array expressions, compiled
///
/// xpr is an embeddable JIT compiler for array expressions. You write array math as text, one
/// expression (`a * exp(-b) + 1`) or a script with typed inputs, runtime parameters and several
/// outputs; xpr checks dtypes and shapes with caret diagnostics, fuses the operations into as few
/// loops as possible, compiles them through MLIR and LLVM into vectorized, multithreaded code for
/// the host CPU, and runs them on your arrays without copying them.
///
/// \snippet getting_started.cpp doc:first-eval
///
/// Include `<xpr/xpr.hpp>` and link the CMake target `xpr`. Start with xpr::Context (compile and
/// evaluate), xpr::Program (run a compiled script), xpr::Array and xpr::view (data and zero-copy
/// views), xpr::Scalar (runtime parameters) and xpr::Error (every failure). The guides live in the
/// source tree: docs/getting-started.md, docs/api.md (this API, with examples), docs/language.md
/// (the language) and docs/semantics.md (what each operation computes).

/// Everything public in xpr: the API of `<xpr/xpr.hpp>` and the headers it includes.
namespace xpr {

/// Accurate: transcendental functions within the ULP bounds of docs/math.md. Fast: cheaper
/// approximations with looser, documented bounds; + - * / sqrt and casts stay exact either way.
enum class Precision : std::uint8_t { Accurate, Fast };

/// Where a Context compiles for and runs its code: the host CPU (the default) or an NVIDIA GPU
/// through the CUDA driver (docs/gpu.md).
class Target {
public:
  /// The kind of device.
  enum class Kind : std::uint8_t {
    Cpu, ///< the host CPU
    Cuda ///< an NVIDIA GPU through the CUDA driver
  };
  /// The host CPU: vectorized, multithreaded code.
  static Target cpu() { return Target(Kind::Cpu, 0); }
  /// CUDA device `device` (0 = the first). A Context made with it throws Error(Runtime) with
  /// "no CUDA driver found (...)" or "no CUDA GPU found (...)" where it cannot be used.
  static Target cuda(int device = 0) { return Target(Kind::Cuda, device); }
  /// "cpu", "cuda" (device 0) or "cuda:N"; anything else throws Error(Runtime).
  static Target parse(std::string_view text);
  Kind kind() const { return kind_; } ///< CPU or CUDA
  int device() const { return device_; } ///< the CUDA device ordinal (0 for the CPU)
  std::string name() const;              ///< "cpu" or "cuda:N"
  bool operator==(const Target &) const = default; ///< same kind and device

private:
  Target(Kind k, int d) : kind_(k), device_(d) {}
  Kind kind_ = Kind::Cpu;
  int device_ = 0;
};

/// The on-disk kernel cache (docs/cache.md). Compiled kernels are also cached in memory (a
/// bounded table: docs/cache.md, "Memory"), whatever these say.
struct CacheOptions {
  /// Read and write object code on disk. The environment can switch it off too: XPR_CACHE=0.
  bool disk = true;
  /// Empty: $XPR_CACHE_DIR, else $XDG_CACHE_HOME/xpr, else $HOME/.cache/xpr.
  std::string dir;
  /// The directory's size bound; least recently used entries go first. 0: $XPR_CACHE_MAX_BYTES,
  /// else 512 MiB.
  std::uint64_t max_bytes = 0;
};

/// How a Context compiles and runs code. The defaults suit most programs.
struct Options {
  int threads = 0; ///< worker threads; 0 = every core the process may use
  Precision precision = Precision::Accurate; ///< accuracy of transcendental functions
  CacheOptions cache; ///< where compiled kernels are kept between processes
  /// compile() also compiles every kernel for contiguous operands, so the first run does not
  /// (other layouts still compile on first use). eval() always compiles on first use.
  bool eager = true;
  /// Where code runs. Context(Target, Options) sets it too.
  Target target = Target::cpu();
};

/// Milliseconds spent producing a Program's code, by stage (Program::timings()). Kernels are
/// resolved per operand layout, so later runs with new layouts can add to the kernel stages.
struct StageTimings {
  double parse_ms = 0;        ///< text to Graph IR: parsing and semantic analysis
  double passes_ms = 0;       ///< folding, simplification, CSE, DCE, fusion, literal hoisting
  double mlir_build_ms = 0;   ///< kernels to MLIR
  double mlir_lower_ms = 0;   ///< MLIR to the LLVM dialect, then to LLVM IR
  double llvm_opt_ms = 0;     ///< the LLVM IR pass pipeline
  double machine_code_ms = 0; ///< instruction selection to object code
  double load_ms = 0;         ///< linking object code into the JIT
  double disk_read_ms = 0;    ///< reading and verifying cache entries
  double disk_write_ms = 0;   ///< writing cache entries
  ///@{
  /// How many kernels were compiled, loaded from the disk cache, or found in memory.
  int kernels_compiled = 0, kernels_from_disk = 0, kernels_from_memory = 0;
  ///@}
  /// The sum of all the stages, in milliseconds.
  double total_ms() const {
    return parse_ms + passes_ms + mlir_build_ms + mlir_lower_ms + llvm_opt_ms + machine_code_ms +
           load_ms + disk_read_ms + disk_write_ms;
  }
};

/// Process-wide kernel cache counters. A kernel found in a Program's own memo (every run after
/// its first) is not counted: that path is kept free of shared writes.
struct CacheStats {
  std::uint64_t memory_hits = 0;    ///< found in the process-wide table
  std::uint64_t disk_hits = 0;      ///< loaded from a verified disk entry
  std::uint64_t compiles = 0;       ///< compiled
  std::uint64_t disk_writes = 0;    ///< entries written
  std::uint64_t disk_rejects = 0;   ///< corrupt, truncated or foreign entries discarded
  std::uint64_t write_failures = 0; ///< entries that could not be written (the cache is best effort)
  std::uint64_t evictions = 0;      ///< entries deleted to keep the size bound
  /// Kernels dropped from the process-wide table to keep its bound (4096, or
  /// XPR_JIT_MAX_KERNELS); their machine code is freed once no Program holds them.
  std::uint64_t memory_evictions = 0;
};
/// The process-wide kernel cache counters so far.
CacheStats cache_stats();

/// The stages `Program::emit` can print (the `--emit=` ladder of the tools).
enum class Stage : std::uint8_t {
  Ast,         ///< the syntax tree
  Ir,          ///< Graph IR as sema produced it
  Optimized,   ///< Graph IR after folding, simplification, CSE and DCE
  Fused,       ///< the fused plan: kernels, reductions, buffers
  Mlir,        ///< each kernel as MLIR (func/scf/arith/math/vector)
  MlirLowered, ///< each kernel in the MLIR LLVM dialect
  Llvm,        ///< each kernel as optimized LLVM IR
  Asm,         ///< each kernel as host assembly
  Ptx,         ///< each kernel as PTX: for the Context's GPU, or for sm_80 on a CPU context
};

/// A named input, output or param of a program, e.g. {"S", f32, {"n"}} for `input S: f32[n]`.
struct ValueInfo {
  std::string name;              ///< the name in the script
  DType dtype = DType::F64;      ///< the element type
  std::vector<std::string> dims; ///< one entry per dimension: a symbol or a number
  std::string type;              ///< the whole type as text: "f32[n]"
};

/// Arrays bound to a program's inputs (or an expression's free names), by name.
using Inputs = std::map<std::string, Array>;
/// Values bound to a script's params, by name; each converts to the param's dtype.
using Params = std::map<std::string, Scalar>;
/// A program's outputs by name: returned by Program::run, or given to Program::run_into.
using Outputs = std::map<std::string, Array>;

/// A compiled script or expression. Cheap to copy (shared, immutable); run() may be called from
/// several threads at once.
class Program {
public:
  /// An empty program: valid() is false, and running it throws Error(Runtime).
  Program() = default;
  /// False for a default-constructed Program.
  bool valid() const { return static_cast<bool>(impl_); }

  /// Runs the program on `inputs` (arrays or strided views, matched by name; extra names are
  /// ignored) and `params`; returns freshly allocated outputs by name. On a cuda context,
  /// inputs may be device arrays (Context::to_device); the outputs are then device arrays too,
  /// and with only device inputs the run is queued and returns at once (Context::synchronize).
  /// A cpu context refuses device arrays.
  Outputs run(const Inputs &inputs, const Params &params = {}) const;
  /// The same, outputs in declaration order.
  std::vector<Array> run_ordered(const Inputs &inputs, const Params &params = {}) const;
  /// Writes into caller-provided arrays (one per output, exact dtype and shape, any strides).
  /// An output may be the very same memory as an input (`a = a * 2` in place); inputs that
  /// overlap an output in any other way are copied first, so the result is always as if all
  /// inputs were read before any output was written. On a cuda context the outputs may be
  /// device arrays (written in place on the device; queued, as for run, when every input and
  /// output is one).
  void run_into(const Inputs &inputs, const Outputs &outputs, const Params &params = {}) const;

  /// The program's text at one lowering stage.
  std::string emit(Stage stage) const;
  /// The number of fused elementwise loops a run executes (reductions are counted apart).
  int kernel_count() const;
  /// The number of reductions a run executes, each with its producer chain fused in:
  /// `sum(exp(a) * b)` is one reduction and no kernel.
  int reduction_count() const;
  /// The number of temporary arrays a run allocates between kernels; 0 for any chain of
  /// elementwise operations, however long.
  int intermediate_buffer_count() const;
  /// Time spent so far on this program's code, by stage.
  StageTimings timings() const;
  /// For each kernel resolved so far: where it came from (memory, disk, compiled), its cache
  /// key, and for a miss why each faster level missed, naming the parts of the key that differ
  /// from the nearest entries on disk (another target, LLVM, xpr build, layout, precision).
  std::string explain_cache() const;
  const std::vector<ValueInfo> &inputs() const;  ///< the inputs, in declaration order
  const std::vector<ValueInfo> &params() const;  ///< the params, in declaration order
  const std::vector<ValueInfo> &outputs() const; ///< the outputs, in declaration order

  struct Impl;

private:
  friend class Context;
  explicit Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const Impl &impl() const;
  std::shared_ptr<const Impl> impl_;
};

/// Compiles and runs array code on the CPU, or on an NVIDIA GPU (Target::cuda()). Compiled
/// programs are cached in memory: evaluating the same expression on arrays of the same dtypes
/// and ranks compiles once.
class Context {
public:
  /// A context with its own worker threads; see Options.
  explicit Context(Options options = {});
  /// A context for `target` (e.g. Target::cuda()). Throws Error(Runtime) if the target cannot be
  /// used on this machine (no CUDA driver, no GPU, no such device), naming why.
  explicit Context(Target target, Options options = {});
  /// Programs it compiled stay usable after the context is gone.
  ~Context();
  /// Moves the context; the moved-from one may only be destroyed or assigned to.
  Context(Context &&) noexcept;
  /// Moves the context; the moved-from one may only be destroyed or assigned to.
  Context &operator=(Context &&) noexcept;

  /// numexpr-style: evaluates one expression whose free names are the keys of `inputs`.
  /// Each input is declared with its dtype and symbolic dims: equal sizes share one symbol, a
  /// size of 1 stays a literal 1 (so it broadcasts). Returns a new array.
  Array eval(std::string_view expr, const Inputs &inputs);
  /// Compiles a script (inputs, params, lets, outputs). Throws Error with a caret diagnostic.
  Program compile(std::string_view script, std::string_view filename = "<script>");

  const Options &options() const; ///< the options it was made with (threads as last set)
  /// The on-disk cache directory in use; empty when the disk cache is off.
  std::string cache_dir() const;
  /// Changes the worker thread count for this context and the programs it compiled.
  void set_threads(int threads);
  int threads() const; ///< the number of worker threads in use (never 0)
  /// Where this context runs code, in words: "cpu", "cuda:0 (NVIDIA H100, sm_90)".
  std::string target_description() const;
  /// The PTX target a cuda context compiles its kernels for, as major * 10 + minor (90 for
  /// sm_90): the device's compute capability, capped to the newest this LLVM knows. 0 on a cpu
  /// context.
  int target_sm() const;

  /// A copy of `a` in this cuda context's device memory (C-contiguous; freed when the last copy
  /// of the Array goes, even after the Context). Programs of a cuda context read device inputs
  /// in place, and when any input is on the device their outputs stay there too: only
  /// to_device and to_host cross the bus. Throws Error(Runtime) on a cpu context, or for an
  /// array on another device.
  Array to_device(const Array &a) const;
  /// A host copy of a device array (`a` itself when it is already on the host). Waits for the
  /// runs queued on this context, and for those another context queued on `a`.
  Array to_host(const Array &a) const;
  /// Waits until the runs queued on this context's GPU have finished; a kernel's failure in
  /// any of them throws Error(Runtime) here. A run whose inputs and outputs are all device
  /// arrays returns as soon as it is queued (runs on one context execute in call order, and a
  /// context's runs on device arrays it is given come after another's queued runs on them: the
  /// GPU orders the two, neither host thread waits); a run with any
  /// host array returns with its results in place. Nothing to wait for on a cpu context.
  void synchronize() const;

  struct Impl;

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace xpr
