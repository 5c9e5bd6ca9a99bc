// BGR images as the networks take them, for the trainer and evaluation tests.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "facecycle/core/synthetic_faces.h"

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

// n synthetic faces of one fixed look at size x size, identities seed0, seed0 + 1, ...: a batch
// of "real photos" for the measures that compare images (texture, change scale).
inline torch::Tensor synthetic_faces(int n, uint64_t seed0, int size) {
  std::vector<cv::Mat> v;
  for (int i = 0; i < n; ++i)
    v.push_back(fc::render_face(fc::random_identity(seed0 + i), {0.3f, 0.2f}, size));
  return to_tensor(v);
}

}  // namespace fc::train::testing
