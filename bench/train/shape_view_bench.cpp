// Milliseconds for shape_change_loss forward and backward (the Black->White shading price),
// against the square-window form it replaced, in the same run on the same inputs. Prints one
// JSON line.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "cycle_losses.h"
#include "facecycle/core/torch_threads.h"

namespace {
// The form before the separable passes: one square avg_pool2d window (w^2 terms a pixel).
torch::Tensor square_shape_view(const torch::Tensor& rgb, double var_floor) {
  const torch::Tensor y = fc::train::to_grey3(rgb).narrow(1, 0, 1);
  const int64_t window = std::max<int64_t>(3, rgb.size(-1) / 4) | 1;
  auto local_mean = [window](const torch::Tensor& t) {
    return torch::avg_pool2d(t, window, 1, window / 2, false, false);
  };
  const torch::Tensor mean = local_mean(y);
  const torch::Tensor var = torch::relu(local_mean(y * y) - mean * mean);
  return ((y - mean) / torch::sqrt(var + var_floor) * 0.5).expand({-1, 3, -1, -1});
}

torch::Tensor square_shape_change_loss(const torch::Tensor& source, const torch::Tensor& fake) {
  return torch::l1_loss(square_shape_view(fake, 0.0025), square_shape_view(source, 0.0025));
}

template <typename Loss>
double ms_per_call(Loss loss, const torch::Tensor& source, const torch::Tensor& fake, int reps) {
  auto once = [&] {
    torch::Tensor f = fake.detach().requires_grad_(true);
    loss(source, f).backward();
  };
  once();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) once();
  const std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;
  return dt.count() / reps;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app("facecycle shading-price benchmark: separable vs square local mean");
  int size = 128, batch = 4, threads = 2, reps = 10;
  bool bf16 = false;
  app.add_option("--size", size);
  app.add_option("--batch", batch);
  app.add_option("--threads", threads);
  app.add_option("--reps", reps);
  app.add_option("--bf16", bf16, "bf16 inputs (what the generator gives under autocast)");
  CLI11_PARSE(app, argc, argv);

  fc::use_torch_threads(threads);
  torch::manual_seed(1);
  const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  const torch::Tensor source = (torch::rand({batch, 3, size, size}) * 2 - 1).to(dtype);
  const torch::Tensor fake = (torch::rand({batch, 3, size, size}) * 2 - 1).to(dtype);
  const double square = ms_per_call(square_shape_change_loss, source, fake, reps);
  const double separable = ms_per_call(fc::train::shape_change_loss, source, fake, reps);
  std::printf(
      "{\"size\": %d, \"batch\": %d, \"threads\": %d, \"bf16\": %d, \"square_ms\": %.2f, "
      "\"separable_ms\": %.2f, \"speedup\": %.2f}\n",
      size, batch, threads, bf16 ? 1 : 0, square, separable, square / separable);
  return 0;
}
