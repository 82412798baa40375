// fuzz/fuzz_npy.cpp — the .npy reader (tools/xpr/Npy.h) on arbitrary bytes.
//
// Properties: decode() fails only with Error(Runtime) or Error(Limit), with a message; an array it
// returns is valid and C-contiguous, its byte size fits in the input, and it survives
// encode → decode with the same dtype, shape and bytes.
#include "FuzzCommon.h"

#include "tools/xpr/Npy.h"

#include <xpr/dtype.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

using namespace xpr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char *>(data), size);
  try {
    (void)npy::parse_header(bytes);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::Runtime && e.kind() != ErrorKind::Limit)
      fuzz::finding("parse_header threw an unexpected kind", e.what());
    fuzz::check_user_error(e, "npy::parse_header");
  }
  Array a;
  try {
    a = npy::decode(bytes);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::Runtime && e.kind() != ErrorKind::Limit)
      fuzz::finding("decode threw an unexpected kind", e.what());
    fuzz::check_user_error(e, "npy::decode");
    return 0;
  }
  if (!a.valid() || !a.is_contiguous()) fuzz::finding("decode returned an invalid array");
  const std::size_t nbytes = static_cast<std::size_t>(a.size()) * dtype_size(a.dtype());
  if (nbytes > size) fuzz::finding("decoded array is larger than its file");

  std::string again = npy::encode(a);
  Array b = npy::decode(again);
  if (b.dtype() != a.dtype() || b.shape() != a.shape())
    fuzz::finding("npy encode/decode round trip changed dtype or shape");
  if (nbytes && std::memcmp(a.data(), b.data(), nbytes) != 0)
    fuzz::finding("npy encode/decode round trip changed the data");
  return 0;
}
