#include "cycle_losses.h"

#include <algorithm>

#include "facecycle/core/colour_space.h"

namespace fc::train {
namespace {

// The condition id of each image of a batch made of runs of (count, id), on `device`.
torch::Tensor condition_ids(std::initializer_list<std::pair<int64_t, int64_t>> runs,
                            const torch::Device& device) {
  const auto on = torch::TensorOptions().dtype(torch::kLong).device(device);
  std::vector<torch::Tensor> c;
  for (auto [n, id] : runs) c.push_back(torch::full({n}, id, on));
  return torch::cat(c);
}

}  // namespace

torch::Tensor compute_hold_loss(ResnetGenerator& G, ResnetGenerator& G_hold,
                                const CycleBatch& batch) {
  const torch::Tensor x = torch::cat({batch.real_A, batch.real_B});
  const torch::Tensor c = condition_ids(
      {{batch.real_A.size(0), batch.cond_AB}, {batch.real_B.size(0), batch.cond_BA}}, x.device());
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    want = G_hold->forward(x, c);
  }
  // One mean over both halves of equal size is the mean of the two directions' means.
  return torch::l1_loss(G->forward(x, c), want);
}

torch::Tensor lsgan_loss(const torch::Tensor& prediction, float target) {
  return torch::mse_loss(prediction, torch::full_like(prediction, target));
}

GLoss compute_g_loss(CycleNets nets, const CycleBatch& batch, const LossWeights& w) {
  const torch::Tensor& real_A = batch.real_A;
  const torch::Tensor& real_B = batch.real_B;
  const int64_t cond_AB = batch.cond_AB, cond_BA = batch.cond_BA;
  const int64_t nA = real_A.size(0), nB = real_B.size(0);
  const bool identity = w.identity > 0;
  auto conds = [&](std::initializer_list<std::pair<int64_t, int64_t>> runs) {
    return condition_ids(runs, real_A.device());
  };

  // Pass 1: fake_B = G_A(real_A), fake_A = G_B(real_B), idt_A = G_A(real_B), idt_B = G_B(real_A)
  torch::Tensor x1 =
      identity ? torch::cat({real_A, real_B, real_B, real_A}) : torch::cat({real_A, real_B});
  torch::Tensor c1 = identity ? conds({{nA, cond_AB}, {nB, cond_BA}, {nB, cond_AB}, {nA, cond_BA}})
                              : conds({{nA, cond_AB}, {nB, cond_BA}});
  torch::Tensor y1 = nets.G->forward(x1, c1);
  GLoss g;
  CycleImages& im = g.images;
  im.fake_B = y1.narrow(0, 0, nA);
  im.fake_A = y1.narrow(0, nA, nB);
  if (identity) {
    im.idt_A = y1.narrow(0, nA + nB, nB);
    im.idt_B = y1.narrow(0, nA + 2 * nB, nA);
  }
  // Pass 2: rec_A = G_B(fake_B), rec_B = G_A(fake_A)
  torch::Tensor fakes = torch::cat({im.fake_B, im.fake_A});
  if (w.cycle_noise > 0) fakes = fakes + torch::randn_like(fakes) * w.cycle_noise;
  torch::Tensor y2 = nets.G->forward(fakes, conds({{nA, cond_BA}, {nB, cond_AB}}));
  im.rec_A = y2.narrow(0, 0, nA);
  im.rec_B = y2.narrow(0, nA, nB);

  torch::Tensor loss_G_A = lsgan_loss(nets.D_A->forward(im.fake_B), 1.f) * w.gan;
  torch::Tensor loss_G_B = lsgan_loss(nets.D_B->forward(im.fake_A), 1.f) * w.gan;
  torch::Tensor loss_cycle_A = torch::l1_loss(im.rec_A, real_A) * w.cycle;
  torch::Tensor loss_cycle_B = torch::l1_loss(im.rec_B, real_B) * w.cycle;
  g.total = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B;
  if (identity) {
    torch::Tensor loss_idt_A = torch::l1_loss(im.idt_A, real_B) * w.identity;
    torch::Tensor loss_idt_B = torch::l1_loss(im.idt_B, real_A) * w.identity;
    g.total = g.total + loss_idt_A + loss_idt_B;
    g.loss_idt_A = loss_idt_A.item<double>();
    g.loss_idt_B = loss_idt_B.item<double>();
  }
  g.loss_G_A = loss_G_A.item<double>();
  g.loss_G_B = loss_G_B.item<double>();
  g.loss_cycle_A = loss_cycle_A.item<double>();
  g.loss_cycle_B = loss_cycle_B.item<double>();
  return g;
}

namespace {
// [N,2] per-image mean Cb and Cr of RGB images.
torch::Tensor mean_chroma(const torch::Tensor& rgb) { return chroma(rgb.mean({2, 3})); }
}  // namespace

torch::Tensor colour_shift_loss(const torch::Tensor& source, const torch::Tensor& fake) {
  return (mean_chroma(fake) - mean_chroma(source)).abs().mean();
}

torch::Tensor change_detail_loss(const torch::Tensor& source, const torch::Tensor& fake,
                                 int radius) {
  torch::Tensor change = fake - source;
  const int64_t r = radius;
  torch::Tensor blurred = torch::avg_pool2d(torch::reflection_pad2d(change, {r, r, r, r}),
                                            /*kernel_size=*/2 * r + 1, /*stride=*/1);
  return (change - blurred).abs().mean();
}

torch::Tensor local_tint_loss(const torch::Tensor& source, const torch::Tensor& fake, int patch) {
  auto patch_chroma = [patch](const torch::Tensor& rgb) {
    return torch::avg_pool2d(chroma(rgb), patch, patch, /*padding=*/0, /*ceil_mode=*/true,
                             /*count_include_pad=*/false);
  };
  // Only a chroma moving away from grey costs: a fading colour is greying hair, a real age cue.
  return torch::relu(patch_chroma(fake).abs() - patch_chroma(source).abs()).mean();
}

torch::Tensor to_grey3(const torch::Tensor& rgb) {
  return fc::luma(rgb).unsqueeze(1).expand({-1, 3, -1, -1});
}

torch::Tensor shape_view(const torch::Tensor& rgb, double var_floor) {
  const torch::Tensor y = to_grey3(rgb).narrow(1, 0, 1);
  const int64_t window = std::max<int64_t>(3, rgb.size(-1) / 4) | 1;  // odd: centred
  // Two 1-D passes, not one square window: 2w terms a pixel instead of w^2, 3.8x faster forward
  // and backward at 128 px (bench_shape_view). Without the padding in the divisor the border
  // counts factorise into rows x columns, so the result is the square window's.
  auto local_mean = [window](const torch::Tensor& t) {
    const torch::Tensor rows = torch::avg_pool2d(t, {window, 1}, 1, {window / 2, 0},
                                                 /*ceil_mode=*/false, /*count_include_pad=*/false);
    return torch::avg_pool2d(rows, {1, window}, 1, {0, window / 2}, /*ceil_mode=*/false,
                             /*count_include_pad=*/false);
  };
  const torch::Tensor mean = local_mean(y);
  const torch::Tensor var = torch::relu(local_mean(y * y) - mean * mean);
  const torch::Tensor z = (y - mean) / torch::sqrt(var + var_floor);
  return (z * 0.5).expand({-1, 3, -1, -1});
}

torch::Tensor shape_change_loss(const torch::Tensor& source, const torch::Tensor& fake) {
  // A lower floor than the classifier's: dark skin has little local contrast, and lightening it
  // raises that contrast, which the classifier's floor would count as a change of pattern.
  return torch::l1_loss(shape_view(fake, 0.0025), shape_view(source, 0.0025));
}

namespace {
torch::Tensor classifier_input(const torch::Tensor& rgb, ClassifierInput input) {
  switch (input) {
    case ClassifierInput::kGrey:
      return to_grey3(rgb);
    case ClassifierInput::kShape:
      return shape_view(rgb);
    case ClassifierInput::kColour:
      break;
  }
  return rgb;
}

torch::Tensor classifier_view(const torch::Tensor& rgb, ClassifierInput input, int downsample) {
  const torch::Tensor view = classifier_input(rgb, input);
  return downsample > 1 ? torch::avg_pool2d(view, downsample, downsample) : view;
}
}  // namespace

torch::Tensor domain_cls_loss(PatchDiscriminator& C, const torch::Tensor& side_A,
                              const torch::Tensor& side_B, ClassifierInput input, int downsample) {
  torch::Tensor logit_A = C->forward(classifier_view(side_A, input, downsample));
  torch::Tensor logit_B = C->forward(classifier_view(side_B, input, downsample));
  return 0.5 * (torch::binary_cross_entropy_with_logits(logit_A, torch::zeros_like(logit_A)) +
                torch::binary_cross_entropy_with_logits(logit_B, torch::ones_like(logit_B)));
}

torch::Tensor compute_d_loss(PatchDiscriminator& D, const torch::Tensor& real,
                             const torch::Tensor& fake, const torch::Tensor& source,
                             double source_weight) {
  torch::Tensor sum =
      lsgan_loss(D->forward(real), 1.f) + lsgan_loss(D->forward(fake.detach()), 0.f);
  if (source.defined() && source_weight > 0)
    sum = sum + lsgan_loss(D->forward(source), 0.f) * source_weight;
  return 0.5 * sum;
}

}  // namespace fc::train
