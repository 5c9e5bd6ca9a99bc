// BT.601 luma and chroma of RGB tensors [N,3,...] (any range, e.g. [-1,1] images or their
// changes): the one definition the generator's colour filter, the training losses and the
// texture metrics share.
#pragma once

#include <torch/torch.h>

namespace fc {

// [N,...] Y.
inline torch::Tensor luma(const torch::Tensor& rgb) {
  return 0.299 * rgb.select(1, 0) + 0.587 * rgb.select(1, 1) + 0.114 * rgb.select(1, 2);
}

// [N,2,...] Cb and Cr.
inline torch::Tensor chroma(const torch::Tensor& rgb) {
  const torch::Tensor y = luma(rgb);
  return torch::stack({(rgb.select(1, 2) - y) / 1.772, (rgb.select(1, 0) - y) / 1.402}, 1);
}

// [N,3,...] RGB from Y [N,...] and Cb/Cr [N,2,...]: the inverse of luma and chroma.
inline torch::Tensor rgb_from_luma_chroma(const torch::Tensor& y, const torch::Tensor& cbcr) {
  const torch::Tensor r = y + 1.402 * cbcr.select(1, 1), b = y + 1.772 * cbcr.select(1, 0);
  return torch::stack({r, (y - 0.299 * r - 0.114 * b) / 0.587, b}, 1);
}

}  // namespace fc
