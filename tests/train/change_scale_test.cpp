// patch_share must tell the edits the sheets showed apart: a shade over the face and fine lines
// are not blotches; patches a few cells wide are.
#include "eval/change_scale.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "image_tensors.h"

using namespace fc::train;

namespace {

constexpr int kSize = 128;

torch::Tensor faces(int n) { return fc::train::testing::synthetic_faces(n, 40, kSize); }

// A grey-level change added to every channel, so that luminance moves by `delta`.
torch::Tensor with_change(const torch::Tensor& x, const torch::Tensor& delta) {
  return x + delta.expand_as(x);
}

// Dark discs of radius `r` pixels on a regular grid: v30's cheek patches, drawn on purpose.
torch::Tensor discs(int spacing, int r, double depth) {
  auto y = torch::arange(kSize, torch::kFloat32).view({kSize, 1}).remainder(spacing) - spacing / 2;
  auto x = torch::arange(kSize, torch::kFloat32).view({1, kSize}).remainder(spacing) - spacing / 2;
  return ((y * y + x * x).le(r * r).to(torch::kFloat32) * -depth).view({1, 1, kSize, kSize});
}

}  // namespace

TEST(PatchShare, NoChangeAndAShadeAreNotPatches) {
  const auto a = faces(4);
  EXPECT_EQ(patch_share(a, a), 0.0);
  // A face darkened by a slow gradient top to bottom (a shade, as a darker skin or a lit side).
  auto ramp = torch::linspace(0.0, -0.3, kSize).view({1, 1, kSize, 1}).expand({1, 1, kSize, kSize});
  EXPECT_LT(patch_share(a, with_change(a, ramp)), 0.05);
}

TEST(PatchShare, FinePixelTextureIsNotPatches) {
  const auto a = faces(4);
  auto yy = torch::arange(kSize).view({kSize, 1}), xx = torch::arange(kSize).view({1, kSize});
  auto checker = ((yy + xx).remainder(2).to(torch::kFloat32) * 2 - 1).view({1, 1, kSize, kSize});
  EXPECT_LT(patch_share(a, with_change(a, checker * 0.05)), 0.1);
}

TEST(PatchShare, CheekSizedPatchesAreMostOfTheChange) {
  const auto a = faces(4);
  const double blotchy = patch_share(a, with_change(a, discs(32, 7, 0.2)));
  EXPECT_GT(blotchy, 0.5);
  // The same patches under a shade of the same size are a smaller share of the change.
  auto shade = torch::full({1, 1, kSize, kSize}, -0.2f);
  EXPECT_LT(patch_share(a, with_change(a, shade + discs(32, 7, 0.2))), blotchy * 0.7);
}

TEST(PatchShare, DoesNotDependOnTheImageSize) {
  const auto a = faces(2);
  const auto patches = with_change(a, discs(32, 7, 0.2));
  const auto half = [](const torch::Tensor& x) { return torch::avg_pool2d(x, 2); };
  EXPECT_NEAR(patch_share(half(a), half(patches)), patch_share(a, patches), 0.1);
}

TEST(PatchShare, RefusesMismatchedOrTinyBatches) {
  EXPECT_THROW(patch_share(torch::zeros({2, 3, 64, 64}), torch::zeros({2, 3, 32, 32})),
               std::invalid_argument);
  EXPECT_THROW(patch_share(torch::zeros({2, 1, 64, 64}), torch::zeros({2, 1, 64, 64})),
               std::invalid_argument);
  EXPECT_THROW(patch_share(torch::zeros({2, 3, 8, 8}), torch::zeros({2, 3, 8, 8})),
               std::invalid_argument);
}
