// examples/mandelbrot.cpp — the Mandelbrot set as one fused kernel: the script (N unrolled steps of
// z = z^2 + c) is generated in C++, run on a broadcast grid, checked, and written to a PNG.
#include <xpr/xpr.hpp>

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// The language has no loops, so the loop is unrolled in the text. Each step freezes z once it
// has escaped (|z|^2 > 4), so no value overflows, and counts the steps it stayed bounded.
// cr varies along columns and ci along rows: f64[1, w] and f64[h, 1] broadcast to f64[h, w], so
// the grid is never materialized.
std::string mandelbrot_script(int steps) {
  std::string s = "input cr: f64[1, w]\n"
                  "input ci: f64[h, 1]\n"
                  "let zr0 = cr + 0 * ci\n"
                  "let zi0 = ci + 0 * cr\n"
                  "let n0 = where(zr0 * zr0 + zi0 * zi0 <= 4, i32(1), i32(0))\n";
  for (int k = 1; k < steps; ++k) {
    const std::string p = std::to_string(k - 1), c = std::to_string(k);
    s += "let in" + p + " = zr" + p + " * zr" + p + " + zi" + p + " * zi" + p + " <= 4\n";
    s += "let zr" + c + " = where(in" + p + ", zr" + p + " * zr" + p + " - zi" + p + " * zi" + p +
         " + cr, zr" + p + ")\n";
    s += "let zi" + c + " = where(in" + p + ", 2 * zr" + p + " * zi" + p + " + ci, zi" + p + ")\n";
    s += "let n" + c + " = n" + p + " + where(zr" + c + " * zr" + c + " + zi" + c + " * zi" + c +
         " <= 4, i32(1), i32(0))\n";
  }
  s += "output iters = n" + std::to_string(steps - 1) + "\n";
  return s;
}

// The same recurrence in plain C++, operation for operation (built with -ffp-contract=off, as
// xpr never fuses a*b + c into an FMA), so the counts must agree exactly.
int escape_count(double cr, double ci, int steps) {
  double zr = cr, zi = ci;
  int n = zr * zr + zi * zi <= 4;
  for (int k = 1; k < steps; ++k) {
    if (zr * zr + zi * zi <= 4) {
      const double nr = zr * zr - zi * zi + cr;
      zi = 2 * zr * zi + ci;
      zr = nr;
    }
    n += zr * zr + zi * zi <= 4;
  }
  return n;
}

bool write_png(const char *path, const std::vector<std::uint8_t> &rgb, int w, int h) {
  FILE *f = std::fopen(path, "wb");
  if (!f) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; ++y)
    png_write_row(png, const_cast<png_bytep>(rgb.data() + static_cast<std::size_t>(y) * w * 3));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

// Reads the PNG back with libpng's simplified API, to check what reached the disk.
bool read_png(const char *path, std::vector<std::uint8_t> &rgb, int &w, int &h) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path)) return false;
  img.format = PNG_FORMAT_RGB;
  w = static_cast<int>(img.width);
  h = static_cast<int>(img.height);
  rgb.resize(PNG_IMAGE_SIZE(img));
  return png_image_finish_read(&img, nullptr, rgb.data(), 0, nullptr) != 0;
}

} // namespace

int main(int argc, char **argv) {
  const char *out_path = argc > 1 ? argv[1] : "mandelbrot.png";
  const int steps = 64;
  int failures = 0;
  try {
    xpr::Context ctx;
    xpr::Program mb = ctx.compile(mandelbrot_script(steps), "mandelbrot.xpr");

    // 1. Points whose fate is known by hand (z starts at c). c in {0, -1, 1/4, -2, i} stay
    //    bounded forever; c = 1 runs 1, 2, 5 (bounded for two steps); c = 2 runs 2, 6.
    //    The same program serves this 2x6 grid and the image: h and w are symbols.
    {
      std::vector<double> cr{0, -1, 0.25, 1, 2, -2}, ci{0, 1};
      xpr::Array it = mb.run({{"cr", xpr::view(cr.data(), xpr::f64, {1, 6})},
                              {"ci", xpr::view(ci.data(), xpr::f64, {2, 1})}})
                          .at("iters");
      const std::int32_t *n = it.data_as<std::int32_t>();
      // Row ci=1: i is in the set; -1+i runs -1+i, -1-i, -1+3i; 1+i runs 1+i, 1+3i; 2+i and
      // -2+i start outside. 1/4+i (-1) is left to the C++ recurrence.
      const int want[2][6] = {{steps, steps, steps, 2, 1, steps}, {steps, 2, -1, 1, 0, 0}};
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 6; ++x) {
          const int got = n[y * 6 + x];
          const int expect = want[y][x] >= 0 ? want[y][x] : escape_count(cr[x], ci[y], steps);
          if (got != expect) {
            ++failures;
            std::fprintf(stderr, "c = %g%+gi: %d steps, expected %d\n", cr[x], ci[y], got, expect);
          }
        }
    }

    // 2. The picture: [-2.2, 0.8] x [-1.2, 1.2].
    const int W = 600, H = 480;
    std::vector<double> cr(W), ci(H);
    for (int x = 0; x < W; ++x) cr[x] = -2.2 + 3.0 * x / W;
    for (int y = 0; y < H; ++y) ci[y] = -1.2 + 2.4 * y / H;
    xpr::Array it = mb.run({{"cr", xpr::view(cr.data(), xpr::f64, {1, W})},
                            {"ci", xpr::view(ci.data(), xpr::f64, {H, 1})}})
                        .at("iters");
    if (it.shape() != std::vector<std::int64_t>{H, W}) {
      std::fprintf(stderr, "unexpected result shape\n");
      return 1;
    }
    const std::int32_t *n = it.data_as<std::int32_t>();
    long mismatches = 0, inside = 0;
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(W) * H * 3);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const int k = n[y * W + x];
        if (k != escape_count(cr[x], ci[y], steps) && ++mismatches <= 5)
          std::fprintf(stderr, "pixel (%d, %d): %d steps, expected %d\n", y, x, k,
                       escape_count(cr[x], ci[y], steps));
        inside += k == steps;
        // Black inside; outside, a blue-to-white ramp by escape speed.
        const double t = k == steps ? 0 : std::sqrt(static_cast<double>(k) / steps);
        std::uint8_t *px = &rgb[(static_cast<std::size_t>(y) * W + x) * 3];
        px[0] = static_cast<std::uint8_t>(255 * t * t);
        px[1] = static_cast<std::uint8_t>(255 * t);
        px[2] = static_cast<std::uint8_t>(k == steps ? 0 : 96 + 159 * t);
      }
    failures += mismatches > 0;
    // The set's area is about 1.5066; the picture covers 7.2, so roughly 21% of pixels are inside
    // (a bit more at 64 steps, which lets some slow escapers count as inside).
    const double frac = static_cast<double>(inside) / (W * H);
    if (frac < 0.19 || frac > 0.24) {
      ++failures;
      std::fprintf(stderr, "fraction inside %.3f is implausible\n", frac);
    }

    // 3. Write the PNG and read it back: the origin (inside) is black, the corner is not.
    std::vector<std::uint8_t> back;
    int bw = 0, bh = 0;
    if (!write_png(out_path, rgb, W, H) || !read_png(out_path, back, bw, bh) || bw != W ||
        bh != H || back != rgb) {
      ++failures;
      std::fprintf(stderr, "%s: PNG round trip failed\n", out_path);
    } else {
      const int ox = static_cast<int>(std::lround(2.2 / 3.0 * W)), oy = H / 2; // c = 0
      const std::uint8_t *origin = &back[(static_cast<std::size_t>(oy) * W + ox) * 3];
      const std::uint8_t *corner = &back[0];
      if (origin[0] || origin[1] || origin[2] || !corner[2]) {
        ++failures;
        std::fprintf(stderr, "%s: origin pixel is not black or corner is black\n", out_path);
      }
    }

    std::printf("mandelbrot: %dx%d, %d unrolled steps in %d kernel, %.1f%% inside, %ld "
                "mismatches, wrote %s: %s\n",
                W, H, steps, mb.kernel_count(), 100 * frac, mismatches, out_path,
                failures ? "MISMATCH" : "ok");
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return failures ? 1 : 0;
}
