// Training pairs per second of the trainer's step (compute_g_loss, Adam on G, pooled
// compute_d_loss, Adam on the discriminators) at one size. Random inputs: this measures the
// networks, not JPEG decoding. Prints one JSON line.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cycle_losses.h"
#include "facecycle/core/torch_threads.h"
#include "image_pool.h"

int main(int argc, char** argv) {
  CLI::App app("facecycle training-step benchmark");
  int width = 32, blocks = 6, d_width = 64, size = 64, batch = 4, threads = 2, steps = 6,
      warmup = 2;
  app.add_option("--width", width);
  app.add_option("--blocks", blocks);
  app.add_option("--d-width", d_width);
  app.add_option("--size", size);
  app.add_option("--batch", batch);
  app.add_option("--threads", threads);
  app.add_option("--steps", steps);
  app.add_option("--warmup", warmup);
  bool bf16 = false;
  app.add_option("--bf16", bf16, "bf16 autocast for the forward passes (weights stay fp32)");
  CLI11_PARSE(app, argc, argv);

  fc::use_torch_threads(threads);
  torch::manual_seed(1);
  fc::GeneratorOptions go;
  go.width = width;
  go.blocks = blocks;
  fc::ResnetGenerator G = fc::make_seeded_generator(go, 1);
  const int layers = fc::patchgan_layers_for_size(size);
  fc::PatchDiscriminator D_A(fc::DiscriminatorOptions{d_width, layers});
  fc::PatchDiscriminator D_B(fc::DiscriminatorOptions{d_width, layers});
  auto adam = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
  torch::optim::Adam opt_G(G->parameters(), adam);
  std::vector<torch::Tensor> dp = D_A->parameters();
  for (auto& p : D_B->parameters()) dp.push_back(p);
  torch::optim::Adam opt_D(dp, adam);
  fc::train::ImagePool pool_A(50, 1), pool_B(50, 2);
  const fc::train::LossWeights w;

  if (bf16) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  auto step = [&] {
    torch::Tensor real_A = torch::rand({batch, 3, size, size}) * 2 - 1;
    torch::Tensor real_B = torch::rand({batch, 3, size, size}) * 2 - 1;
    for (auto& p : dp) p.set_requires_grad(false);
    opt_G.zero_grad();
    fc::train::GLoss g = fc::train::compute_g_loss({G, D_A, D_B}, {real_A, real_B, 0, 1}, w);
    const fc::train::CycleImages& im = g.images;
    g.total.backward();
    opt_G.step();
    for (auto& p : dp) p.set_requires_grad(true);
    opt_D.zero_grad();
    torch::Tensor loss_D = fc::train::compute_d_loss(D_A, real_B, pool_B.query(im.fake_B)) +
                           fc::train::compute_d_loss(D_B, real_A, pool_A.query(im.fake_A));
    loss_D.backward();
    opt_D.step();
    if (bf16) at::autocast::clear_cache();
  };
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::printf(
      "{\"impl\": \"libtorch\", \"size\": %d, \"batch\": %d, \"width\": %d, \"blocks\": %d, "
      "\"d_width\": %d, \"d_layers\": %d, \"threads\": %d, \"bf16\": %s, \"steps\": %d, "
      "\"ms_per_step\": %.3f, "
      "\"pairs_per_s\": %.3f}\n",
      size, batch, width, blocks, d_width, layers, threads, bf16 ? "true" : "false", steps,
      median * 1e3, batch / median);
  return 0;
}
