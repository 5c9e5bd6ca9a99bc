// Crop framing and compositing geometry.
//
// The chip constants in face_geometry.h and the per-detector boxes below were measured with
// tests/pipeline/measure_chip_framing.cpp on 400 UTKFace chips (every 50th file by name, each
// placed on a grey 400x400 canvas):
//   measure_chip_framing ../shared/data/utkface ../shared/models/face_detection_yunet_2022mar.onnx
//       ../shared/models/opencv_face_detector_uint8.pb ../shared/models/opencv_face_detector.pbtxt
// YuNet mean landmarks (n=400): right eye (60.0, 56.2), left eye (139.3, 57.7), nose (99.4,
// 101.9), mouth right (62.5, 133.6), mouth left (131.8, 135.1).
#include "facecycle/core/face_geometry.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace fc {
namespace {

// Mean detector box (x, y, w, h) on a chip, in the 200x200 frame; n = chips with one face.
struct BoxOnChip {
  double x, y, w, h;
};
constexpr BoxOnChip kHaarBox{-4.38, -20.27, 206.74, 206.74};  // n=330, minNeighbors 5
constexpr BoxOnChip kYuNetBox{8.13, -29.19, 181.00, 221.73};  // n=400, score 0.8
constexpr BoxOnChip kSsdBox{15.22, -1.33, 167.43, 192.73};    // n=400, confidence 0.5

BoxOnChip box_on_chip(const std::string& detector) {
  if (detector == "yunet") return kYuNetBox;
  if (detector == "ssd") return kSsdBox;
  return kHaarBox;
}

cv::Mat affine(double a, double b, double tx, double c, double d, double ty) {
  return (cv::Mat_<double>(2, 3) << a, b, tx, c, d, ty);
}

double smoothstep(double e0, double e1, double x) {
  double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

// Normalised elliptical radius of every crop pixel: 1 on the mask's outer edge.
cv::Mat ellipse_radius(int size, const MaskShape& s) {
  cv::Mat r(size, size, CV_32F);
  const double cx = s.centre_x * size, cy = s.centre_y * size;
  const double ax = s.radius_x * size, ay = s.radius_y * size;
  for (int y = 0; y < size; ++y) {
    float* row = r.ptr<float>(y);
    double dy = (y + 0.5 - cy) / ay;
    for (int x = 0; x < size; ++x) {
      double dx = (x + 0.5 - cx) / ax;
      row[x] = static_cast<float>(std::sqrt(dx * dx + dy * dy));
    }
  }
  return r;
}

}  // namespace

cv::Mat crop_transform_from_landmarks(const std::vector<cv::Point2f>& lm, int size) {
  if (lm.size() < 2) throw std::invalid_argument("landmark alignment needs at least both eyes");
  const cv::Point2d right_eye = lm[0], left_eye = lm[1];  // right eye is on the photo's left
  const cv::Point2d eye_mid = (right_eye + left_eye) * 0.5;
  const cv::Point2d d = left_eye - right_eye;
  const double angle = std::atan2(d.y, d.x);
  // Photo pixels per chip pixel. Yaw shrinks the eye distance and pitch the eye-mouth distance,
  // so the larger of the two estimates is the less foreshortened one.
  double k = std::hypot(d.x, d.y) / ChipFraming::kInterOcular;
  if (lm.size() >= 5) {
    const cv::Point2d mouth_mid = (cv::Point2d(lm[3]) + cv::Point2d(lm[4])) * 0.5;
    const cv::Point2d em = mouth_mid - eye_mid;
    k = std::max(k, std::hypot(em.x, em.y) / ChipFraming::kEyeToMouth);
  }
  if (!(k > 1e-6)) throw std::invalid_argument("degenerate landmarks (eyes coincide)");
  const double s = size / ChipFraming::kSize / k;
  const double c = std::cos(-angle) * s, sn = std::sin(-angle) * s;
  // x' = R(-angle)*s*(p - eye_mid) + target
  const double tx_t = ChipFraming::kEyeCentreX * size / ChipFraming::kSize;
  const double ty_t = ChipFraming::kEyeY * size / ChipFraming::kSize;
  return affine(c, -sn, tx_t - (c * eye_mid.x - sn * eye_mid.y), sn, c,
                ty_t - (sn * eye_mid.x + c * eye_mid.y));
}

cv::Mat crop_transform_from_box(const cv::Rect2f& box, const std::string& detector, int size) {
  if (box.width <= 0 || box.height <= 0) throw std::invalid_argument("empty face box");
  const BoxOnChip b = box_on_chip(detector);
  // One scale for both axes, from the box area, so faces are never stretched.
  const double k = std::sqrt(double(box.width) * box.height / (b.w * b.h));
  const double s = size / ChipFraming::kSize / k;
  const double box_cx = box.x + box.width / 2.0, box_cy = box.y + box.height / 2.0;
  const double chip_cx = (b.x + b.w / 2.0) * size / ChipFraming::kSize;
  const double chip_cy = (b.y + b.h / 2.0) * size / ChipFraming::kSize;
  return affine(s, 0, chip_cx - s * box_cx, 0, s, chip_cy - s * box_cy);
}

cv::Mat whole_image_transform(cv::Size image, int size) {
  return affine(double(size) / image.width, 0, 0, 0, double(size) / image.height, 0);
}

cv::Point2d apply_affine(const cv::Mat& m, cv::Point2d p) {
  const double* a = m.ptr<double>(0);
  const double* b = m.ptr<double>(1);
  return {a[0] * p.x + a[1] * p.y + a[2], b[0] * p.x + b[1] * p.y + b[2]};
}

cv::Mat invert_affine(const cv::Mat& m) {
  cv::Mat inv;
  cv::invertAffineTransform(m, inv);
  return inv;
}

std::vector<cv::Point2f> crop_outline_in_image(const cv::Mat& to_crop, int size) {
  const cv::Mat inv = invert_affine(to_crop);
  std::vector<cv::Point2f> pts;
  for (cv::Point2d c :
       {cv::Point2d(0, 0), cv::Point2d(size, 0), cv::Point2d(size, size), cv::Point2d(0, size)})
    pts.emplace_back(apply_affine(inv, c));
  return pts;
}

cv::Rect2f crop_bounds_in_image(const cv::Mat& to_crop, int size) {
  return cv::boundingRect(crop_outline_in_image(to_crop, size));
}

double crop_fraction_inside(const cv::Mat& to_crop, int size, cv::Size image) {
  std::vector<cv::Point2f> quad = crop_outline_in_image(to_crop, size), clipped;
  const std::vector<cv::Point2f> frame = {{0, 0},
                                          {float(image.width), 0},
                                          {float(image.width), float(image.height)},
                                          {0, float(image.height)}};
  const double whole = std::abs(cv::contourArea(quad));
  if (whole <= 0) return 0.0;
  const float inter = cv::intersectConvexConvex(quad, frame, clipped, true);
  return std::clamp(inter / whole, 0.0, 1.0);
}

double crop_scale(const cv::Mat& to_crop) {
  return std::sqrt(std::abs(cv::determinant(to_crop.colRange(0, 2).clone())));
}

cv::Mat warp_to_crop(const cv::Mat& image, const cv::Mat& to_crop, int size) {
  cv::Mat src = image, m = to_crop.clone();
  // Halve the photo until the warp's scale is >= 0.5.
  double scale = crop_scale(m);
  while (scale < 0.5 && src.cols > 2 * size && src.rows > 2 * size) {
    cv::Mat half;
    cv::pyrDown(src, half);
    // pyrDown maps photo pixel centre p to (p + 0.5) / 2 - 0.5 exactly enough for this purpose.
    const double sx = double(src.cols) / half.cols, sy = double(src.rows) / half.rows;
    m.col(0) *= sx;
    m.col(1) *= sy;
    src = half;
    scale *= 2;
  }
  cv::Mat crop;
  cv::warpAffine(src, crop, m, {size, size}, cv::INTER_LINEAR, cv::BORDER_REFLECT);
  return crop;
}

float box_iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

cv::Mat face_mask(int size, const MaskShape& shape) {
  cv::Mat r = ellipse_radius(size, shape), mask(size, size, CV_32F);
  const double inner = 1.0 - shape.feather / std::min(shape.radius_x, shape.radius_y);
  r.forEach<float>([&](float& v, const int* pos) {
    mask.at<float>(pos[0], pos[1]) = static_cast<float>(1.0 - smoothstep(inner, 1.0, v));
  });
  return mask;
}

cv::Mat match_colour_at_ring(const cv::Mat& generated, const cv::Mat& original, const cv::Mat& ring,
                             const cv::Mat& weight) {
  cv::Mat gen, orig;
  generated.convertTo(gen, CV_32F);
  original.convertTo(orig, CV_32F);
  cv::Mat ring8 = ring > 0;
  cv::Scalar mg, sg, mo, so;
  cv::meanStdDev(gen, mg, sg, ring8);
  cv::meanStdDev(orig, mo, so, ring8);
  std::vector<cv::Mat> ch;
  cv::split(gen, ch);
  for (int c = 0; c < 3; ++c) {
    // Clamped so a flat ring (std ~ 0) cannot blow up the contrast.
    const double gain = std::clamp((so[c] + 1.0) / (sg[c] + 1.0), 0.5, 2.0);
    cv::Mat matched = (ch[c] - mg[c]) * gain + mo[c];
    ch[c] = ch[c] + (matched - ch[c]).mul(weight);
  }
  cv::Mat out;
  cv::merge(ch, out);
  return out;
}

void composite_face(cv::Mat& result, const cv::Mat& original_crop, const cv::Mat& generated_in,
                    const cv::Mat& to_crop, const MaskShape& shape) {
  if (result.type() != CV_8UC3 || generated_in.type() != CV_8UC3 ||
      original_crop.type() != CV_8UC3 || original_crop.rows != original_crop.cols)
    throw std::invalid_argument("composite needs 8-bit BGR images and a square crop");
  // The translator returns faces at their input size; be lenient if one does not.
  cv::Mat generated = generated_in;
  if (generated.size() != original_crop.size())
    cv::resize(generated_in, generated, original_crop.size(), 0, 0, cv::INTER_AREA);
  const int size = generated.cols;

  // Colour correction: measured in the feather ring, applied fully from the ring outwards and
  // fading to nothing in the face's core, so the edit itself (skin tone, hair) survives while
  // the boundary matches the photo.
  const cv::Mat r = ellipse_radius(size, shape);
  const cv::Mat mask = face_mask(size, shape);
  const double inner = 1.0 - shape.feather / std::min(shape.radius_x, shape.radius_y);
  cv::Mat ring = (mask > 0.f) & (mask < 1.f);
  cv::Mat weight(size, size, CV_32F);
  r.forEach<float>([&](float& v, const int* pos) {
    weight.at<float>(pos[0], pos[1]) = static_cast<float>(smoothstep(0.3, inner, v));
  });
  const cv::Mat corrected = match_colour_at_ring(generated, original_crop, ring, weight);

  // Work only on the photo region the crop covers.
  cv::Rect roi = cv::Rect(crop_bounds_in_image(to_crop, size)) + cv::Size(2, 2);
  roi -= cv::Point(1, 1);
  roi &= cv::Rect(0, 0, result.cols, result.rows);
  if (roi.empty()) return;
  cv::Mat m = to_crop.clone();
  m.at<double>(0, 2) += m.at<double>(0, 0) * roi.x + m.at<double>(0, 1) * roi.y;
  m.at<double>(1, 2) += m.at<double>(1, 0) * roi.x + m.at<double>(1, 1) * roi.y;
  cv::Mat warped_mask, warped_face;
  const int flags = cv::INTER_LINEAR | cv::WARP_INVERSE_MAP;
  cv::warpAffine(mask, warped_mask, m, roi.size(), flags, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(corrected, warped_face, m, roi.size(), flags, cv::BORDER_REPLICATE);

  cv::Mat dst = result(roi);
  for (int y = 0; y < roi.height; ++y) {
    const float* a = warped_mask.ptr<float>(y);
    const cv::Vec3f* g = warped_face.ptr<cv::Vec3f>(y);
    cv::Vec3b* o = dst.ptr<cv::Vec3b>(y);
    for (int x = 0; x < roi.width; ++x) {
      const float w = a[x];
      if (w <= 0.f) continue;  // outside every mask: bit-identical
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(o[x][c] * (1.f - w) + g[x][c] * w);
    }
  }
}

}  // namespace fc
