// Generator and discriminator behaviour: conditioning, documented channel4 erasure, shapes.
#include <gtest/gtest.h>

#include "facecycle/core/colour_space.h"
#include "facecycle/core/networks.h"
#include "model_test_util.h"

namespace {

using fc::Conditioning;
using fc::GeneratorOptions;
using fc::Upsampling;

GeneratorOptions small(Conditioning c = Conditioning::kCondInstanceNorm,
                       Upsampling u = Upsampling::kResizeConv) {
  GeneratorOptions o;
  o.width = 8;
  o.blocks = 2;
  o.num_conditions = 4;
  o.conditioning = c;
  o.upsampling = u;
  return o;
}

torch::Tensor faces(int n, int h, int w, uint64_t seed = 7) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::rand({n, 3, h, w}, gen) * 2 - 1;
}

torch::Tensor run(fc::ResnetGenerator& g, const torch::Tensor& x, int64_t cond) {
  torch::InferenceMode guard;
  return g->forward(x, torch::full({x.size(0)}, cond, torch::kLong));
}

// A freshly built CIN generator has gamma=1, beta=0 for every condition, so its conditions are
// indistinguishable by construction; the seeded init (what `fc-model init` writes) spreads the
// embeddings so the test can show that the condition reaches the output.
TEST(Generator, CinConditionsChangeTheOutput) {
  auto g = fc::make_seeded_generator(small(), 42);
  auto x = faces(2, 32, 32);
  auto y0 = run(g, x, 0), y1 = run(g, x, 1), y2 = run(g, x, 2);
  EXPECT_GT((y0 - y1).abs().mean().item<double>(), 0.01);
  EXPECT_GT((y0 - y2).abs().mean().item<double>(), 0.01);
  EXPECT_GT((y1 - y2).abs().mean().item<double>(), 0.01);
}

TEST(Generator, FreshCinEmbeddingsAreIdentity) {
  torch::manual_seed(1);
  fc::ResnetGenerator g(small());
  auto x = faces(1, 32, 32);
  EXPECT_TRUE(torch::allclose(run(g, x, 0), run(g, x, 3)));
}

TEST(Generator, MixedConditionsInOneBatchMatchSingleRuns) {
  auto g = fc::make_seeded_generator(small(), 3);
  auto x = faces(3, 32, 32);
  torch::Tensor y;
  {
    torch::InferenceMode guard;
    y = g->forward(x, torch::tensor({2, 0, 1}, torch::kLong));
  }
  const int64_t conds[] = {2, 0, 1};
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(y[i], run(g, x.narrow(0, i, 1), conds[i])[0], 1e-5, 1e-5)) << i;
}

// Large inference batches run in chunks; the chunk borders must not change any sample.
TEST(Generator, ChunkedLargeBatchMatchesSingleRuns) {
  auto g = fc::make_seeded_generator(small(), 4);
  auto x = faces(20, 64, 64);  // 20 x 64 x 64 px: above the chunk budget (16 x 64 x 64)
  auto cond = torch::arange(20, torch::kLong).remainder(4);
  torch::Tensor y;
  {
    torch::InferenceMode guard;
    y = g->forward(x, cond);
  }
  ASSERT_EQ(y.size(0), 20);
  for (int64_t i : {0, 15, 16, 19})
    EXPECT_TRUE(torch::allclose(y[i], run(g, x.narrow(0, i, 1), i % 4)[0], 1e-5, 1e-5)) << i;
}

// Documented behaviour of the original design (networks.h): the constant 4th channel becomes a
// per-channel constant after the first conv and the instance norm removes it.
TEST(Generator, Channel4ConditionIsErasedByInstanceNorm) {
  auto g = fc::make_seeded_generator(small(Conditioning::kChannel4), 42);
  auto x = faces(2, 32, 32);
  auto y0 = run(g, x, 0);
  for (int c = 1; c < 4; ++c)
    EXPECT_LT((y0 - run(g, x, c)).abs().max().item<double>(), 1e-4) << "condition " << c;
  // ...while the input itself still matters, so the comparison above is not vacuous.
  EXPECT_GT((y0 - run(g, faces(2, 32, 32, 8), 0)).abs().mean().item<double>(), 0.01);
}

TEST(Generator, KeepsShapeAtSizesDivisibleByFour) {
  for (auto up :
       {Upsampling::kResizeConv, Upsampling::kResizeConvBilinear, Upsampling::kTransposed}) {
    auto g = fc::make_seeded_generator(small(Conditioning::kCondInstanceNorm, up), 1);
    for (auto hw :
         std::vector<std::pair<int, int>>{{32, 32}, {48, 48}, {64, 64}, {100, 100}, {32, 48}}) {
      auto y = run(g, faces(1, hw.first, hw.second), 0);
      EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 3, hw.first, hw.second}));
      EXPECT_LE(y.abs().max().item<double>(), 1.0);  // tanh range
    }
  }
}

// Inference computes nearest-upsample + conv in a fused low-res form and the 3-channel tail as
// summed 1x1 taps; both must equal the literal layers that training (autograd on) uses.
TEST(Generator, InferencePathEqualsTrainingPath) {
  for (auto up :
       {Upsampling::kResizeConv, Upsampling::kResizeConvBilinear, Upsampling::kTransposed}) {
    auto g = fc::make_seeded_generator(small(Conditioning::kCondInstanceNorm, up), 9);
    for (auto hw :
         std::vector<std::pair<int, int>>{{32, 32}, {40, 24}, {264, 32}}) {  // 264: tail in 2 bands
      auto x = faces(2, hw.first, hw.second);
      auto cond = torch::tensor({1, 3}, torch::kLong);
      auto trained_path = g->forward(x, cond);
      ASSERT_TRUE(trained_path.requires_grad());
      torch::Tensor inference_path;
      {
        torch::InferenceMode guard;
        inference_path = g->forward(x, cond);
      }
      EXPECT_TRUE(torch::allclose(trained_path.detach(), inference_path, 1e-5, 1e-5))
          << "max diff " << (trained_path.detach() - inference_path).abs().max().item<double>();
    }
  }
}

TEST(Generator, ResidualOutputStartsAsTheIdentityAndLearnsAChange) {
  auto g = fc::make_seeded_generator(small(), 12);
  auto x = faces(2, 32, 32);
  const auto image_out = run(g, x, 0);
  EXPECT_GT((image_out - x).abs().mean().item<double>(), 0.05);
  g->start_residual();
  EXPECT_EQ(g->options().output, fc::Output::kResidual);
  EXPECT_TRUE(torch::equal(run(g, x, 0), x)) << "a zeroed tail must pass the input through";
  // The trunk is kept: once the tail learns, conditions give different changes, and the
  // training path equals the inference path.
  fc_test::give_tail_a_change(g, 0.05);
  const auto y0 = run(g, x, 0), y2 = run(g, x, 2);
  EXPECT_GT((y0 - x).abs().mean().item<double>(), 0.01);
  EXPECT_GT((y0 - y2).abs().mean().item<double>(), 0.001);
  EXPECT_LE(y0.abs().max().item<double>(), 1.0);
  auto cond = torch::zeros({2}, torch::kLong);
  EXPECT_TRUE(torch::allclose(g->forward(x, cond).detach(), y0, 1e-5, 1e-5));
}

TEST(Generator, WarmStartMaySwitchBetweenResizeConvModesOnly) {
  auto g = fc::make_seeded_generator(small(), 13);
  auto x = faces(1, 32, 32);
  const auto nearest = run(g, x, 1);
  g->set_upsampling(Upsampling::kResizeConvBilinear);
  const auto bilinear = run(g, x, 1);
  EXPECT_EQ(bilinear.sizes(), nearest.sizes());
  EXPECT_GT((bilinear - nearest).abs().max().item<double>(), 1e-4);
  auto same = fc::make_seeded_generator(
      small(Conditioning::kCondInstanceNorm, Upsampling::kResizeConvBilinear), 13);
  EXPECT_TRUE(torch::allclose(run(same, x, 1), bilinear, 1e-6, 1e-6));
  EXPECT_THROW(g->set_upsampling(Upsampling::kTransposed), std::invalid_argument);
}

// A chroma grid keeps the change's luminance at every pixel and its region-sized tints, and
// removes pixel-sized colour patches (the magenta cheek blotches of v24-v27).
TEST(Generator, LowPassChromaKeepsLuminanceAndRegionTints) {
  auto luma = [](const torch::Tensor& t) {
    return 0.299 * t.select(1, 0) + 0.587 * t.select(1, 1) + 0.114 * t.select(1, 2);
  };
  const auto noise = faces(1, 32, 32) * 0.1;
  EXPECT_TRUE(torch::allclose(luma(fc::low_pass_chroma(noise, 4)), luma(noise), 1e-5, 1e-6));
  auto tint = torch::zeros({1, 3, 32, 32});
  tint.select(1, 0).fill_(0.1);  // redder everywhere
  tint.select(1, 2).fill_(-0.05);
  EXPECT_TRUE(torch::allclose(fc::low_pass_chroma(tint, 4), tint, 1e-5, 1e-6));
  // Magenta and green on alternate pixels, no luminance: a grid of 4 leaves nothing of it.
  auto checker =
      (torch::arange(32).view({32, 1}) + torch::arange(32).view({1, 32})).remainder(2) * 2 - 1;
  auto patch = torch::zeros({1, 3, 32, 32});
  patch.select(1, 0).copy_(checker * 0.1);
  patch.select(1, 2).copy_(checker * 0.1);
  patch.select(1, 1).copy_(checker * -(0.1 * 0.299 + 0.1 * 0.114) / 0.587);
  EXPECT_LT(fc::low_pass_chroma(patch, 4).abs().max().item<double>(), 1e-6);
}

TEST(Generator, ChromaGridFiltersTheResidualChangeOnly) {
  auto g = fc::make_seeded_generator(small(), 14);
  EXPECT_THROW(g->set_chroma_grid(4), std::invalid_argument) << "image output has no change";
  g->start_residual();
  fc_test::give_tail_a_change(g, 0.005);
  const auto x = faces(2, 32, 32) * 0.3;  // far from the clamp
  const auto plain = run(g, x, 0);
  g->set_chroma_grid(4);
  EXPECT_EQ(g->options().chroma_grid, 4);
  const auto gridded = run(g, x, 0);
  ASSERT_LT((plain - x).abs().max().item<double>(), 0.6) << "the clamp would bite";
  EXPECT_TRUE(torch::allclose(gridded - x, fc::low_pass_chroma(plain - x, 4), 1e-5, 1e-5));
  EXPECT_GT((gridded - plain).abs().max().item<double>(), 1e-3);
  auto cond = torch::zeros({2}, torch::kLong);
  EXPECT_TRUE(torch::allclose(g->forward(x, cond).detach(), gridded, 1e-5, 1e-5));
}

// The desaturation head added to a trained model starts as the identity, learns (its gradient
// is live at zero), and can only take colour away: grey stays grey, hue never turns.
TEST(Generator, DesaturationMapStartsAsIdentityAndOnlyRemovesColour) {
  auto g = fc::make_seeded_generator(small(), 15);
  EXPECT_THROW(g->add_desaturation_map(), std::invalid_argument) << "image output has no change";
  g->start_residual();
  fc_test::give_tail_a_change(g, 0.005);
  const auto x = faces(2, 32, 32) * 0.3;
  const auto before = run(g, x, 1);
  g->add_desaturation_map();
  EXPECT_TRUE(g->options().desaturation_map);
  EXPECT_TRUE(torch::equal(run(g, x, 1), before)) << "a zero head must not change the output";

  auto cond = torch::ones({2}, torch::kLong);
  g->zero_grad();
  fc::chroma(g->forward(x, cond)).abs().sum().backward();
  const auto head = g->named_parameters()["desaturation.bias"];
  ASSERT_TRUE(head.grad().defined());
  EXPECT_GT(head.grad().abs().item<double>(), 0.0) << "the head must learn from a zero start";

  auto grey_out = [&](double bias) {
    torch::NoGradGuard no_grad;
    g->named_parameters()["desaturation.bias"].fill_(bias);
    return run(g, x, 1);
  };
  const auto in_chroma = fc::chroma(x);
  // A large negative logit: the input's own chroma is gone, the grid's field stays.
  const auto field = fc::chroma(before) - in_chroma;
  const auto greyed = grey_out(-20.0);
  EXPECT_TRUE(torch::allclose(fc::chroma(greyed), field, 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(fc::luma(greyed), fc::luma(before), 1e-5, 1e-5));
  // A positive logit adds nothing.
  EXPECT_TRUE(torch::allclose(grey_out(20.0), before, 1e-6, 1e-6));
  // On a grey face the head changes nothing, whatever it says.
  const auto grey = fc::luma(x).unsqueeze(1).expand({2, 3, 32, 32}).contiguous();
  const auto grey_before = run(g, grey, 1);
  grey_out(-20.0);
  EXPECT_TRUE(torch::allclose(run(g, grey, 1), grey_before, 1e-6, 1e-6));
}

// bf16 takes another padding path (LibTorch 1.13 has no CPU bf16 pad kernels) and rounds every
// activation; outputs in [-1, 1] must stay within a few 8-bit levels of fp32 everywhere.
TEST(Generator, Bf16OutputStaysCloseToFp32) {
  for (auto up : {Upsampling::kResizeConv, Upsampling::kTransposed}) {
    auto g = fc::make_seeded_generator(small(Conditioning::kCondInstanceNorm, up), 5);
    auto x = faces(2, 40, 32);
    auto cond = torch::tensor({0, 2}, torch::kLong);
    torch::InferenceMode guard;
    auto y32 = g->forward(x, cond);
    g->to(torch::kBFloat16);
    auto y16 = g->forward(x.to(torch::kBFloat16), cond);
    ASSERT_EQ(y16.scalar_type(), torch::kBFloat16);
    auto d = (y16.to(torch::kFloat) - y32).abs();
    EXPECT_LT(d.mean().item<double>(), 1.0 / 127.5) << "mean diff above one 8-bit level";
    EXPECT_LT(d.max().item<double>(), 12.0 / 127.5);
    // Padding is exact in any dtype: the bf16 result of a layer with every weight in bf16
    // differs only by rounding, so a wrong pad (shifted or mirrored rows) would show here.
    EXPECT_GT(y32.abs().mean().item<double>(), 0.05);
  }
}

TEST(Generator, RefusesSizesNotDivisibleByFour) {
  auto g = fc::make_seeded_generator(small(), 1);
  for (int s : {30, 50, 66, 101}) {
    try {
      run(g, faces(1, s, s), 0);
      ADD_FAILURE() << "size " << s << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("multiple of 4"), std::string::npos) << e.what();
    }
  }
}

TEST(Generator, RefusesOutOfRangeCondition) {
  auto g = fc::make_seeded_generator(small(), 1);
  EXPECT_THROW(run(g, faces(1, 32, 32), 4), std::invalid_argument);
}

TEST(Discriminator, LayersForSizeKeepAtLeastFourByFourPatches) {
  EXPECT_EQ(fc::patchgan_layers_for_size(256), 3);
  EXPECT_EQ(fc::patchgan_layers_for_size(128), 3);
  EXPECT_EQ(fc::patchgan_layers_for_size(32), 2);
  EXPECT_EQ(fc::patchgan_layers_for_size(16), 1);
}

TEST(Discriminator, PatchGridSizes) {
  torch::InferenceMode guard;
  struct Case {
    int size, layers, grid;
  };
  for (auto c :
       {Case{256, 3, 30}, Case{128, 3, 14}, Case{64, 3, 6}, Case{32, 2, 6}, Case{32, 1, 14}}) {
    fc::PatchDiscriminator d(fc::DiscriminatorOptions{16, c.layers});
    auto y = d->forward(faces(2, c.size, c.size));
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 1, c.grid, c.grid})) << c.size << "/" << c.layers;
  }
}

}  // namespace
