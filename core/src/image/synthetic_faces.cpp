// Procedural faces. Geometry is in fractions of the image side so every size frames alike;
// the meters read fixed regions of that frame.
#include "facecycle/core/synthetic_faces.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

namespace fc {
namespace {

// splitmix64: portable and identical on every platform, unlike std::*_distribution.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x2545f4914f6cdd1dULL + 0x1234567ULL) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
};

cv::Scalar lerp(const cv::Scalar& a, const cv::Scalar& b, double t) {
  return a * (1.0 - t) + b * t;
}

// Fixed regions (fractions of the side) shared by the renderer and the meters.
constexpr double kEyeY = 0.42;
const cv::Rect2d kLeftCheek(0.27, 0.50, 0.10, 0.08);
const cv::Rect2d kRightCheek(0.63, 0.50, 0.10, 0.08);
const cv::Rect2d kHairTop(0.38, 0.11, 0.24, 0.05);  // inside every hair style

const cv::Rect2d kForehead(0.42, 0.275, 0.16, 0.07);  // below the fringe, between the brows

const cv::Scalar kLightSkin(165, 192, 236);  // BGR
const cv::Scalar kDarkSkin(38, 58, 92);
const cv::Scalar kGreyHair(200, 200, 198);

cv::Rect to_pixels(const cv::Rect2d& r, const cv::Size& size) {
  cv::Rect px(static_cast<int>(r.x * size.width), static_cast<int>(r.y * size.height),
              std::max(1, static_cast<int>(r.width * size.width)),
              std::max(1, static_cast<int>(r.height * size.height)));
  return px & cv::Rect(0, 0, size.width, size.height);
}

}  // namespace

SyntheticIdentity random_identity(uint64_t seed) {
  Rng rng(seed);
  SyntheticIdentity id;
  id.face_width = static_cast<float>(rng.uniform(0.56, 0.66));
  id.face_height = static_cast<float>(rng.uniform(0.74, 0.82));
  id.eye_spacing = static_cast<float>(rng.uniform(0.32, 0.40));
  id.eye_size = static_cast<float>(rng.uniform(0.035, 0.05));
  id.nose_length = static_cast<float>(rng.uniform(0.09, 0.14));
  id.mouth_width = static_cast<float>(rng.uniform(0.24, 0.34));
  id.mouth_y = static_cast<float>(rng.uniform(0.68, 0.73));
  id.gender = rng.below(2);
  id.hair_style =
      id.gender == 1 ? (rng.below(3) == 0 ? 2 : 1) : (rng.below(3) == 0 ? 3 : rng.below(2) * 2);
  static const cv::Scalar kHair[] = {{20, 25, 35}, {30, 45, 70}, {40, 70, 110}, {25, 35, 50}};
  id.hair_colour = kHair[rng.below(4)];
  id.background = cv::Scalar(rng.uniform(60, 240), rng.uniform(60, 240), rng.uniform(60, 240));
  static const cv::Scalar kIris[] = {{80, 60, 40}, {120, 90, 50}, {40, 40, 40}, {90, 110, 70}};
  id.eye_colour = kIris[rng.below(4)];
  id.pose_dx = static_cast<float>(rng.uniform(-0.02, 0.02));
  id.pose_dy = static_cast<float>(rng.uniform(-0.02, 0.02));
  id.pose_angle = static_cast<float>(rng.uniform(-3.0, 3.0));
  return id;
}

namespace {

// A face drawn at 4x and shrunk: smooth edges at every size, and thin wrinkles survive as
// shading. Coordinates are fractions of the side.
struct Canvas {
  int S;  // side in pixels
  cv::Mat img;
  const int aa = cv::LINE_AA;
  cv::Point P(double x, double y) const { return cv::Point(cvRound(x * S), cvRound(y * S)); }
  int L(double v) const { return std::max(1, cvRound(v * S)); }
};

// The colours of one rendering: skin and hair follow the attributes.
struct Palette {
  cv::Scalar skin, shade, line, hair;
  int wl;  // wrinkle line width
};

constexpr double kCx = 0.5, kCy = 0.5;  // face centre

void draw_head(Canvas& c, const SyntheticIdentity& id, const Palette& p) {
  const double fw = id.face_width, fh = id.face_height;
  const double cx = kCx, cy = kCy;
  // Long hair falls behind the face to the shoulders.
  if (id.hair_style == 1 || id.hair_style == 2)
    cv::rectangle(c.img, c.P(cx - fw * 0.58, cy - fh * 0.2), c.P(cx + fw * 0.58, 1.0), p.hair, -1,
                  c.aa);
  // Neck and shoulders.
  cv::rectangle(c.img, c.P(cx - fw * 0.22, cy + fh * 0.3), c.P(cx + fw * 0.22, 1.0), p.shade, -1,
                c.aa);
  cv::ellipse(c.img, c.P(cx, 1.05), cv::Size(c.L(fw * 0.8), c.L(0.1)), 0, 0, 360, p.shade, -1,
              c.aa);
  // Ears and face.
  for (int side : {-1, 1})
    cv::ellipse(c.img, c.P(cx + side * fw * 0.5, kEyeY + 0.05), cv::Size(c.L(0.035), c.L(0.07)), 0,
                0, 360, p.shade, -1, c.aa);
  cv::ellipse(c.img, c.P(cx, cy), cv::Size(c.L(fw / 2), c.L(fh / 2)), 0, 0, 360, p.skin, -1, c.aa);

  // Hair cap over the top of the head; the fringe line depends on the style.
  const double top = cy - fh / 2;
  const double fringe = id.hair_style == 3 ? top + 0.08 : top + 0.10;
  cv::ellipse(c.img, c.P(cx, fringe), cv::Size(c.L(fw * 0.54), c.L(fringe - top + 0.05)), 0, 180,
              360, p.hair, -1, c.aa);
  if (id.hair_style == 2)  // side parting: a sweep across the forehead
    cv::ellipse(c.img, c.P(cx - fw * 0.15, fringe), cv::Size(c.L(fw * 0.4), c.L(0.04)), -8, 0, 180,
                p.hair, -1, c.aa);
}

// Forehead lines (age): three long horizontal arcs.
void draw_forehead_lines(Canvas& c, const Palette& p) {
  for (int i = 0; i < 3; ++i) {
    const double y = kForehead.y + 0.01 + 0.025 * i;
    cv::ellipse(c.img, c.P(kCx, y + 0.03), cv::Size(c.L(0.11), c.L(0.03)), 0, 200, 340, p.line,
                p.wl, c.aa);
  }
}

// Eyes, irises and eyebrows (eyebrows also grey with age); with age, crow's feet and cheek lines.
void draw_eyes(Canvas& c, const SyntheticIdentity& id, const Palette& p, bool lines) {
  const double ex = id.face_width * id.eye_spacing;
  for (int side : {-1, 1}) {
    const double x = kCx + side * ex;
    cv::ellipse(c.img, c.P(x, kEyeY), cv::Size(c.L(id.eye_size * 1.5), c.L(id.eye_size * 0.8)), 0,
                0, 360, cv::Scalar(245, 245, 245), -1, c.aa);
    cv::circle(c.img, c.P(x, kEyeY), c.L(id.eye_size * 0.6), id.eye_colour, -1, c.aa);
    cv::circle(c.img, c.P(x, kEyeY), c.L(id.eye_size * 0.25), cv::Scalar(10, 10, 10), -1, c.aa);
    cv::ellipse(c.img, c.P(x, kEyeY - id.eye_size * 0.9),
                cv::Size(c.L(id.eye_size * 1.8), c.L(0.025)), 0, 200, 340, p.hair, c.L(0.012),
                c.aa);
    if (!lines) continue;
    const double ox = x + side * id.eye_size * 1.7;
    for (int k = -1; k <= 1; ++k)
      cv::line(c.img, c.P(ox, kEyeY + k * 0.012), c.P(ox + side * 0.04, kEyeY + k * 0.03), p.line,
               p.wl, c.aa);
    for (int k = 0; k < 2; ++k)
      cv::line(c.img, c.P(kCx + side * (0.13 + 0.04 * k), 0.61),
               c.P(kCx + side * (0.17 + 0.04 * k), 0.67), p.line, p.wl, c.aa);
  }
}

// Nose, nasolabial folds (with age) and the mouth: lips tinted towards red, fuller for gender 1.
void draw_nose_and_mouth(Canvas& c, const SyntheticIdentity& id, const Palette& p, bool lines) {
  const double cx = kCx;
  const double ny = kEyeY + 0.04;
  cv::line(c.img, c.P(cx, ny), c.P(cx + 0.015, ny + id.nose_length), p.shade, c.L(0.01), c.aa);
  cv::ellipse(c.img, c.P(cx, ny + id.nose_length), cv::Size(c.L(0.035), c.L(0.015)), 0, 0, 180,
              p.shade, c.L(0.008), c.aa);
  const double mw = id.face_width * id.mouth_width / 2;
  if (lines)
    for (int side : {-1, 1})
      cv::line(c.img, c.P(cx + side * 0.06, ny + id.nose_length),
               c.P(cx + side * (mw + 0.03), id.mouth_y + 0.03), p.line, p.wl, c.aa);
  const cv::Scalar lips = lerp(p.skin, cv::Scalar(60, 60, 170), id.gender == 1 ? 0.6 : 0.35);
  cv::ellipse(c.img, c.P(cx, id.mouth_y), cv::Size(c.L(mw), c.L(id.gender == 1 ? 0.022 : 0.014)), 0,
              0, 360, lips, -1, c.aa);
  cv::line(c.img, c.P(cx - mw, id.mouth_y), c.P(cx + mw, id.mouth_y), p.skin * 0.5, c.L(0.006),
           c.aa);
}

// Small pose jitter: one rotation + translation about the centre, background fills the border;
// then the shrink to `size`.
cv::Mat pose_and_shrink(const Canvas& c, const SyntheticIdentity& id, int size) {
  const int S = c.S;
  cv::Mat M = cv::getRotationMatrix2D(cv::Point2f(S / 2.0f, S / 2.0f), id.pose_angle, 1.0);
  M.at<double>(0, 2) += id.pose_dx * S;
  M.at<double>(1, 2) += id.pose_dy * S;
  cv::Mat posed;
  cv::warpAffine(c.img, posed, M, c.img.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 id.background);
  cv::Mat out;
  cv::resize(posed, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace

cv::Mat render_face(const SyntheticIdentity& id, const SyntheticAttributes& attr, int size) {
  if (size < 16) throw std::invalid_argument("render_face: size must be at least 16 pixels");
  const double age = std::clamp(static_cast<double>(attr.age), 0.0, 1.0);
  const double skin_t = std::clamp(static_cast<double>(attr.skin), 0.0, 1.0);
  const int S = size * 4;
  Canvas c{S, cv::Mat(S, S, CV_8UC3, id.background)};

  Palette p;
  p.skin = lerp(kLightSkin, kDarkSkin, skin_t);
  p.shade = p.skin * 0.8;
  p.line = p.skin * (1.0 - 0.5 * age);  // wrinkles darken with age
  // Grey hair: the hair colour moves to grey, strongly and early so small images show it.
  p.hair = lerp(id.hair_colour, kGreyHair, std::pow(age, 0.8));
  p.wl = c.L(0.006 + 0.006 * age);
  const bool lines = age > 0.02;

  draw_head(c, id, p);
  if (lines) draw_forehead_lines(c, p);
  draw_eyes(c, id, p, lines);
  draw_nose_and_mouth(c, id, p, lines);
  return pose_and_shrink(c, id, size);
}

void write_synthetic_utkface(const std::string& dir, int n, uint64_t seed, int size) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  Rng rng(seed ^ 0x5eedf00dULL);
  auto write = [&](const std::string& name, const cv::Mat& img) {
    const std::string path = (fs::path(dir) / name).string();
    if (!cv::imwrite(path, img, {cv::IMWRITE_JPEG_QUALITY, 95}))
      throw std::runtime_error("write_synthetic_utkface: cannot write " + path);
  };
  for (int i = 0; i < n; ++i) {
    SyntheticIdentity id = random_identity(rng.next());
    const bool old = rng.below(2) == 1;
    const int race = rng.below(2);
    SyntheticAttributes attr;
    attr.age = static_cast<float>(old ? rng.uniform(0.85, 1.0) : rng.uniform(0.0, 0.12));
    attr.skin = static_cast<float>(race == 1 ? rng.uniform(0.85, 1.0) : rng.uniform(0.0, 0.15));
    const int years = (old ? 50 : 20) + rng.below(10);
    char name[96];
    std::snprintf(name, sizeof name, "%d_%d_%d_2017010112%010d.jpg.chip.jpg", years, id.gender,
                  race, i);
    write(name, render_face(id, attr, size));
  }
  // Names that must be rejected: a missing field, a race out of range, no labels at all.
  const cv::Mat filler = render_face(random_identity(seed), {}, size);
  write("25_1_20170101120000000001.jpg.chip.jpg", filler);
  write("30_0_7_20170101120000000002.jpg.chip.jpg", filler);
  write("portrait.jpg", filler);
}

float measure_skin_tone(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3)
    throw std::invalid_argument("measure_skin_tone: expected a BGR CV_8UC3 image");
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  const double l = (cv::mean(grey(to_pixels(kLeftCheek, grey.size())))[0] +
                    cv::mean(grey(to_pixels(kRightCheek, grey.size())))[0]) /
                   2.0;
  return static_cast<float>(1.0 - l / 255.0);
}

float measure_age_cues(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3)
    throw std::invalid_argument("measure_age_cues: expected a BGR CV_8UC3 image");
  // Hair greyness: bright and unsaturated hair at the top of the head.
  cv::Mat hsv;
  cv::cvtColor(bgr(to_pixels(kHairTop, bgr.size())), hsv, cv::COLOR_BGR2HSV);
  double greyness = 0;
  for (int y = 0; y < hsv.rows; ++y)
    for (int x = 0; x < hsv.cols; ++x) {
      const cv::Vec3b p = hsv.at<cv::Vec3b>(y, x);
      greyness += (p[2] / 255.0) * (1.0 - p[1] / 255.0);
    }
  greyness /= std::max(1, hsv.rows * hsv.cols);
  // Wrinkle energy: vertical gradient on the forehead relative to its brightness, so dark skin
  // with the same lines scores alike.
  cv::Mat grey, dy;
  cv::cvtColor(bgr(to_pixels(kForehead, bgr.size())), grey, cv::COLOR_BGR2GRAY);
  cv::Sobel(grey, dy, CV_32F, 0, 1, 3);
  const double energy = cv::mean(cv::abs(dy))[0] / (cv::mean(grey)[0] + 20.0);
  return static_cast<float>(greyness + 0.5 * energy);
}

}  // namespace fc
