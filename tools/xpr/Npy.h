// tools/xpr/Npy.h — reads and writes NumPy .npy files (format 1.0, 2.0, 3.0) as xpr arrays.
//
// The reader treats every file as hostile: each size is checked against the bytes really there
// before anything is allocated, every product and sum is overflow-checked, and every failure is
// an xpr::Error of kind Runtime (or Limit for sizes beyond what an Array may hold) whose message
// says what is wrong. decode() works on bytes in memory so a fuzzer can drive it directly.
#pragma once

#include <xpr/array.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::npy {

/// The largest header this reader accepts. NumPy itself refuses more than 10,000 bytes by default;
/// a rank-8 header is under 200.
inline constexpr std::size_t kMaxHeaderBytes = 65536;

/// What the header of a .npy file says.
struct Header {
  int major = 1, minor = 0;
  DType dtype = DType::F64;
  bool big_endian = false; ///< '>' in descr: the data is byte-swapped on load
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;  ///< bytes before the data (magic, version, length, header)
  std::uint64_t data_bytes = 0; ///< element count times item size, overflow-checked
};

/// Parses the header at the start of `bytes`; needs only the header's bytes, not the data.
/// Throws Error(Runtime) naming the problem (no file name: callers add it).
Header parse_header(std::string_view bytes);

/// A whole .npy file in memory → a C-contiguous array that owns its data (Fortran order and
/// big-endian data are converted). The data must be exactly as long as the header says.
Array decode(std::string_view bytes);

/// The bytes of a .npy file holding `a` (version 1.0, little-endian, C order, header padded to a
/// multiple of 64 bytes as NumPy writes it). bf16 has no NumPy dtype: Error(Runtime).
std::string encode(const Array &a);

/// Reads a .npy file. Errors read "cannot load 'PATH': REASON".
Array load(const std::string &path);
/// Writes a .npy file (to a temporary name, then renamed over PATH, so a failed write never leaves
/// half a file). Errors read "cannot save 'PATH': REASON".
void save(const std::string &path, const Array &a);

/// The NumPy descr of a dtype ("<f4", "|b1"); throws for bf16.
std::string descr_of(DType t);

} // namespace xpr::npy
