#include "data/face_resample.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fc::train {
namespace {

// torch.linspace(-1, 1, n) in float, as ATen's CPU kernel computes it: from the start for the
// first half, from the end for the rest (align_corners' base grid).
std::vector<float> unit_linspace(int n) {
  std::vector<float> v(n, 0.f);
  if (n <= 1) return v;
  const float step = 2.f / static_cast<float>(n - 1);
  const int halfway = n / 2;
  for (int i = 0; i < n; ++i)
    v[i] = i < halfway ? -1.f + step * static_cast<float>(i)
                       : 1.f - step * static_cast<float>(n - i - 1);
  return v;
}

// A grid coordinate to source pixels (align_corners), mirrored about the edge pixels' centres
// and clipped, as grid_sample's reflection padding does.
float source_coordinate(float grid, int size) {
  const float max_val = static_cast<float>(size - 1);
  const float twice_span = 2.f * max_val;
  if (twice_span == 0.f) return 0.f;
  const float a = std::fabs((grid + 1.f) * (max_val / 2.f));
  const float extra = a - std::trunc(a / twice_span) * twice_span;
  return std::clamp(std::min(extra, twice_span - extra), 0.f, max_val);
}

// One axis of the warp: for each output index the source pixel below the sample point, the
// one above it (clamped: its weight is 0 there) and the weights of the two.
struct AxisTaps {
  std::vector<int> lo, hi;
  std::vector<float> w_lo, w_hi;
};

AxisTaps axis_taps(int size, float scale, float offset) {
  const std::vector<float> grid = unit_linspace(size);
  AxisTaps t;
  for (int i = 0; i < size; ++i) {
    const float x = source_coordinate(scale * grid[i] + offset, size);
    const float floor_x = std::floor(x), frac = x - floor_x;
    t.lo.push_back(static_cast<int>(floor_x));
    t.hi.push_back(std::min(static_cast<int>(floor_x) + 1, size - 1));
    t.w_lo.push_back(1.f - frac);
    t.w_hi.push_back(frac);
  }
  return t;
}

}  // namespace

LevelImage LevelImage::of(const uint8_t* rgb, int h, int w) {
  LevelImage img{h, w, std::vector<float>(rgb, rgb + static_cast<size_t>(h) * w * 3)};
  return img;
}

void LevelImage::to_bytes(uint8_t* rgb) const {
  for (size_t i = 0; i < v.size(); ++i)
    rgb[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(v[i]), 0.f, 255.f));
}

LevelImage warp_jitter(const LevelImage& src, const Jitter& j) {
  const int h = src.h, w = src.w;
  // The map from output to source grid coordinates, the theta affine_grid was given before
  // (FaceResample's test builds it the same way). It has no shear, so each axis is on its own.
  const double sx = (j.flip ? -1.0 : 1.0) / j.scale, sy = 1.0 / j.scale;
  const AxisTaps xs =
      axis_taps(w, static_cast<float>(sx), static_cast<float>(-2.0 * j.tx / (w - 1) * sx));
  const AxisTaps ys =
      axis_taps(h, static_cast<float>(sy), static_cast<float>(-2.0 * j.ty / (h - 1) * sy));
  LevelImage out{h, w, std::vector<float>(src.v.size())};
  const auto px = [&](int y, int x) { return &src.v[(static_cast<size_t>(y) * w + x) * 3]; };
  for (int yo = 0; yo < h; ++yo) {
    const float n = ys.w_hi[yo], s = ys.w_lo[yo];
    float* o = &out.v[static_cast<size_t>(yo) * w * 3];
    for (int xo = 0; xo < w; ++xo, o += 3) {
      const float e_w = xs.w_hi[xo], e = xs.w_lo[xo];
      // grid_sample's weights and order of sums: nw, ne, sw, se
      const float nw = s * e, ne = s * e_w, sw = n * e, se = n * e_w;
      const float *a = px(ys.lo[yo], xs.lo[xo]), *b = px(ys.lo[yo], xs.hi[xo]);
      const float *c = px(ys.hi[yo], xs.lo[xo]), *d = px(ys.hi[yo], xs.hi[xo]);
      for (int ch = 0; ch < 3; ++ch) o[ch] = a[ch] * nw + b[ch] * ne + c[ch] * sw + d[ch] * se;
    }
  }
  return out;
}

LevelImage shrink_area(const LevelImage& src, int side) {
  if (side < 1 || side > src.h || side > src.w)
    throw std::invalid_argument("shrink_area: side must be in [1, min(h, w)]");
  auto start = [](int i, int out, int in) { return (i * in) / out; };
  auto end = [](int i, int out, int in) { return ((i + 1) * in + out - 1) / out; };
  LevelImage out{side, side, std::vector<float>(static_cast<size_t>(side) * side * 3)};
  for (int yo = 0; yo < side; ++yo) {
    const int y0 = start(yo, side, src.h), y1 = end(yo, side, src.h);
    for (int xo = 0; xo < side; ++xo) {
      const int x0 = start(xo, side, src.w), x1 = end(xo, side, src.w);
      const float cells = static_cast<float>((y1 - y0) * (x1 - x0));
      for (int c = 0; c < 3; ++c) {
        float sum = 0.f;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) sum += src.v[(static_cast<size_t>(y) * src.w + x) * 3 + c];
        out.v[(static_cast<size_t>(yo) * side + xo) * 3 + c] = sum / cells;
      }
    }
  }
  return out;
}

}  // namespace fc::train
