// The crop stage frames faces like UTKFace chips: a chip placed in a larger photo, detected and
// cropped at 200 px, comes back close to the chip itself. Checks the measured constants in
// face_geometry.cpp for every detector (skipped without ../shared).
#include <facecycle/core/face_geometry.h>
#include <facecycle/core/image_io.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline_helpers.h"

namespace {
namespace fs = std::filesystem;

class ChipFraming : public ::testing::TestWithParam<std::string> {};

TEST_P(ChipFraming, CropOfAPaddedChipMatchesTheChip) {
  const std::string utk = std::string(FC_SHARED_DIR) + "/data/utkface";
  if (!fs::exists(utk)) GTEST_SKIP() << "needs ../shared/data/utkface (FC_SHARED_DIR)";
  const std::string m = std::string(FC_SHARED_DIR) + "/models/";
  // Every detector's model path: the detect stage reads the others' keys too.
  std::string detect_toml = "detector = \"" + GetParam() + "\"\n";
  detect_toml += "yunet_model = \"" + m + "face_detection_yunet_2022mar.onnx\"\n";
  detect_toml += "ssd_model = \"" + m + "opencv_face_detector_uint8.pb\"\n";
  detect_toml += "ssd_config = \"" + m + "opencv_face_detector.pbtxt\"\n";
  auto detect = fc::testing::load_stage("detect", detect_toml);
  auto crop = fc::testing::load_stage("crop", "crop_size = 200");
  auto ctx = fc::testing::context(nullptr);

  // 16 chips spread over the folder (not the ones measured, which were every 50th from 0).
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(utk)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  int tried = 0, framed = 0;
  double err_sum = 0, scale_sum = 0;
  cv::Point2d centre_sum(0, 0);
  for (size_t i = 25; i < files.size() && tried < 16; i += files.size() / 16, ++tried) {
    cv::Mat chip = fc::read_image(files[i]).bgr, photo;
    cv::copyMakeBorder(chip, photo, 100, 100, 100, 100, cv::BORDER_CONSTANT, {127, 127, 127});
    fc::PhotoItem item;
    item.image = photo;
    detect->process(item, ctx);
    if (item.faces.empty()) continue;
    item.faces.resize(1);
    crop->process(item, ctx);
    if (item.faces[0].crop.empty()) continue;
    ++framed;
    // Where the chip's centre lands in the crop, relative to the chip size. The crop is made at
    // the face's own scale; rescaled to 200 px it is the framing a 200 px model would get.
    const cv::Mat to_crop = item.faces[0].to_crop * (200.0 / item.faces[0].crop.cols);
    cv::Point2d c = fc::apply_affine(to_crop, {200, 200});
    const double scale = fc::crop_scale(to_crop);
    err_sum += cv::norm(c - cv::Point2d(100, 100)) / 200 + std::abs(scale - 1.0);
    centre_sum += c;
    scale_sum += scale;
  }
  const int n = std::max(framed, 1);
  // Bias: how far the average crop is from the chip (centre offset and scale error, as
  // fractions of the chip). The constants are means over other chips, so this is small; a crop
  // that is just the detector box is biased by 5-15% (Haar's box centre sits 17 px above the
  // chip's, YuNet's box is 0.9 of the chip wide). Per-chip error is larger: UTKFace's own
  // alignment varies from chip to chip.
  const double bias =
      cv::norm(centre_sum / n - cv::Point2d(100, 100)) / 200 + std::abs(scale_sum / n - 1.0);
  std::cout << "[ framing  ] " << GetParam() << ": " << framed << "/" << tried << " chips, bias "
            << bias << ", mean per-chip error " << err_sum / n << "\n";
  ASSERT_GE(framed, 8) << GetParam() << " found too few faces on the chips";
  EXPECT_LT(bias, 0.04) << GetParam();
  EXPECT_LT(err_sum / n, 0.12) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Detectors, ChipFraming, ::testing::Values("haar", "yunet", "ssd"));

}  // namespace
