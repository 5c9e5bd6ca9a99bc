// The CycleGAN image buffer (Shrivastava et al.): discriminators see a mix of the newest fakes
// and older ones, which damps oscillation.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fc::train {

class ImagePool {
 public:
  ImagePool(int capacity, uint64_t seed);

  // images: [B,3,H,W]. While the pool is filling every image is stored and returned; after
  // that each image is, with probability 1/2, swapped for a random stored one. Detached.
  torch::Tensor query(const torch::Tensor& images);
  // Sizes change between progressive stages; old-size fakes are dropped then.
  void clear() { images_.clear(); }
  int64_t size() const { return static_cast<int64_t>(images_.size()); }

  // For checkpoints: the stored images as one [N,3,H,W] tensor (empty when N = 0), and the
  // RNG state as text.
  torch::Tensor stacked() const;
  void load(const torch::Tensor& stacked);
  std::string rng_state() const;
  void set_rng_state(const std::string& s);

 private:
  int capacity_;
  std::mt19937_64 rng_;
  std::vector<torch::Tensor> images_;
};

}  // namespace fc::train
