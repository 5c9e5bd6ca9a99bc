// BGR images as the networks take them, for the trainer and evaluation tests.
#pragma once

#include <torch/torch.h>

#include <opencv2/imgproc.hpp>
#include <vector>

namespace fc::train::testing {

// CV_8UC3 BGR images of one size -> [N,3,H,W] float RGB in [-1,1].
inline torch::Tensor to_tensor(const std::vector<cv::Mat>& images) {
  std::vector<torch::Tensor> v;
  for (const auto& m : images) {
    cv::Mat rgb;
    cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
    v.push_back(torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
                    .permute({2, 0, 1})
                    .to(torch::kFloat32)
                    .div(127.5)
                    .sub(1));
  }
  return torch::stack(v);
}

}  // namespace fc::train::testing
