#include "data/face_cache.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "data/packed_faces.h"
#include "facecycle/core/image_io.h"

namespace fc::train {
namespace {

cv::Mat decode_face(const std::string& path) {
  const torch::Tensor rgb = packed_face_rgb(path);
  if (!rgb.defined()) return fc::read_image(path).bgr;
  const cv::Mat view(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3,
                     rgb.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);  // copies out of the shared pack
  return bgr;
}

}  // namespace

cv::Mat load_square_face(const std::string& path, int side) {
  cv::Mat bgr = decode_face(path);
  const int s = std::min(bgr.cols, bgr.rows);
  cv::Mat square = bgr(cv::Rect((bgr.cols - s) / 2, (bgr.rows - s) / 2, s, s));
  cv::Mat out;
  if (s == side)
    out = square.clone();
  else
    cv::resize(square, out, cv::Size(side, side), 0, 0,
               s > side ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

FaceCache::FaceCache(std::vector<std::string> paths, int side)
    : paths_(std::move(paths)), side_(side), images_(paths_.size()), ready_(paths_.size(), 0) {}

const cv::Mat& FaceCache::get(size_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_[index]) return images_[index];
  }
  cv::Mat img = load_square_face(paths_[index], side_);  // decode outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_[index]) {
    images_[index] = std::move(img);
    ready_[index] = 1;
  }
  return images_[index];  // never reassigned once ready, so the reference stays valid
}

}  // namespace fc::train
