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

namespace {

// Photo -> m's output shifted so that `roi`'s top-left corner is its origin.
cv::Mat shifted_to_roi(const cv::Mat& m, cv::Rect roi) {
  cv::Mat out = m.clone();
  out.at<double>(0, 2) += out.at<double>(0, 0) * roi.x + out.at<double>(0, 1) * roi.y;
  out.at<double>(1, 2) += out.at<double>(1, 0) * roi.x + out.at<double>(1, 1) * roi.y;
  return out;
}

// The photo region a side x side output of `m` covers, a pixel larger, clipped to the photo.
cv::Rect photo_roi(const cv::Mat& m, int side, cv::Size photo) {
  cv::Rect roi = cv::Rect(crop_bounds_in_image(m, side)) + cv::Size(2, 2);
  roi -= cv::Point(1, 1);
  return roi & cv::Rect(0, 0, photo.width, photo.height);
}

// The generated face at the original crop's size (the translator returns faces at their input
// size; be lenient if one does not).
cv::Mat generated_at_crop_size(const cv::Mat& original_crop, const cv::Mat& generated_in) {
  if (generated_in.type() != CV_8UC3 || original_crop.type() != CV_8UC3 ||
      original_crop.rows != original_crop.cols)
    throw std::invalid_argument("composite needs 8-bit BGR images and a square crop");
  cv::Mat generated = generated_in;
  if (generated.size() != original_crop.size())
    cv::resize(generated_in, generated, original_crop.size(), 0, 0, cv::INTER_AREA);
  return generated;
}

// The generated face, CV_32FC3, colour-matched to the original crop: measured in the mask's
// feather ring, applied fully from the ring outwards and fading to nothing in the face's core,
// so the edit itself (skin tone, hair) survives while the boundary matches the photo.
cv::Mat corrected_face(const cv::Mat& original_crop, const cv::Mat& generated_in,
                       const MaskShape& shape) {
  const cv::Mat generated = generated_at_crop_size(original_crop, generated_in);
  const int size = generated.cols;
  const cv::Mat r = ellipse_radius(size, shape);
  const cv::Mat mask = face_mask(size, shape);
  const double inner = 1.0 - shape.feather / std::min(shape.radius_x, shape.radius_y);
  cv::Mat ring = (mask > 0.f) & (mask < 1.f);
  cv::Mat weight(size, size, CV_32F);
  r.forEach<float>([&](float& v, const int* pos) {
    weight.at<float>(pos[0], pos[1]) = static_cast<float>(smoothstep(0.3, inner, v));
  });
  return match_colour_at_ring(generated, original_crop, ring, weight);
}

}  // namespace

void composite_face(cv::Mat& result, const cv::Mat& original_crop, const cv::Mat& generated,
                    const cv::Mat& to_crop, const MaskShape& shape) {
  if (result.type() != CV_8UC3)
    throw std::invalid_argument("composite needs 8-bit BGR images and a square crop");
  const cv::Mat corrected = corrected_face(original_crop, generated, shape);
  const int size = corrected.cols;
  const cv::Mat mask = face_mask(size, shape);

  // Work only on the photo region the crop covers.
  const cv::Rect roi = photo_roi(to_crop, size, result.size());
  if (roi.empty()) return;
  const cv::Mat m = shifted_to_roi(to_crop, roi);
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

// ---- The whole head ----------------------------------------------------------------------
namespace {

// The head view spans kViewSpan crop sizes each way, from (kViewLeft, kViewTop) in crop units
// (0..1 across the crop): hair can rise half a crop above the crop (a pompadour), and the
// view's border must be background, not hair, since GrabCut learns its colours from it.
constexpr double kViewSpan = 2.2, kViewLeft = -0.6, kViewTop = -0.75;
// GrabCut's resolution for the whole view (the crop gets 44 px of it) and iterations: 10-20 ms
// a face on the busy 2-core machine; 128 px and 3 iterations cost 2.5 times that and gave
// outlines that looked alike on the group photos.
constexpr int kSegSide = 96;
constexpr int kGrabCutIterations = 2;
constexpr int kColourClasses = 4;

// The view around a crop: kViewSpan crop sizes, `side` px (at most 192: the weight is smooth
// and the outline is feathered, so a large face needs no finer one).
struct HeadView {
  int size = 0, side = 0;
  cv::Mat to_view;  // photo -> view
  cv::Mat image;    // the photo seen through to_view, CV_8UC3
  cv::Mat head;     // the segmented head, CV_8U 0/255
  cv::Mat weight;   // blend weight, CV_32F
  cv::Mat in_crop;  // how much of the generated crop is used, CV_32F
  // Crop units of view pixel i of n across (pixel-edge convention), horizontally and vertically.
  static double unit_u(int i, int n) { return (i + 0.5) / n * kViewSpan + kViewLeft; }
  static double unit_v(int i, int n) { return (i + 0.5) / n * kViewSpan + kViewTop; }
};

// Photo -> view: the crop's frame scaled and shifted, pixel-edge convention (the crop's pixel c
// spans [c, c + 1)), so view and crop line up to a fraction of a pixel.
cv::Mat view_transform(const cv::Mat& to_crop, int size, int side) {
  const double s = side / (kViewSpan * size);
  cv::Mat m = to_crop * s;
  m.at<double>(0, 2) += -kViewLeft * side / kViewSpan + 0.5 * (s - 1.0);
  m.at<double>(1, 2) += -kViewTop * side / kViewSpan + 0.5 * (s - 1.0);
  return m;
}

// The photo through `to_view`, sampled from the photo's region around the view only (warping
// the whole photo, with its pyrDowns, would cost tens of ms per face on a 12 MP photo).
cv::Mat sample_view(const cv::Mat& photo, const cv::Mat& to_view, int side) {
  const double margin = 4.0 / crop_scale(to_view) + 2.0;
  const cv::Rect2f b = crop_bounds_in_image(to_view, side);
  cv::Rect roi(cv::Point(int(std::floor(b.x - margin)), int(std::floor(b.y - margin))),
               cv::Point(int(std::ceil(b.br().x + margin)), int(std::ceil(b.br().y + margin))));
  roi &= cv::Rect(0, 0, photo.cols, photo.rows);
  if (roi.empty()) return warp_to_crop(photo, to_view, side);
  return warp_to_crop(photo(roi), shifted_to_roi(to_view, roi), side);
}

// Where a chip-framed head lies, in crop units. The chip puts the eyes at 0.285 and the chin
// near 0.88; the eyes are about halfway down the head, so skull and hair reach 0.35 or more above
// the crop; the head with its ears is about the crop's width; the neck is about 0.4 wide and
// ends at the collar, some 0.3 below the chin.
struct HeadPrior {
  static double skull(double u, double v) {
    return std::hypot((u - 0.5) / 0.55, (v - 0.25) / 0.62);
  }
  static double neck(double u, double v) { return std::hypot((u - 0.5) / 0.2, (v - 1.0) / 0.22); }
};

// GrabCut's initial labels. Sure foreground: the face's core (eyes to mouth) and a patch above
// the brows, forehead or hair on any upright face (a wider "sure" region, such as the whole
// face ellipse, reaches the background beside a turned face and teaches GrabCut that the
// background is head). Probable: skull, neck and face ellipse. Sure background: the view's
// border and what lies far outside skull, neck and face; not nearer, since the back of a
// turned head reaches well beyond the skull ellipse, and hair seeded as background makes all
// hair background.
cv::Mat grabcut_seeds(const HeadView& hv, const MaskShape& f) {
  const int band = std::max(2, kSegSide / 25);
  cv::Mat labels(kSegSide, kSegSide, CV_8U);
  labels.forEach<uchar>([&](uchar& l, const int* p) {
    const double u = HeadView::unit_u(p[1], kSegSide), v = HeadView::unit_v(p[0], kSegSide);
    const double face = std::hypot((u - f.centre_x) / f.radius_x, (v - f.centre_y) / f.radius_y);
    const double skull = HeadPrior::skull(u, v), neck = HeadPrior::neck(u, v);
    const int edge = std::min({p[0], p[1], kSegSide - 1 - p[0], kSegSide - 1 - p[1]});
    if (edge < band || (skull > 1.5 && neck > 1.25 && face > 1.0))
      l = cv::GC_BGD;
    else if (face < 0.55 || std::hypot((u - 0.5) / 0.12, (v + 0.06) / 0.1) < 1.0)
      l = cv::GC_FGD;
    else if (skull < 1.0 || neck < 1.0 || face < 1.0)
      l = cv::GC_PR_FGD;
    else
      l = cv::GC_PR_BGD;
  });
  return labels;
}

// Runs GrabCut with a fixed k-means seed (restoring the caller's), so a photo always gets the
// same mask: outputs stay reproducible and tests can recompute the weight.
void seeded_grabcut(const cv::Mat& img, cv::Mat& labels) {
  cv::RNG& rng = cv::theRNG();
  const uint64 saved = rng.state;
  rng.state = 0x9e3779b97f4a7c15ULL;
  cv::Mat bgd, fgd;
  try {
    cv::grabCut(img, labels, cv::Rect(), bgd, fgd, kGrabCutIterations, cv::GC_INIT_WITH_MASK);
  } catch (...) {
    rng.state = saved;
    throw;
  }
  rng.state = saved;
}

// GrabCut's foreground cleaned of specks, reduced to the pieces that touch the sure
// foreground, holes filled (eyes or glasses GrabCut called background).
cv::Mat clean_foreground(const cv::Mat& labels) {
  cv::Mat fg = (labels == cv::GC_FGD) | (labels == cv::GC_PR_FGD);
  cv::morphologyEx(fg, fg, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
  cv::Mat comp;
  const int n = cv::connectedComponents(fg, comp, 8, CV_32S);
  std::vector<uchar> keep(n, 0);
  for (int y = 0; y < kSegSide; ++y)
    for (int x = 0; x < kSegSide; ++x)
      if (labels.at<uchar>(y, x) == cv::GC_FGD) keep[comp.at<int>(y, x)] = 255;
  keep[0] = 0;
  cv::Mat out(fg.size(), CV_8U);
  out.forEach<uchar>([&](uchar& v, const int* p) { v = keep[comp.at<int>(p[0], p[1])]; });
  std::vector<std::vector<cv::Point>> outlines;
  cv::findContours(out.clone(), outlines, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(out, outlines, -1, cv::Scalar(255), cv::FILLED);
  return out;
}

// Blend weight: the head feathered across its outline (signed distance through a smoothstep,
// so exactly 0 half a feather outside); and how much of the generated crop to use: 1 inside
// the crop, falling to exactly 0 over `feather` at its edge. Not united with the face ellipse:
// beside a turned face the ellipse covers background, which the segmentation leaves alone.
void weights(HeadView& hv, const MaskShape& shape) {
  cv::Mat inside, outside;
  cv::distanceTransform(hv.head, inside, cv::DIST_L2, cv::DIST_MASK_5);
  cv::distanceTransform(~hv.head, outside, cv::DIST_L2, cv::DIST_MASK_5);
  const double view_px = hv.side / (kViewSpan * hv.size);  // view px per crop px
  const double half = std::max(1.0, shape.head_feather * hv.size * view_px / 2.0);
  const double edge = std::max(2.0, shape.feather * hv.size);
  hv.weight.create(hv.head.size(), CV_32F);
  hv.in_crop.create(hv.head.size(), CV_32F);
  hv.weight.forEach<float>([&](float& w, const int* p) {
    w = static_cast<float>(smoothstep(-half, half, inside.at<float>(p) - outside.at<float>(p)));
    // Distance to the crop's edge in crop pixels; the crop's outermost pixel centres sit 0.5
    // inside it and get exactly 0, as face_mask does.
    const double u = HeadView::unit_u(p[1], hv.side), v = HeadView::unit_v(p[0], hv.side);
    const double d = std::min({u, v, 1.0 - u, 1.0 - v}) * hv.size;
    hv.in_crop.at<float>(p) = static_cast<float>(smoothstep(1.0, edge, d));
  });
}

HeadView head_view(const cv::Mat& photo, const cv::Mat& to_crop, int size, const MaskShape& shape) {
  if (photo.type() != CV_8UC3) throw std::invalid_argument("the head mask needs 8-bit BGR");
  HeadView hv;
  hv.size = size;
  hv.side = std::clamp(int(kViewSpan * size), kSegSide, 2 * kSegSide);
  hv.to_view = view_transform(to_crop, size, hv.side);
  hv.image = sample_view(photo, hv.to_view, hv.side);
  cv::Mat small;
  cv::resize(hv.image, small, {kSegSide, kSegSide}, 0, 0, cv::INTER_AREA);
  cv::Mat labels = grabcut_seeds(hv, shape);
  seeded_grabcut(small, labels);
  // Rounded before it is enlarged: a 96 px outline would show its steps.
  cv::Mat fg;
  cv::GaussianBlur(clean_foreground(labels), fg, {0, 0}, 1.0);
  cv::resize(fg, hv.head, {hv.side, hv.side}, 0, 0, cv::INTER_LINEAR);
  hv.head = hv.head >= 128;
  weights(hv, shape);
  return hv;
}

// The photo region where the view's weight is not 0, a pixel larger, clipped to the photo.
cv::Rect weight_roi(const HeadView& hv, cv::Size photo) {
  const cv::Rect nz = cv::boundingRect(hv.weight > 0.f);
  if (nz.empty()) return {};
  const cv::Mat inv = invert_affine(hv.to_view);
  std::vector<cv::Point2f> corners;
  for (cv::Point2d c : {cv::Point2d(nz.x - 1, nz.y - 1), cv::Point2d(nz.br().x, nz.y - 1),
                        cv::Point2d(nz.x - 1, nz.br().y), cv::Point2d(nz.br().x, nz.br().y)})
    corners.emplace_back(apply_affine(inv, c));
  cv::Rect roi = cv::boundingRect(corners) + cv::Size(2, 2);
  roi -= cv::Point(1, 1);
  return roi & cv::Rect(0, 0, photo.width, photo.height);
}

}  // namespace

HeadWeight head_weight(const cv::Mat& photo, const cv::Mat& to_crop, int size,
                       const MaskShape& shape) {
  const HeadView hv = head_view(photo, to_crop, size, shape);
  HeadWeight out;
  out.roi = weight_roi(hv, photo.size());
  if (out.roi.empty()) return out;
  cv::warpAffine(hv.weight, out.weight, shifted_to_roi(hv.to_view, out.roi), out.roi.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  return out;
}

namespace {

// The generator's colour change by colour class: k-means on the original colours of the head
// inside the crop, and each class's mean change. Outside the crop the same colours (hair,
// skin) get the same change, so the edit reaches hair above the crop and the neck below it.
class ColourChange {
 public:
  ColourChange(const HeadView& hv, const cv::Mat& original_crop, const cv::Mat& generated);
  // From a table over colours in steps of 8: the change varies over a class's spread (>= 10),
  // and a large face's view has a million pixels to look up.
  const cv::Vec3f& at(const cv::Vec3b& c) const {
    return table_[((c[0] >> 3) << 10) | ((c[1] >> 3) << 5) | (c[2] >> 3)];
  }

 private:
  // A soft vote of the classes by colour distance; colours far from every class (beyond about
  // three spreads) get no change.
  cv::Vec3f vote(const cv::Vec3f& c) const {
    cv::Vec3f sum(0, 0, 0);
    float total = std::exp(-4.5f);
    for (size_t k = 0; k < centre_.size(); ++k) {
      const cv::Vec3f d = c - centre_[k];
      const float w = std::exp(-d.dot(d) * inv_2var_[k]);
      sum += change_[k] * w;
      total += w;
    }
    return sum * (1.f / total);
  }

  std::vector<cv::Vec3f> centre_, change_;
  std::vector<float> inv_2var_;  // 1 / (2 spread^2); spread: RMS distance in the class, >= 10
  std::vector<cv::Vec3f> table_ = std::vector<cv::Vec3f>(32 * 32 * 32, cv::Vec3f(0, 0, 0));
};

ColourChange::ColourChange(const HeadView& hv, const cv::Mat& original_crop,
                           const cv::Mat& generated) {
  const int n = std::min(64, hv.size);  // classes are colours, not detail
  cv::Mat orig, gen, head;
  cv::resize(original_crop, orig, {n, n}, 0, 0, cv::INTER_AREA);
  orig.convertTo(orig, CV_32F);
  cv::resize(generated, gen, {n, n}, 0, 0, cv::INTER_AREA);
  gen.convertTo(gen, CV_32F);
  // The head at the crop's sampling positions: the view's crop part.
  cv::Mat crop_to_view = view_transform((cv::Mat_<double>(2, 3) << 1, 0, 0, 0, 1, 0), n, hv.side);
  cv::warpAffine(hv.weight, head, crop_to_view, {n, n}, cv::INTER_LINEAR | cv::WARP_INVERSE_MAP);
  std::vector<cv::Vec3f> colours, deltas;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      if (head.at<float>(y, x) > 0.5f) {
        colours.push_back(orig.at<cv::Vec3f>(y, x));
        deltas.push_back(gen.at<cv::Vec3f>(y, x) - orig.at<cv::Vec3f>(y, x));
      }
  if (colours.size() < size_t(8 * kColourClasses)) return;  // no classes: no change
  cv::Mat data(int(colours.size()), 3, CV_32F, colours.data()), labels, centres;
  cv::RNG& rng = cv::theRNG();
  const uint64 saved = rng.state;
  rng.state = 0x2545f4914f6cdd1dULL;  // reproducible classes
  cv::kmeans(data, kColourClasses, labels,
             cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 20, 0.5), 2,
             cv::KMEANS_PP_CENTERS, centres);
  rng.state = saved;
  std::vector<double> count(kColourClasses, 0), dist2(kColourClasses, 0);
  change_.assign(kColourClasses, cv::Vec3f(0, 0, 0));
  for (int k = 0; k < kColourClasses; ++k) centre_.push_back(centres.at<cv::Vec3f>(k));
  for (size_t i = 0; i < colours.size(); ++i) {
    const int k = labels.at<int>(int(i));
    count[k] += 1;
    change_[k] += deltas[i];
    const cv::Vec3f d = colours[i] - centre_[k];
    dist2[k] += d.dot(d);
  }
  for (int k = 0; k < kColourClasses; ++k) {
    const double c = std::max(1.0, count[k]);
    change_[k] *= float(1.0 / c);
    const double spread = std::max(10.0, std::sqrt(dist2[k] / c));
    inv_2var_.push_back(float(1.0 / (2.0 * spread * spread)));
  }
  for (int i = 0; i < 32 * 32 * 32; ++i)
    table_[i] = vote({(i >> 10) * 8 + 3.5f, ((i >> 5) & 31) * 8 + 3.5f, (i & 31) * 8 + 3.5f});
}

// result = result * (1 - w) + (t * generated + (1 - t) * (photo + change(photo))) * w, pixel by
// pixel; w == 0 leaves the pixel as it is.
void blend_head(cv::Mat& dst, const cv::Mat& photo, const cv::Mat& w, const cv::Mat& t,
                const cv::Mat& generated, const ColourChange& change) {
  for (int y = 0; y < dst.rows; ++y) {
    const float* wy = w.ptr<float>(y);
    const float* ty = t.ptr<float>(y);
    const cv::Vec3f* g = generated.ptr<cv::Vec3f>(y);
    const cv::Vec3b* p = photo.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = dst.ptr<cv::Vec3b>(y);
    for (int x = 0; x < dst.cols; ++x) {
      if (wy[x] <= 0.f) continue;  // outside every mask: bit-identical
      cv::Vec3f v = g[x];
      if (ty[x] < 1.f) v = v * ty[x] + (cv::Vec3f(p[x]) + change.at(p[x])) * (1.f - ty[x]);
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(o[x][c] * (1.f - wy[x]) + v[c] * wy[x]);
    }
  }
}

}  // namespace

void composite_head(cv::Mat& result, const cv::Mat& photo, const cv::Mat& original_crop,
                    const cv::Mat& generated, const cv::Mat& to_crop, const MaskShape& shape) {
  if (result.type() != CV_8UC3 || photo.type() != CV_8UC3 || result.size() != photo.size())
    throw std::invalid_argument("composite needs the photo and its copy, both 8-bit BGR");
  // No colour matching at the face ellipse's ring: it would pull the hair, ears and neck back
  // to the photo's colours, undoing the edit there (greying, skin tone). The seams it hid are
  // now the head's own outline and the crop's edge, where the change carries on outside.
  cv::Mat gen8 = generated_at_crop_size(original_crop, generated), gen;
  gen8.convertTo(gen, CV_32F);
  const int size = gen.cols;
  const HeadView hv = head_view(photo, to_crop, size, shape);
  const ColourChange change(hv, original_crop, gen8);

  const cv::Rect roi = weight_roi(hv, photo.size());
  if (roi.empty()) return;
  const cv::Mat v = shifted_to_roi(hv.to_view, roi), c = shifted_to_roi(to_crop, roi);
  const int flags = cv::INTER_LINEAR | cv::WARP_INVERSE_MAP;
  cv::Mat w, t, g;
  cv::warpAffine(hv.weight, w, v, roi.size(), flags, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(hv.in_crop, t, v, roi.size(), flags, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(gen, g, c, roi.size(), flags, cv::BORDER_REPLICATE);
  cv::Mat dst = result(roi);
  blend_head(dst, photo(roi), w, t, g, change);
}

}  // namespace fc
