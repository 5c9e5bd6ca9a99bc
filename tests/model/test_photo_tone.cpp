// Black-and-white and toned photos keep their tone through an edit: a sepia face must not come
// back with pink cheeks and teal shadows, and a colour face must keep its colour edit.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "facecycle/core/photo_tone.h"
#include "facecycle/core/synthetic_faces.h"

namespace {

cv::Mat colour_face(uint64_t seed) {
  return fc::render_face(fc::random_identity(seed), {0.7f, 0.4f}, 96);
}

// A sepia print of the face: brown in the shadows and mid-tones, near white in the highlights.
cv::Mat sepia(const cv::Mat& bgr) {
  cv::Mat grey, out;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Mat y;
  grey.convertTo(y, CV_32F);
  std::vector<cv::Mat> c{0.78 * y + 10, 0.92 * y + 6, cv::min(1.1 * y + 12, 255.0)};
  cv::merge(c, out);
  out.convertTo(out, CV_8UC3);
  return out;
}

// The largest chroma distance of any pixel of `bgr` from the tone's curve, in levels.
double off_tone(const cv::Mat& bgr, const fc::MonochromeTone& tone) {
  return cv::norm(fc::in_tone(bgr, tone), bgr, cv::NORM_INF);
}

TEST(PhotoTone, ColourGreyAndSepiaFacesAreToldApart) {
  for (uint64_t seed : {1, 2, 3}) {
    const cv::Mat face = colour_face(seed);
    EXPECT_FALSE(fc::monochrome_tone(face)) << "colour face " << seed;
    cv::Mat grey;
    cv::cvtColor(face, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, grey, cv::COLOR_GRAY2BGR);
    const auto g = fc::monochrome_tone(grey);
    ASSERT_TRUE(g) << "grey face " << seed;
    EXPECT_TRUE(g->grey());
    const auto s = fc::monochrome_tone(sepia(face));
    ASSERT_TRUE(s) << "sepia face " << seed;
    EXPECT_FALSE(s->grey());
  }
}

// An edit that paints colour (pink cheeks, green shadows) into a sepia face comes back in the
// face's sepia, with the edit's light and shade.
TEST(PhotoTone, AColourEditOfASepiaFaceComesBackInItsSepia) {
  const cv::Mat before = sepia(colour_face(4));
  const auto tone = fc::monochrome_tone(before);
  ASSERT_TRUE(tone);
  cv::Mat painted = before.clone();
  painted(cv::Rect(20, 40, 30, 20)) += cv::Scalar(-10, -25, 30);  // a pink cheek
  painted(cv::Rect(50, 50, 30, 30)) += cv::Scalar(15, 20, -25);   // a teal shadow
  painted(cv::Rect(30, 10, 40, 15)) -= cv::Scalar(30, 30, 30);    // a darker forehead line
  ASSERT_GT(off_tone(painted, *tone), 15.0);

  const cv::Mat kept = fc::in_tone(painted, *tone);
  EXPECT_LE(off_tone(kept, *tone), 2.0) << "every pixel back on the sepia curve";
  cv::Mat y_painted, y_kept, y_before;
  cv::cvtColor(painted, y_painted, cv::COLOR_BGR2GRAY);
  cv::cvtColor(kept, y_kept, cv::COLOR_BGR2GRAY);
  cv::cvtColor(before, y_before, cv::COLOR_BGR2GRAY);
  EXPECT_LE(cv::norm(y_kept, y_painted, cv::NORM_INF), 2.0) << "the edit's luminance is kept";
  EXPECT_GT(cv::norm(y_kept, y_before, cv::NORM_INF), 20.0) << "the edit is still there";
  EXPECT_TRUE(fc::monochrome_tone(kept)) << "the output is itself a toned photo";
}

TEST(PhotoTone, AGreyToneGivesExactlyGreyPixels) {
  const cv::Mat face = colour_face(5);
  const cv::Mat out = fc::in_tone(face, fc::MonochromeTone{});
  std::vector<cv::Mat> c;
  cv::split(out, c);
  EXPECT_EQ(cv::norm(c[0], c[1], cv::NORM_INF) + cv::norm(c[1], c[2], cv::NORM_INF), 0.0);
}

// Face crops are often views into the photo (not continuous in memory).
TEST(PhotoTone, ACropViewIsReadAsItsOwnPixels) {
  cv::Mat photo(200, 300, CV_8UC3, cv::Scalar(0, 200, 0));  // a green wall
  sepia(colour_face(6)).copyTo(photo(cv::Rect(100, 50, 96, 96)));
  const cv::Mat view = photo(cv::Rect(100, 50, 96, 96));
  ASSERT_FALSE(view.isContinuous());
  EXPECT_TRUE(fc::monochrome_tone(view));
  EXPECT_FALSE(fc::monochrome_tone(photo(cv::Rect(60, 50, 136, 96)))) << "wall and face";
}

}  // namespace
