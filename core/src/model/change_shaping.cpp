#include "facecycle/core/change_shaping.h"

#include <stdexcept>

namespace fc {
namespace {

namespace F = torch::nn::functional;

// One pass of [1 2 1]/4 down and across, per channel: [N,C,H,W] -> [N,C,H,W].
torch::Tensor binomial_pass(const torch::Tensor& c) {
  const auto k1 = torch::tensor({0.25, 0.5, 0.25}, c.options());
  const auto k =
      (k1.view({3, 1}) * k1.view({1, 3})).view({1, 1, 3, 3}).repeat({c.size(1), 1, 1, 1});
  const auto padded = F::pad(c, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
  return F::conv2d(padded, k, F::Conv2dFuncOptions().groups(c.size(1)));
}

}  // namespace

torch::Tensor shape_change(const torch::Tensor& x, const torch::Tensor& y, double scale, int blur) {
  if (x.sizes() != y.sizes() || (x.dim() != 3 && x.dim() != 4))
    throw std::invalid_argument("shape_change: x and y must be [3,R,R] or [N,3,R,R] alike");
  if (blur < 0) throw std::invalid_argument("shape_change: blur must be >= 0");
  if (scale == 1.0 && blur == 0) return y;
  auto change = x.dim() == 3 ? (y - x).unsqueeze(0) : y - x;
  for (int i = 0; i < blur; ++i) change = binomial_pass(change);
  if (x.dim() == 3) change = change.squeeze(0);
  return x + change * scale;
}

}  // namespace fc
