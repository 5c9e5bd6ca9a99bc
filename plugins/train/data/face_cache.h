// Decoded face images kept in memory, square and downscaled, so each file is decoded once.
#pragma once

#include <mutex>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fc::train {

// Reads an image (fc::read_image: throws fc::ImageError naming the file; a face pack's PACK/NAME
// comes from the pack), centre-crops it to a square and resizes it to side x side (INTER_AREA),
// BGR CV_8UC3.
cv::Mat load_square_face(const std::string& path, int side);

// Thread-safe: concurrent get() calls may decode the same file twice, never corrupt the cache.
class FaceCache {
 public:
  FaceCache(std::vector<std::string> paths, int side);
  const cv::Mat& get(size_t index);  // decoded on first use
  size_t size() const { return paths_.size(); }
  int side() const { return side_; }
  const std::string& path(size_t index) const { return paths_[index]; }

 private:
  std::vector<std::string> paths_;
  int side_;
  std::vector<cv::Mat> images_;
  std::vector<char> ready_;
  std::mutex mu_;
};

}  // namespace fc::train
