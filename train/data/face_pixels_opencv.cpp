// face_pixels.h with OpenCV: the decoder for every image format, and warpAffine/resize, whose
// pixels the existing runs, tests and resumes were made with.
#include <opencv2/imgproc.hpp>

#include "data/face_pixels.h"
#include "data/packed_faces.h"
#include "facecycle/core/image_io.h"

namespace fc::train {
namespace {

// A view of a contiguous [H, W, 3] uint8 tensor; the tensor must outlive it.
cv::Mat view_of(const torch::Tensor& t) {
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr());
}

torch::Tensor tensor_of(const cv::Mat& m) {
  const cv::Mat c = m.isContinuous() ? m : m.clone();
  return torch::from_blob(c.data, {c.rows, c.cols, 3}, torch::kUInt8).clone();
}

cv::Mat resized(const cv::Mat& img, int side) {
  if (img.cols == side && img.rows == side) return img;
  cv::Mat out;
  cv::resize(img, out, cv::Size(side, side), 0, 0,
             img.cols > side ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace

torch::Tensor load_square_face(const std::string& path, int side) {
  torch::Tensor packed = packed_face_rgb(path);
  cv::Mat rgb;
  if (packed.defined()) {
    packed = packed.contiguous();
    rgb = view_of(packed);
  } else {
    cv::cvtColor(fc::read_image(path).bgr, rgb, cv::COLOR_BGR2RGB);
  }
  const int s = std::min(rgb.cols, rgb.rows);
  const cv::Mat square = rgb(cv::Rect((rgb.cols - s) / 2, (rgb.rows - s) / 2, s, s));
  return tensor_of(resized(square, side));
}

torch::Tensor jitter_and_resize(const torch::Tensor& face, const Jitter* jitter, int size) {
  const torch::Tensor src_t = face.contiguous();
  const cv::Mat src = view_of(src_t);
  if (!jitter) return tensor_of(resized(src, size));
  const double f = jitter->flip ? -jitter->scale : jitter->scale, s = jitter->scale;
  // dst = A (p - c) + c + t, pixel centres at integer coordinates: flip maps x -> (W-1) - x.
  const double cc = (src.cols - 1) / 2.0;
  cv::Mat M =
      (cv::Mat_<double>(2, 3) << f, 0, cc - f * cc + jitter->tx, 0, s, cc - s * cc + jitter->ty);
  cv::Mat warped;
  cv::warpAffine(src, warped, M, src.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT101);
  return tensor_of(resized(warped, size));
}

}  // namespace fc::train
