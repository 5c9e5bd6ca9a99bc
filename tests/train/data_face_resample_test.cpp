// The LibTorch-only build's loader resamples faces with face_resample.h's loops in place of
// torch's grid_sample and area interpolation (which fan out to the intra-op threads from every
// loader thread). Training there must see the faces it saw before: these compare the loops with
// the torch ops they replace, on random faces and jitters.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "data/face_resample.h"

namespace F = torch::nn::functional;
using fc::train::Jitter;
using fc::train::LevelImage;

namespace {

torch::Tensor random_face(int h, int w, uint64_t seed) {
  torch::manual_seed(seed);
  // Smooth shapes and noise: edges land between levels, where rounding differences would show.
  torch::Tensor smooth =
      F::interpolate(torch::rand({1, 3, h / 8, w / 8}) * 255, F::InterpolateFuncOptions()
                                                                  .size(std::vector<int64_t>{h, w})
                                                                  .mode(torch::kBilinear)
                                                                  .align_corners(false));
  return (smooth * 0.8 + torch::rand({1, 3, h, w}) * 51).clamp(0, 255).round();
}

// [1, 3, H, W] float levels -> LevelImage
LevelImage level_image(const torch::Tensor& planes) {
  const torch::Tensor hwc = planes.squeeze(0).permute({1, 2, 0}).contiguous();
  LevelImage img{static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), {}};
  img.v.assign(hwc.data_ptr<float>(), hwc.data_ptr<float>() + hwc.numel());
  return img;
}

torch::Tensor planes_of(const LevelImage& img) {
  return torch::from_blob(const_cast<float*>(img.v.data()), {img.h, img.w, 3}, torch::kFloat32)
      .permute({2, 0, 1})
      .unsqueeze(0)
      .clone();
}

// What face_pixels_torch.cpp computed before the loops: affine_grid + grid_sample.
torch::Tensor torch_warp(const torch::Tensor& x, const Jitter& j) {
  const double w = static_cast<double>(x.size(3)), h = static_cast<double>(x.size(2));
  const double sx = (j.flip ? -1.0 : 1.0) / j.scale, sy = 1.0 / j.scale;
  const double ox = -2.0 * j.tx / (w - 1) * sx, oy = -2.0 * j.ty / (h - 1) * sy;
  const torch::Tensor theta =
      torch::tensor({sx, 0.0, ox, 0.0, sy, oy}, torch::kFloat32).view({1, 2, 3});
  const torch::Tensor grid = F::affine_grid(theta, x.sizes().vec(), /*align_corners=*/true);
  return F::grid_sample(x, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kReflection)
                            .align_corners(true));
}

}  // namespace

TEST(FaceResample, JitterIsTorchsReflectedBilinearGridSample) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int side : {32, 64, 128}) {
    const torch::Tensor x = random_face(side, side, side);
    for (int k = 0; k < 6; ++k) {
      // The loader's range (scale +-5 %, shift +-5 %), and past it, where reflection matters.
      const double reach = k < 3 ? 0.05 : 0.3;
      const Jitter j{k % 2 == 1, 1.0 + reach * u(rng), reach * side * u(rng),
                     reach * side * u(rng)};
      const torch::Tensor ours = planes_of(fc::train::warp_jitter(level_image(x), j));
      const torch::Tensor theirs = torch_warp(x, j);
      // Within 1e-3 of a level before rounding (float sums in another order): a byte or two in
      // a 128 px face rounds the other way.
      EXPECT_LT((ours - theirs).abs().max().item<float>(), 2e-3f)
          << side << " px, jitter " << k << ": levels, before rounding";
    }
  }
}

TEST(FaceResample, ShrinkIsTorchsAreaInterpolation) {
  for (auto [from, to] : {std::pair{64, 32}, {128, 64}, {100, 64}, {96, 40}, {33, 32}}) {
    const torch::Tensor x = random_face(from, from, from);
    const torch::Tensor ours = planes_of(fc::train::shrink_area(level_image(x), to));
    const torch::Tensor theirs = F::interpolate(
        x, F::InterpolateFuncOptions().size(std::vector<int64_t>{to, to}).mode(torch::kArea));
    EXPECT_LT((ours - theirs).abs().max().item<float>(), 1e-3f) << from << " -> " << to;
  }
  const LevelImage small{8, 8, std::vector<float>(8 * 8 * 3, 1.f)};
  EXPECT_THROW(fc::train::shrink_area(small, 9), std::invalid_argument);
}

TEST(FaceResample, BytesRoundHalfToEvenAndClamp) {
  const LevelImage img{1, 2, {0.5f, 1.5f, 2.5f, -3.f, 254.6f, 300.f}};
  uint8_t out[6];
  img.to_bytes(out);
  const uint8_t want[6] = {0, 2, 2, 0, 255, 255};  // as torch::round, then clamp(0, 255)
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], want[i]) << i;
}
