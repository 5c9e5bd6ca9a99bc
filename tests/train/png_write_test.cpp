// The dependency-free PNG writer of the LibTorch-only build, checked against OpenCV's decoder.
#include "png_write.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "facecycle/core/image_io.h"

namespace {
namespace fs = std::filesystem;

TEST(PngWrite, DecodesToTheSamePixelsAndKeepsText) {
  const std::string path =
      (fs::temp_directory_path() / ("fc_png_" + std::to_string(::getpid()) + ".png")).string();
  // 200 x 150 RGB is 90,150 bytes of rows: more than one stored deflate block.
  const int w = 200, h = 150;
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        rgb[(size_t(y) * w + x) * 3 + c] = uint8_t(x * 3 + y * 7 + c * 50);
  fc::train::write_rgb_png(path, rgb.data(), w, h, {{"step", "42"}});
  const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_EQ(bgr.cols, w);
  ASSERT_EQ(bgr.rows, h);
  for (int y = 0; y < h; y += 7)
    for (int x = 0; x < w; x += 11)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(bgr.at<cv::Vec3b>(y, x)[2 - c], rgb[(size_t(y) * w + x) * 3 + c])
            << x << "," << y;
  EXPECT_EQ(fc::read_image_metadata(path).count("step") ? fc::read_image_metadata(path).at("step")
                                                        : std::string("missing"),
            "42");
  fs::remove(path);
}

}  // namespace
