// Decoded face images kept in memory, square and downscaled, so each file is decoded once.
#pragma once

#include <torch/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "data/face_pixels.h"  // load_square_face

namespace fc::train {

// Thread-safe: concurrent get() calls may decode the same file twice, never corrupt the cache.
class FaceCache {
 public:
  FaceCache(std::vector<std::string> paths, int side);
  // [side, side, 3] uint8 RGB (face_pixels.h), decoded on first use
  const torch::Tensor& get(size_t index);
  size_t size() const { return paths_.size(); }
  int side() const { return side_; }
  const std::string& path(size_t index) const { return paths_[index]; }

 private:
  std::vector<std::string> paths_;
  int side_;
  std::vector<torch::Tensor> images_;
  std::vector<char> ready_;
  std::mutex mu_;
};

}  // namespace fc::train
