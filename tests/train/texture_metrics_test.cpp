// The texture measure must flag what the model sheets show by eye: checkerboard, horizontal
// banding, noise and blur, and stay near 1 for real faces of the same kind.
#include "eval/texture_metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "image_tensors.h"

using namespace fc::train;

namespace {

constexpr int kSize = 64;

torch::Tensor faces(int n, uint64_t seed0) {
  return fc::train::testing::synthetic_faces(n, seed0, kSize);
}

// A pattern that varies along rows only with the given period in pixels.
torch::Tensor row_bands(double period, double amplitude) {
  auto y = torch::arange(kSize, torch::kFloat32).view({1, 1, kSize, 1});
  return (y * (2 * M_PI / period)).cos() * amplitude;
}

}  // namespace

TEST(Texture, RealFacesAgainstOtherRealFacesStayNearOne) {
  const auto a = faces(64, 100), b = faces(64, 500);
  const TextureStats same = compare_texture(a, a);
  EXPECT_DOUBLE_EQ(same.hf_power_ratio, 1.0);
  EXPECT_DOUBLE_EQ(same.spectral_peak_ratio, 1.0);
  const TextureStats other = compare_texture(a, b);
  EXPECT_NEAR(other.hf_power_ratio, 1.0, 0.25);
  EXPECT_LT(other.spectral_peak_ratio, 3.0);
}

TEST(Texture, CheckerboardPeaksAtNyquist) {
  const auto a = faces(64, 100), b = faces(64, 500);
  auto yy = torch::arange(kSize).view({kSize, 1}), xx = torch::arange(kSize).view({1, kSize});
  auto checker = ((yy + xx).remainder(2).to(torch::kFloat32) * 2 - 1) * 0.03;
  const TextureStats t = compare_texture((a + checker).clamp(-1, 1), b);
  EXPECT_GT(t.spectral_peak_ratio, 20.0);
  EXPECT_NEAR(std::abs(t.peak_fy), 0.5, 0.02);
  EXPECT_NEAR(t.peak_fx, 0.5, 0.02);
}

TEST(Texture, HorizontalBandsPeakOnTheVerticalAxis) {
  const auto a = faces(64, 100), b = faces(64, 500);
  const TextureStats t = compare_texture((a + row_bands(3.0, 0.03)).clamp(-1, 1), b);
  EXPECT_GT(t.spectral_peak_ratio, 10.0);
  EXPECT_NEAR(std::abs(t.peak_fy), 1.0 / 3.0, 0.02);
  EXPECT_NEAR(t.peak_fx, 0.0, 0.02);
}

TEST(Texture, NoiseRaisesAndBlurLowersTheHighBand) {
  const auto a = faces(64, 100), b = faces(64, 500);
  torch::manual_seed(3);
  const TextureStats noisy = compare_texture((a + torch::randn_like(a) * 0.1).clamp(-1, 1), b);
  EXPECT_GT(noisy.hf_power_ratio, 1.3);
  const auto blurred = torch::avg_pool2d(torch::replication_pad2d(a, {1, 1, 1, 1}), 3, 1);
  EXPECT_LT(compare_texture(blurred, b).hf_power_ratio, 0.6);
}

TEST(Texture, RefusesMismatchedShapes) {
  EXPECT_THROW(compare_texture(torch::zeros({2, 3, 64, 64}), torch::zeros({2, 3, 32, 32})),
               std::invalid_argument);
  EXPECT_THROW(compare_texture(torch::zeros({2, 1, 64, 64}), torch::zeros({2, 1, 64, 64})),
               std::invalid_argument);
}
