// The detect stage without settings uses YuNet from the repository's models/ (a fresh install
// has no config), and YuNet keeps large faces whole. The photos are scikit-image's astronaut
// (python3-skimage, which scripts/install-deps.sh installs for the quick start); skipped
// without it.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "pipeline_helpers.h"

namespace {

const char* kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

cv::Mat astronaut() {
  if (!std::filesystem::exists(kAstronaut)) return {};
  return cv::imread(kAstronaut, cv::IMREAD_COLOR);
}

TEST(DefaultDetector, IsTheShippedYuNetModel) {
  ASSERT_TRUE(std::filesystem::exists(std::string(FC_SOURCE_DIR) +
                                      "/models/face_detection_yunet_2022mar.onnx"));
  ASSERT_TRUE(std::filesystem::exists(std::string(FC_SOURCE_DIR) +
                                      "/models/face_detection_yunet_2022mar.LICENSE"));
  cv::Mat a = astronaut();
  if (a.empty()) GTEST_SKIP() << kAstronaut << " not present (apt install python3-skimage)";
  // Two astronauts on a grey canvas: the stage must find both faces, no more.
  cv::Mat photo(700, 1200, CV_8UC3, cv::Scalar(128, 128, 128));
  a.copyTo(photo(cv::Rect(40, 100, 512, 512)));
  a.copyTo(photo(cv::Rect(640, 140, 512, 512)));
  fc::PhotoItem item;
  item.image = photo;
  auto ctx = fc::testing::context(nullptr);
  fc::testing::load_stage("detect")->process(item, ctx);
  EXPECT_EQ(item.report["detector"], "yunet");
  ASSERT_EQ(item.faces.size(), 2u);
  // The astronaut's face: box about (178, 58) 94x117 in the 512 px photo, eyes at y 104.
  for (const cv::Point2f offset : {cv::Point2f(40, 100), cv::Point2f(640, 140)}) {
    const cv::Point2f centre = offset + cv::Point2f(225, 117);
    int near = 0;
    for (const auto& f : item.faces) {
      ASSERT_EQ(f.landmarks.size(), 5u) << "YuNet gives 5 landmarks";
      if (f.box.contains(centre)) ++near;
    }
    EXPECT_EQ(near, 1) << "one face around " << centre;
  }
}

// YuNet alone, on a photo bounded to 1600 px, splits faces much larger than its anchors into
// fragments or adds false ones; the coarse pass keeps them whole.
TEST(DefaultDetector, LargeFacesAreFoundOnce) {
  cv::Mat a = astronaut();
  if (a.empty()) GTEST_SKIP() << kAstronaut << " not present (apt install python3-skimage)";
  auto detect = fc::testing::load_stage("detect");
  for (double k : {3.0, 5.0}) {
    fc::PhotoItem item;
    cv::resize(a, item.image, {}, k, k, cv::INTER_CUBIC);
    auto ctx = fc::testing::context(nullptr);
    detect->process(item, ctx);
    ASSERT_EQ(item.faces.size(), 1u) << "astronaut enlarged " << k << "x";
    const fc::Face& f = item.faces[0];
    EXPECT_NEAR(f.box.x + f.box.width / 2, 225 * k, 20 * k);
    for (const auto& p : f.landmarks) EXPECT_TRUE(f.box.contains(p)) << p << " outside its box";
  }
}

}  // namespace
