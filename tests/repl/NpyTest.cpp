// tests/repl/NpyTest.cpp — the .npy reader and writer: round trips of every dtype, header
// versions, byte and memory order, and exact errors for malformed and hostile files.
#include "tools/xpr/Npy.h"

#include "support/Half.h"

#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

using namespace xpr;

namespace {

/// A .npy file from parts: version, header dict text (padded and newline-terminated here), data.
std::string file(int major, const std::string &dict, const std::string &data, bool pad = true) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (pad) {
    while ((prefix + h.size() + 1) % 64) h += ' ';
    h += '\n';
  }
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const auto n = static_cast<std::uint32_t>(h.size());
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + h + data;
}

std::string bytes_of(const void *p, std::size_t n) { return std::string(static_cast<const char *>(p), n); }

std::string error_of(const std::string &bytes) {
  try {
    npy::decode(bytes);
  } catch (const Error &e) {
    return e.message();
  }
  return "(no error)";
}

template <class T> std::vector<T> values(const Array &a) {
  const T *p = a.data_as<T>();
  return std::vector<T>(p, p + a.size());
}

} // namespace

TEST(Npy, RoundTripEveryDtype) {
  for (int k = 0; k < kNumDTypes; ++k) {
    const auto t = static_cast<DType>(k);
    if (t == DType::BF16) continue;
    Array a = Array::empty(t, {2, 3});
    auto *p = static_cast<unsigned char *>(a.data());
    for (int i = 0; i < 6 * dtype_size(t); ++i) p[i] = static_cast<unsigned char>(i * 37 + 1);
    if (t == DType::Bool)
      for (int i = 0; i < 6; ++i) p[i] = i & 1;
    const std::string enc = npy::encode(a);
    EXPECT_EQ(enc.size() % 64, static_cast<std::size_t>(6 * dtype_size(t)) % 64) << dtype_name(t);
    Array b = npy::decode(enc);
    ASSERT_EQ(b.dtype(), t);
    ASSERT_EQ(b.shape(), (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(std::memcmp(a.data(), b.data(), static_cast<std::size_t>(6 * dtype_size(t))), 0)
        << dtype_name(t);
  }
}

TEST(Npy, EncodesHeaderLikeNumPy) {
  Array a = Array::empty(DType::F32, {3});
  const std::string enc = npy::encode(a);
  const std::string header = enc.substr(10, 118);
  EXPECT_EQ(enc.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(header.substr(0, 57), "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(enc.size(), 128u + 12u);
  Array s = Array::empty(DType::Bool, std::span<const std::int64_t>{});
  EXPECT_NE(npy::encode(s).find("'descr': '|b1', 'fortran_order': False, 'shape': (), }"),
            std::string::npos);
  Array m = Array::empty(DType::U16, {2, 5, 1});
  EXPECT_NE(npy::encode(m).find("'<u2', 'fortran_order': False, 'shape': (2, 5, 1), }"),
            std::string::npos);
}

TEST(Npy, Bf16IsRefused) {
  Array a = Array::empty(DType::BF16, {2});
  try {
    npy::encode(a);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.message(), "bf16 has no NumPy dtype; save f32(x) (exact) or save its bits with a "
                           "cast to u16 in your own code");
  }
}

TEST(Npy, WritesStridedViewsInCOrder) {
  std::vector<std::int32_t> data = {0, 1, 2, 3, 4, 5};
  const std::int64_t shape[] = {3, 2}, strides[] = {1, 3}; // the transpose of a 2x3 array
  Array v = Array::view(data.data(), DType::I32, shape, strides);
  Array b = npy::decode(npy::encode(v));
  EXPECT_EQ(values<std::int32_t>(b), (std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}));
}

TEST(Npy, FortranOrderIsConvertedToC) {
  // The 2x3 array [[1,2,3],[4,5,6]] stored column by column.
  const std::int16_t col[] = {1, 4, 2, 5, 3, 6};
  const std::string f = file(1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }",
                             bytes_of(col, sizeof col));
  Array a = npy::decode(f);
  EXPECT_EQ(a.shape(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_EQ(values<std::int16_t>(a), (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Npy, FortranOrderRank3) {
  // shape (2, 2, 2): element (i, j, k) at i + 2j + 4k; value 100i + 10j + k.
  std::vector<std::uint8_t> d(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) d[static_cast<std::size_t>(i + 2 * j + 4 * k)] = static_cast<std::uint8_t>(100 * i + 10 * j + k);
  Array a = npy::decode(file(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }",
                             bytes_of(d.data(), d.size())));
  EXPECT_EQ(values<std::uint8_t>(a), (std::vector<std::uint8_t>{0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(Npy, BigEndianIsSwapped) {
  const unsigned char be[] = {0x00, 0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe};
  Array a = npy::decode(file(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
                             bytes_of(be, sizeof be)));
  EXPECT_EQ(values<std::int32_t>(a), (std::vector<std::int32_t>{258, -2}));
  const unsigned char bf[] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
  Array b = npy::decode(file(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                             bytes_of(bf, sizeof bf)));
  EXPECT_EQ(values<double>(b), (std::vector<double>{1.5}));
}

TEST(Npy, Versions2And3AndOddSpellings) {
  const float v[] = {1.5f, -2.0f};
  for (int major : {2, 3}) {
    Array a = npy::decode(file(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                               bytes_of(v, sizeof v)));
    EXPECT_EQ(values<float>(a), (std::vector<float>{1.5f, -2.0f})) << major;
  }
  // Key order, double quotes, list shape, Python 2 longs, no trailing comma, '=' byte order.
  Array b = npy::decode(file(1, "{\"shape\": [2L], \"fortran_order\": False, \"descr\": \"=f4\"}",
                             bytes_of(v, sizeof v)));
  EXPECT_EQ(values<float>(b), (std::vector<float>{1.5f, -2.0f}));
  // Half floats and bool bytes other than 0/1.
  const std::uint16_t h[] = {half::f32_to_f16(0.5f)};
  Array c = npy::decode(file(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", bytes_of(h, 2)));
  EXPECT_EQ(c.dtype(), DType::F16);
  EXPECT_EQ(half::f16_to_f32(values<std::uint16_t>(c)[0]), 0.5f);
  const unsigned char bo[] = {0, 7};
  Array d = npy::decode(file(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", bytes_of(bo, 2)));
  EXPECT_EQ(values<std::uint8_t>(d), (std::vector<std::uint8_t>{0, 1}));
  // Empty and rank-0 arrays.
  Array e = npy::decode(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 5), }", ""));
  EXPECT_EQ(e.size(), 0);
  const double one = 1;
  Array z = npy::decode(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", bytes_of(&one, 8)));
  EXPECT_EQ(z.rank(), 0);
  EXPECT_EQ(values<double>(z), (std::vector<double>{1.0}));
}

TEST(Npy, MalformedFilesGetExactErrors) {
  const std::string D = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  const std::string four(4, '\0');
  struct Case {
    std::string bytes, error;
  } cases[] = {
      {"", "not a .npy file (it does not start with \\x93NUMPY)"},
      {"PK\x03\x04 zip file", "not a .npy file (it does not start with \\x93NUMPY)"},
      {"\x93NUMPY", "file is truncated inside the format version"},
      {std::string("\x93NUMPY\x04\x00", 8), "unsupported .npy format version 4.0 (this reader knows 1.0, 2.0, 3.0)"},
      {std::string("\x93NUMPY\x01\x01", 8), "unsupported .npy format version 1.1 (this reader knows 1.0, 2.0, 3.0)"},
      {std::string("\x93NUMPY\x01\x00\x10", 9), "file is truncated inside the header length"},
      {std::string("\x93NUMPY\x01\x00\x10\x00{'de", 14), "file is truncated: the header length says 16 bytes, only 4 follow"},
      {std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12), "header length 4294967295 exceeds the limit of 65536 bytes"},
      {file(1, D, four, false), "malformed header: it does not end with a newline"},
      {file(1, "['descr', '<f4']", four), "malformed header: the header must start with '{' at byte 0 of the header (\"['descr', '<f4']                        ...\")"},
      {file(1, "{'descr': '<f4' 'fortran_order': False}", four), "malformed header: expected ',' or '}' after a value at byte 16 of the header (\"'fortran_order': False}              \\x0a\")"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", four), "malformed header: unexpected text after the closing '}' at byte 58 of the header (\"x                                       ...\")"},
      {file(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", four), "malformed header: expected a string, True, False or a tuple at byte 34 of the header (\"0, 'shape': (1,), }\\x0a\")"},
      {file(1, "{'descr': '<f4', 'shape': (1,), }", four), "malformed header: the key 'fortran_order' is missing"},
      {file(1, "{'fortran_order': False, 'shape': (1,), }", four), "malformed header: the key 'descr' is missing"},
      {file(1, "{'descr': '<f4', 'fortran_order': False}", four), "malformed header: the key 'shape' is missing"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}", four), "malformed header: unknown key 'x'"},
      {file(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", four), "header has the key 'descr' twice"},
      // fuzz_npy found the repeated key quoted raw (a control byte reached the terminal).
      {file(1, "{'descr': '<f4', 'k\x05y': False, 'k\x05y': False, 'shape': (1,), }", four), "header has the key 'k\\x05y' twice"},
      {file(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '<c8' in the header: complex numbers are not an xpr dtype"},
      {file(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '|O' in the header: no item size"},
      {file(1, "{'descr': '|O8', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '|O8' in the header: Python objects cannot be loaded"},
      {file(1, "{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '<U4' in the header: strings are not an xpr dtype"},
      {file(1, "{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '<f3' in the header: no xpr dtype has this kind and a 3-byte size"},
      {file(1, "{'descr': '<f99999999999', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype '<f99999999999' in the header: not a NumPy type string"},
      {file(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", four), "structured dtypes (a list as 'descr') are not supported"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", four), "malformed header: negative dimension in 'shape'"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", four), "shape (1, 1, 1, 1, 1, 1, 1, 1, 1) has 9 dimensions; xpr supports at most 8"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), }", four), "shape has more than 8 dimensions (the most xpr supports)"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", four), "malformed header: a dimension in 'shape' does not fit in 64 bits"},
      {file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", four), "shape (4294967296, 4294967296) of f64 is too large: its byte size overflows 64 bits"},
      {file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", four), "data is truncated: shape (1000000000000,) of f64 needs 8000000000000 bytes, the file has 4"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", four), "data is truncated: shape (3,) of f32 needs 12 bytes, the file has 4"},
      {file(1, D, four + "xx"), "file has 2 bytes after the data of shape (1,) of f32 (size mismatch)"},
      {file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': '\\n'}", four), "malformed header: escape sequences are not supported in strings at byte 62 of the header (\"\\n'}                                    ...\")"},
      {file(1, "{'descr': '<f4", four), "malformed header: unterminated string at byte 54 of the header (\"\")"},
      {file(1, "{'descr': '\xc3\xa9', 'fortran_order': False, 'shape': (1,), }", four), "malformed header: a version 1.0 header must be ASCII"},
  };
  for (const Case &c : cases) EXPECT_EQ(error_of(c.bytes), c.error) << c.error;
}

TEST(Npy, EmptyArrayWithHugeOtherDimsLoads) {
  // fuzz_npy: the dims before the 0 multiply past 2^63; the array is still empty and valid.
  const std::string hdr = "{'descr': '<i4', 'fortran_order': False, "
                          "'shape': (21474, 3648, 28, 2147488348, 28, 214748836, 0), }";
  std::string f = "\x93NUMPY";
  f += '\x01';
  f += '\x00';
  std::string h = hdr;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  f += static_cast<char>(h.size() & 0xff);
  f += static_cast<char>(h.size() >> 8);
  f += h;
  Array a = npy::decode(f);
  EXPECT_EQ(a.size(), 0);
  EXPECT_EQ(a.shape().size(), 7u);
  EXPECT_EQ(a.shape()[3], 2147488348);
}

TEST(Npy, MutatedFilesNeverCrash) {
  // Random byte flips, truncations and extensions of valid files: decode must either succeed or
  // throw xpr::Error (run under ASan/UBSan in the sanitizer build).
  std::mt19937_64 rng(7);
  std::vector<std::string> seeds;
  for (DType t : {DType::F32, DType::I64, DType::Bool, DType::F16, DType::U8}) {
    Array a = Array::empty(t, {3, 4});
    seeds.push_back(npy::encode(a));
  }
  seeds.push_back(file(3, "{'descr': '>u4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, '\1')));
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      switch (rng() % 4) {
      case 0: s[rng() % s.size()] = static_cast<char>(rng()); break;
      case 1: s.resize(rng() % (s.size() + 1)); break;
      case 2: s += std::string(rng() % 16, static_cast<char>(rng())); break;
      case 3: if (s.size() > 70) s[10 + rng() % 60] = "0123456789(),:'[]{}-L "[rng() % 22]; break;
      }
      if (s.empty()) s = "x";
    }
    try {
      npy::decode(s);
      ++ok;
    } catch (const Error &) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 1000);
  EXPECT_GT(ok, 10);
}

TEST(Npy, LoadAndSaveFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("xpr_npy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string p = (dir / "a.npy").string();
  Array a = Array::empty(DType::I16, {4});
  for (int i = 0; i < 4; ++i) a.data_as<std::int16_t>()[i] = static_cast<std::int16_t>(i * 1000 - 1);
  npy::save(p, a);
  Array b = npy::load(p);
  EXPECT_EQ(values<std::int16_t>(b), values<std::int16_t>(a));
  // Errors name the file.
  auto err = [](auto f) {
    try {
      f();
    } catch (const Error &e) {
      return e.message();
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(err([&] { npy::load((dir / "missing.npy").string()); }),
            "cannot load '" + (dir / "missing.npy").string() + "': No such file or directory");
  EXPECT_EQ(err([&] { npy::load(dir.string()); }), "cannot load '" + dir.string() + "': it is a directory");
  {
    std::ofstream t(dir / "t.npy", std::ios::binary);
    const std::string f = npy::encode(a);
    t.write(f.data(), static_cast<std::streamsize>(f.size() - 3));
  }
  EXPECT_EQ(err([&] { npy::load((dir / "t.npy").string()); }),
            "cannot load '" + (dir / "t.npy").string() +
                "': data is truncated: shape (4,) of i16 needs 8 bytes, the file has 5");
  {
    // A header announcing a petabyte: refused before anything is allocated.
    std::ofstream t(dir / "huge.npy", std::ios::binary);
    const std::string f = file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000000,), }", "");
    t.write(f.data(), static_cast<std::streamsize>(f.size()));
  }
  EXPECT_EQ(err([&] { npy::load((dir / "huge.npy").string()); }),
            "cannot load '" + (dir / "huge.npy").string() +
                "': data is truncated: shape (100000000000000,) of f64 needs 800000000000000 bytes, the file has 0");
  EXPECT_EQ(err([&] { npy::save((dir / "no/such/dir/x.npy").string(), a); }).rfind("cannot save '", 0), 0u);
  Array h = Array::empty(DType::BF16, {1});
  EXPECT_EQ(err([&] { npy::save((dir / "h.npy").string(), h); }),
            "cannot save '" + (dir / "h.npy").string() +
                "': bf16 has no NumPy dtype; save f32(x) (exact) or save its bits with a cast to u16 in your own code");
  EXPECT_FALSE(std::filesystem::exists(dir / "h.npy"));
  std::filesystem::remove_all(dir);
}
