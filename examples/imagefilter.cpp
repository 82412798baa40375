// examples/imagefilter.cpp — 3x3 Sobel edges and box blur of one image, computed from nine
// zero-copy shifted views of the same buffer, checked bit for bit against a direct loop.
#include <xpr/xpr.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// p<dy><dx> is the pixel at offset (dy-1, dx-1) from the output pixel: nine views of one image.
const char *kFilters = R"(
input p00: f32[h, w]
input p01: f32[h, w]
input p02: f32[h, w]
input p10: f32[h, w]
input p11: f32[h, w]
input p12: f32[h, w]
input p20: f32[h, w]
input p21: f32[h, w]
input p22: f32[h, w]
let gx = (p02 + 2 * p12 + p22) - (p00 + 2 * p10 + p20)
let gy = (p20 + 2 * p21 + p22) - (p00 + 2 * p01 + p02)
output edges = sqrt(gx * gx + gy * gy)
output blur = (p00 + p01 + p02 + p10 + p11 + p12 + p20 + p21 + p22) / 9
)";

} // namespace

int main() {
  try {
    const long H = 480, W = 641; // an odd width: rows do not start on vector boundaries
    std::vector<float> img(static_cast<std::size_t>(H * W));
    for (long y = 0; y < H; ++y)
      for (long x = 0; x < W; ++x) {
        const double dx = x - W / 2.0, dy = y - H / 2.0;
        const bool disc = dx * dx + dy * dy < 150.0 * 150.0;
        img[y * W + x] = static_cast<float>((disc ? 200 : 40) + 10 * std::sin(0.05 * x) +
                                            ((x * 7 + y * 13) % 5));
      }

    // The output images keep a one-pixel border (zero here); the kernel writes the interior
    // directly through views of the same shape and row stride as the inputs.
    std::vector<float> edges(img.size(), 0.0f), blur(img.size(), 0.0f);
    const long h = H - 2, w = W - 2;
    auto shifted = [&](float *base, long dy, long dx) {
      return xpr::view(base + dy * W + dx, xpr::f32, {h, w}, {W, 1}); // strides in elements
    };
    xpr::Inputs in;
    for (int dy = 0; dy < 3; ++dy)
      for (int dx = 0; dx < 3; ++dx)
        in["p" + std::to_string(dy) + std::to_string(dx)] = shifted(img.data(), dy, dx);

    xpr::Context ctx;
    xpr::Program filters = ctx.compile(kFilters, "filters.xpr");
    filters.run_into(in, {{"edges", shifted(edges.data(), 1, 1)},
                          {"blur", shifted(blur.data(), 1, 1)}});

    // The same arithmetic in the same order, in f32: + - * / and sqrt are exact in xpr
    // (docs/semantics.md), so the results must match bit for bit.
    long mismatches = 0;
    auto P = [&](long y, long x) { return img[y * W + x]; };
    for (long y = 0; y < H; ++y)
      for (long x = 0; x < W; ++x) {
        float e = 0, b = 0;
        if (y > 0 && y < H - 1 && x > 0 && x < W - 1) {
          const float p00 = P(y - 1, x - 1), p01 = P(y - 1, x), p02 = P(y - 1, x + 1);
          const float p10 = P(y, x - 1), p11 = P(y, x), p12 = P(y, x + 1);
          const float p20 = P(y + 1, x - 1), p21 = P(y + 1, x), p22 = P(y + 1, x + 1);
          const float gx = (p02 + 2 * p12 + p22) - (p00 + 2 * p10 + p20);
          const float gy = (p20 + 2 * p21 + p22) - (p00 + 2 * p01 + p02);
          e = std::sqrt(gx * gx + gy * gy);
          b = (p00 + p01 + p02 + p10 + p11 + p12 + p20 + p21 + p22) / 9;
        }
        const std::size_t i = static_cast<std::size_t>(y * W + x);
        if (edges[i] != e || blur[i] != b) {
          if (++mismatches <= 5)
            std::fprintf(stderr, "pixel (%ld, %ld): edges %g vs %g, blur %g vs %g\n", y, x,
                         edges[i], e, blur[i], b);
        }
      }

    // The disc's rim must light up and its flat inside must not.
    const float rim = edges[static_cast<std::size_t>((H / 2) * W + W / 2 + 150)];
    const float flat = edges[static_cast<std::size_t>((H / 2) * W + W / 2)];
    const bool shape_ok = rim > 100 && flat < 40;

    std::printf("imagefilter: %ldx%ld image, 9 views, %d kernel, %ld mismatches, rim %.1f, "
                "flat %.1f: %s\n",
                H, W, filters.kernel_count(), mismatches, rim, flat,
                mismatches == 0 && shape_ok ? "ok" : "MISMATCH");
    return mismatches == 0 && shape_ok ? 0 : 1;
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
