#include "data/face_cache.h"

namespace fc::train {

FaceCache::FaceCache(std::vector<std::string> paths, int side)
    : paths_(std::move(paths)), side_(side), images_(paths_.size()), ready_(paths_.size(), 0) {}

const torch::Tensor& FaceCache::get(size_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_[index]) return images_[index];
  }
  torch::Tensor img = load_square_face(paths_[index], side_);  // decode outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_[index]) {
    images_[index] = std::move(img);
    ready_[index] = 1;
  }
  return images_[index];  // never reassigned once ready, so the reference stays valid
}

}  // namespace fc::train
