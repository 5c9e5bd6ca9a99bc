#include "image_pool.h"

#include <torch/torch.h>

#include <sstream>

namespace fc::train {

ImagePool::ImagePool(int capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {}

torch::Tensor ImagePool::query(const torch::Tensor& images) {
  torch::Tensor in = images.detach();
  if (capacity_ == 0) return in;
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < in.size(0); ++i) {
    torch::Tensor img = in[i].clone();
    if (static_cast<int>(images_.size()) < capacity_) {
      images_.push_back(img);
      out.push_back(img);
    } else if (rng_() % 2 == 0) {
      size_t j = rng_() % images_.size();
      out.push_back(images_[j]);
      images_[j] = img;
    } else {
      out.push_back(img);
    }
  }
  return torch::stack(out);
}

torch::Tensor ImagePool::stacked() const {
  return images_.empty() ? torch::empty({0}) : torch::stack(images_);
}

void ImagePool::load(const torch::Tensor& stacked) {
  images_.clear();
  if (stacked.dim() != 4) return;
  for (int64_t i = 0; i < stacked.size(0); ++i) images_.push_back(stacked[i].clone());
}

std::string ImagePool::rng_state() const {
  std::ostringstream s;
  s << rng_;
  return s.str();
}

void ImagePool::set_rng_state(const std::string& s) {
  std::istringstream in(s);
  in >> rng_;
}

}  // namespace fc::train
