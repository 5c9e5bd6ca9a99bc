#include "eval/change_scale.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "facecycle/core/colour_space.h"

namespace fc::train {
namespace {

// An odd box width of `at_128` pixels at 128 px, scaled to `size`, at least 3.
int64_t box_width(int64_t size, double at_128) {
  const auto w = static_cast<int64_t>(std::lround(at_128 * static_cast<double>(size) / 128.0));
  return std::max<int64_t>(3, w | 1);
}

// Replicated borders, so that a shade reaching the edge stays a shade after blurring.
torch::Tensor box_blur(const torch::Tensor& x, int64_t width) {
  const int64_t r = width / 2;
  return torch::avg_pool2d(torch::replication_pad2d(x, {r, r, r, r}), width, 1);
}

}  // namespace

double patch_share(const torch::Tensor& source, const torch::Tensor& edited) {
  if (source.dim() != 4 || source.size(1) != 3 || source.sizes() != edited.sizes() ||
      source.size(2) != source.size(3) || source.size(2) < kPatchShareMinSize)
    throw std::invalid_argument("patch_share: expects two [N,3,S,S] batches of one shape, S >= " +
                                std::to_string(kPatchShareMinSize));
  torch::NoGradGuard no_grad;
  const auto s = source.size(2);
  const torch::Tensor change = (luma(edited.to(torch::kCPU, torch::kFloat64)) -
                                luma(source.to(torch::kCPU, torch::kFloat64)))
                                   .unsqueeze(1);
  const double total = change.abs().mean().item<double>();
  if (total < 1e-9) return 0.0;
  const torch::Tensor band = box_blur(change, box_width(s, 5)) - box_blur(change, box_width(s, 21));
  return band.abs().mean().item<double>() / total;
}

}  // namespace fc::train
