// Detector recall on the PASCAL VOC group photos in ../shared (true boxes from dlib's imglab
// files training.xml + testing.xml). Match rule: a true face counts as found when some
// detection has IoU >= 0.3 with it or has its centre inside it (annotations are tight boxes,
// detectors draw looser ones of differing shape). Floors are the recall measured when the test
// was written minus a margin of about one face.
#include <facecycle/core/face_geometry.h>
#include <facecycle/core/image_io.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "pipeline_helpers.h"

namespace {
namespace fs = std::filesystem;

struct Truth {
  std::string file;
  std::vector<cv::Rect2f> boxes;
};

std::vector<Truth> read_imglab(const std::string& path) {
  std::ifstream f(path);
  std::string xml{std::istreambuf_iterator<char>(f), {}};
  std::vector<Truth> out;
  const std::regex image_re("<image file='([^']+)'[^>]*>([\\s\\S]*?)</image>");
  const std::regex box_re(
      "<box top='(-?\\d+)' left='(-?\\d+)' width='(\\d+)' height='(\\d+)'([^>]*)>");
  for (std::sregex_iterator it(xml.begin(), xml.end(), image_re), end; it != end; ++it) {
    Truth t{(*it)[1], {}};
    const std::string body = (*it)[2];
    for (std::sregex_iterator b(body.begin(), body.end(), box_re); b != end; ++b) {
      if (std::string((*b)[5]).find("ignore='1'") != std::string::npos) continue;
      t.boxes.emplace_back(std::stof((*b)[2]), std::stof((*b)[1]), std::stof((*b)[3]),
                           std::stof((*b)[4]));
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool found(const cv::Rect2f& truth, const std::vector<fc::Face>& faces) {
  for (const auto& f : faces) {
    const cv::Point2f c(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
    if (fc::box_iou(truth, f.box) >= 0.3f || truth.contains(c)) return true;
  }
  return false;
}

// [plugins.detect] for one detector, with its model files from ../shared.
std::string detect_config(const std::string& detector) {
  const std::string m = std::string(FC_SHARED_DIR) + "/models/";
  std::string toml = "detector = \"" + detector + "\"\n";
  if (detector == "yunet") toml += "yunet_model = \"" + m + "face_detection_yunet_2022mar.onnx\"\n";
  if (detector == "ssd")
    toml += "ssd_model = \"" + m + "opencv_face_detector_uint8.pb\"\nssd_config = \"" + m +
            "opencv_face_detector.pbtxt\"\n";
  return toml;
}

double recall(const std::string& detector, int* total_out) {
  const std::string dir = std::string(FC_SHARED_DIR) + "/data/group_photos";
  auto stage = fc::testing::load_stage("detect", detect_config(detector));
  auto ctx = fc::testing::context(nullptr);
  int total = 0, hits = 0;
  for (const std::string xml : {"training.xml", "testing.xml"}) {
    for (const auto& t : read_imglab(dir + "/" + xml)) {
      fc::PhotoItem item;
      item.image = fc::read_image(dir + "/" + t.file).bgr;
      stage->process(item, ctx);
      for (const auto& b : t.boxes) {
        ++total;
        hits += found(b, item.faces);
      }
    }
  }
  *total_out = total;
  return total ? double(hits) / total : 0.0;
}

class DetectionRecall : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fc::testing::shared_present())
      GTEST_SKIP() << "needs ../shared/data/group_photos (FC_SHARED_DIR=" FC_SHARED_DIR
                      "); not present, so detector recall is not measured";
  }
  void check(const std::string& detector, double floor) {
    int total = 0;
    const double r = recall(detector, &total);
    RecordProperty("recall", std::to_string(r));
    std::cout << "[ recall   ] " << detector << ": " << r << " of " << total << " faces\n";
    EXPECT_GT(total, 30) << "the annotation files were read";
    EXPECT_GE(r, floor);
  }
};

// Measured (Nov 2026, OpenCV 4.6, default settings): haar 39/43, yunet 43/43, ssd 42/43.
TEST_F(DetectionRecall, Haar) { check("haar", 0.86); }

TEST_F(DetectionRecall, YuNet) { check("yunet", 0.95); }

TEST_F(DetectionRecall, Ssd) { check("ssd", 0.93); }

}  // namespace

namespace {

// Tiny photos (icons, thumbnails) give no faces rather than a detector error.
TEST_F(DetectionRecall, TinyPhotosGiveNoFacesNotErrors) {
  auto ctx = fc::testing::context(nullptr);
  for (const std::string detector : {"haar", "yunet", "ssd"}) {
    auto stage = fc::testing::load_stage("detect", detect_config(detector));
    for (int side : {1, 7, 33, 63}) {
      fc::PhotoItem item;
      item.image = cv::Mat(side, side + 3, CV_8UC3, cv::Scalar(90, 100, 110));
      EXPECT_NO_THROW(stage->process(item, ctx)) << detector << " " << side;
      EXPECT_TRUE(item.faces.empty());
    }
  }
}

}  // namespace
