// Black-and-white and toned photos (sepia, cyanotype): the generator learned from colour faces
// and paints colour into them (pink cheeks, green shadows, a sepia face aged teal). A face crop
// whose chroma is a function of its brightness alone is kept in that tone after the edit.
#pragma once

#include <array>
#include <opencv2/core.hpp>
#include <optional>

namespace fc {

// A monochrome photo's tone: Cb and Cr (BT.601, in 8-bit levels about 0) as quadratics in luma
// (0..1), c[0] + c[1]*Y + c[2]*Y^2. All zero for a black-and-white photo.
struct MonochromeTone {
  std::array<double, 3> cb{}, cr{};
  bool grey() const;
};

// The tone of a face crop (CV_8UC3 BGR) whose every pixel's chroma lies within a level or two
// of one curve in luma, or nullopt for a colour face: skin, lips, eyes, hair and background of
// a colour photo differ in hue at equal brightness.
std::optional<MonochromeTone> monochrome_tone(const cv::Mat& bgr);

// `edited` with its own luma and, for that luma, the tone's chroma: the edit's light and shade
// in the photo's tone. A grey tone gives exactly grey pixels.
cv::Mat in_tone(const cv::Mat& edited, const MonochromeTone& tone);

}  // namespace fc
