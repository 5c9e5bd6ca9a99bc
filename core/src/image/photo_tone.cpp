#include "facecycle/core/photo_tone.h"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace fc {
namespace {

// RMS distance of a pixel's chroma from the fitted curve, in 8-bit levels, below which the
// face counts as toned. On UTKFace (every eighth chip, 2661 faces) every chip at or under it
// is a black-and-white or toned photo; colour photos of low saturation start at about 1.8.
constexpr double kToneResidual = 1.5;

// Chroma spread (|B-G| + |G-R|, levels) that JPEG noise and ringing leave on a grey photo, and
// the fraction of pixels allowed past it.
constexpr int kGreySpread = 8;
constexpr double kGreyOutliers = 0.01;

bool is_grey(const cv::Mat& bgr) {
  cv::Mat f;
  bgr.convertTo(f, CV_16SC3);
  std::vector<cv::Mat> c;
  cv::split(f, c);
  const cv::Mat spread = cv::abs(c[0] - c[1]) + cv::abs(c[1] - c[2]);
  return cv::countNonZero(spread > kGreySpread) <= bgr.total() * kGreyOutliers;
}

struct LumaChroma {
  cv::Mat y, cb, cr;  // CV_64F columns; y in 0..1, cb and cr in levels about 0
};

LumaChroma split_luma_chroma(const cv::Mat& bgr) {
  cv::Mat f;
  const cv::Mat whole = bgr.isContinuous() ? bgr : bgr.clone();  // crops may be views
  whole.reshape(1, static_cast<int>(bgr.total())).convertTo(f, CV_64F);
  const cv::Mat b = f.col(0), g = f.col(1), r = f.col(2);
  const cv::Mat y = 0.299 * r + 0.587 * g + 0.114 * b;
  return {y / 255.0, (b - y) / 1.772, (r - y) / 1.402};
}

// Least squares c[0] + c[1]*y + c[2]*y^2 ~ v; returns the coefficients and the RMS residual.
std::pair<std::array<double, 3>, double> fit_quadratic(const cv::Mat& y, const cv::Mat& v) {
  cv::Mat a;
  cv::hconcat(std::vector<cv::Mat>{cv::Mat::ones(y.size(), CV_64F), y, y.mul(y)}, a);
  cv::Mat coef;
  cv::solve(a, v, coef, cv::DECOMP_NORMAL | cv::DECOMP_CHOLESKY);
  const double rms = cv::norm(a * coef - v, cv::NORM_L2) / std::sqrt(double(v.rows));
  return {{coef.at<double>(0), coef.at<double>(1), coef.at<double>(2)}, rms};
}

cv::Mat curve(const std::array<double, 3>& c, const cv::Mat& y) {
  return c[0] + c[1] * y + c[2] * y.mul(y);
}

}  // namespace

bool MonochromeTone::grey() const {
  for (int i = 0; i < 3; ++i)
    if (cb[i] != 0.0 || cr[i] != 0.0) return false;
  return true;
}

std::optional<MonochromeTone> monochrome_tone(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return std::nullopt;
  if (is_grey(bgr)) return MonochromeTone{};
  const LumaChroma p = split_luma_chroma(bgr);
  const auto [cb, cb_rms] = fit_quadratic(p.y, p.cb);
  if (cb_rms > kToneResidual) return std::nullopt;
  const auto [cr, cr_rms] = fit_quadratic(p.y, p.cr);
  if (cr_rms > kToneResidual) return std::nullopt;
  return MonochromeTone{cb, cr};
}

cv::Mat in_tone(const cv::Mat& edited, const MonochromeTone& tone) {
  if (tone.grey()) {  // exactly grey, as cvtColor makes it
    cv::Mat grey, out;
    cv::cvtColor(edited, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, out, cv::COLOR_GRAY2BGR);
    return out;
  }
  const LumaChroma p = split_luma_chroma(edited);
  const cv::Mat y = p.y * 255.0;
  const cv::Mat cb = curve(tone.cb, p.y), cr = curve(tone.cr, p.y);
  const cv::Mat r = y + 1.402 * cr, b = y + 1.772 * cb;
  const cv::Mat g = (y - 0.299 * r - 0.114 * b) / 0.587;
  cv::Mat bgr;
  cv::hconcat(std::vector<cv::Mat>{b, g, r}, bgr);
  cv::Mat out;
  bgr.reshape(3, edited.rows).convertTo(out, CV_8UC3);  // rounds and saturates
  return out;
}

}  // namespace fc
