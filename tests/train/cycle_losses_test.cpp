// The generator objective: cycle noise perturbs only the reconstruction pass.
#include "cycle_losses.h"

#include <gtest/gtest.h>

using namespace fc::train;

namespace {

struct Nets {
  fc::ResnetGenerator G = fc::make_seeded_generator({8, 1, 4}, 7);
  fc::PatchDiscriminator D_A{fc::DiscriminatorOptions{8, 2}};
  fc::PatchDiscriminator D_B{fc::DiscriminatorOptions{8, 2}};
};

GLoss run(Nets& n, double noise, CycleImages* im) {
  torch::manual_seed(11);
  const auto a = torch::rand({2, 3, 32, 32}) * 2 - 1, b = torch::rand({2, 3, 32, 32}) * 2 - 1;
  LossWeights w;
  w.cycle_noise = noise;
  return compute_g_loss(n.G, n.D_A, n.D_B, a, b, 0, 1, w, im);
}

}  // namespace

TEST(CycleLosses, CycleNoiseChangesOnlyTheReconstruction) {
  Nets n;
  CycleImages clean, clean2, noisy;
  const GLoss g0 = run(n, 0.0, &clean), g1 = run(n, 0.0, &clean2), g2 = run(n, 0.2, &noisy);
  EXPECT_DOUBLE_EQ(g0.loss_cycle_A, g1.loss_cycle_A);  // deterministic without noise
  EXPECT_TRUE(torch::equal(clean.fake_B, noisy.fake_B));
  EXPECT_TRUE(torch::equal(clean.idt_A, noisy.idt_A));
  EXPECT_DOUBLE_EQ(g0.loss_G_A, g2.loss_G_A);
  EXPECT_FALSE(torch::allclose(clean.rec_A, noisy.rec_A, 1e-4, 1e-4));
  EXPECT_NE(g0.loss_cycle_A, g2.loss_cycle_A);
}
