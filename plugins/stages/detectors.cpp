// Haar cascade, YuNet and the res10 SSD behind one interface.
#include "detectors.h"

#include <dlfcn.h>
#include <facecycle/core/face_geometry.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "stage_config.h"

namespace fc {

namespace stages {
enum class DetectorKind { kYuNet, kHaar, kSsd };
}  // namespace stages

// How [plugins.detect] detector = "..." spells each one; the first is the default.
template <>
struct EnumNames<stages::DetectorKind> {
  static constexpr std::pair<stages::DetectorKind, const char*> table[] = {
      {stages::DetectorKind::kYuNet, "yunet"},
      {stages::DetectorKind::kHaar, "haar"},
      {stages::DetectorKind::kSsd, "ssd"}};
};

}  // namespace fc

namespace fc::stages {
namespace {

constexpr const char* kDefaultCascade =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

#ifndef FC_SHIPPED_MODELS_DIR
#define FC_SHIPPED_MODELS_DIR ""
#endif
constexpr const char* kYuNetFile = "face_detection_yunet_2022mar.onnx";

#ifndef FC_PLUGINS_TO_MODELS
#define FC_PLUGINS_TO_MODELS "../../../share/facecycle/models"
#endif

// The YuNet model shipped in models/, found the way the daemon finds its shipped generator:
// installed, relative to this plugin's own file (PREFIX/lib/facecycle/plugins ->
// PREFIX/share/facecycle/models) so any --prefix works; built, the source tree's path
// compiled in. A fresh build or install then needs no setting.
std::string default_yunet_model() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&default_yunet_model), &info) && info.dli_fname) {
    auto installed =
        (std::filesystem::path(info.dli_fname).parent_path() / FC_PLUGINS_TO_MODELS / kYuNetFile)
            .lexically_normal();
    std::error_code ec;
    if (std::filesystem::is_regular_file(installed, ec)) return installed.string();
  }
  return *FC_SHIPPED_MODELS_DIR ? std::string(FC_SHIPPED_MODELS_DIR) + "/" + kYuNetFile : "";
}

void require_file(const std::string& path, const std::string& key, const std::string& what) {
  if (path.empty())
    throw std::invalid_argument("detector needs " + key + " = path to " + what +
                                " in its [plugins.detect] settings");
  if (!std::filesystem::is_regular_file(path))
    throw std::invalid_argument(key + " = " + path + " does not exist (expected " + what + ")");
}

// A file path setting; an empty string means "not set", as an unset key does.
std::string path_setting(PluginSettings& s, const std::string& key, const std::string& def) {
  const std::string v = s.string(key, def);
  return v.empty() ? def : v;
}

// [plugins.detect], typed. Every detector's keys are read and checked whichever one is chosen,
// so a config may keep the others' settings (model paths) while one is tried; a key no detector
// reads is refused as a typo.
struct DetectSettings {
  DetectorKind kind;
  int max_side;
  float min_face;
  double haar_scale_factor;
  int haar_min_neighbors;
  std::string haar_cascade;
  float score_threshold;    // yunet and ssd
  std::string yunet_model;  // empty: the shipped one
  float yunet_nms;
  std::string ssd_model, ssd_config;
};

DetectSettings read_settings(const PluginConfig& config) {
  PluginSettings s(config);
  DetectSettings d;
  d.kind = s.choice<DetectorKind>("detector", DetectorKind::kYuNet);
  d.max_side = int(s.integer("max_side", 1600, 64, 20000));
  d.min_face = float(s.number("min_face", 24, 1, 10000));
  d.haar_scale_factor = s.number("haar_scale_factor", 1.1, 1.01, 2.0);
  d.haar_min_neighbors = int(s.integer("haar_min_neighbors", 5, 0, 100));
  d.haar_cascade = path_setting(s, "haar_cascade", kDefaultCascade);
  // One key, two defaults: the two networks' scores are not on the same scale.
  const bool ssd = d.kind == DetectorKind::kSsd;
  d.score_threshold = float(s.number("score_threshold", ssd ? 0.5 : 0.8, 0, 1));
  d.yunet_model = path_setting(s, "yunet_model", "");
  d.yunet_nms = float(s.number("nms_threshold", 0.3, 0, 1));
  d.ssd_model = path_setting(s, "ssd_model", "");
  d.ssd_config = path_setting(s, "ssd_config", "");
  s.finish();
  return d;
}

// Shared by all detectors: big photos are detected at a bounded size, then mapped back.
struct Scaled {
  cv::Mat img;
  double scale = 1.0;  // detection pixels per photo pixel
};
Scaled bounded(const cv::Mat& bgr, int max_side) {
  Scaled s{bgr, 1.0};
  const int side = std::max(bgr.cols, bgr.rows);
  if (side > max_side) {
    s.scale = double(max_side) / side;
    cv::resize(bgr, s.img, {}, s.scale, s.scale, cv::INTER_AREA);
  }
  return s;
}

struct Common {
  int max_side;
  float min_face;
  explicit Common(const DetectSettings& d) : max_side(d.max_side), min_face(d.min_face) {}

  std::vector<Face> finish(std::vector<Face> faces, double scale) const {
    std::vector<Face> out;
    for (auto& f : faces) {
      f.box = {float(f.box.x / scale), float(f.box.y / scale), float(f.box.width / scale),
               float(f.box.height / scale)};
      for (auto& p : f.landmarks) p = {float(p.x / scale), float(p.y / scale)};
      // Tiny detections are kept (crop marks them skipped with a reason) unless far below the
      // limit, where they are mostly false positives.
      if (std::min(f.box.width, f.box.height) >= min_face * 0.5f) out.push_back(std::move(f));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Face& a, const Face& b) { return a.score > b.score; });
    return out;
  }
};

class HaarDetector : public FaceDetector {
 public:
  explicit HaarDetector(const DetectSettings& d)
      : common_(d), scale_factor_(d.haar_scale_factor), min_neighbors_(d.haar_min_neighbors) {
    const std::string& path = d.haar_cascade;
    if (!cascade_.load(path))
      throw std::invalid_argument("cannot load the Haar cascade " + path +
                                  " — install opencv-data or set haar_cascade");
  }
  std::string name() const override { return "haar"; }
  std::vector<Face> detect(const cv::Mat& bgr) override {
    Scaled s = bounded(bgr, common_.max_side);
    cv::Mat grey;
    cv::cvtColor(s.img, grey, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(grey, grey);
    std::vector<cv::Rect> boxes;
    std::vector<int> levels;
    std::vector<double> weights;
    const int min_px = std::max(12, int(common_.min_face * 0.5 * s.scale));
    cascade_.detectMultiScale(grey, boxes, levels, weights, scale_factor_, min_neighbors_, 0,
                              {min_px, min_px}, {}, true);
    std::vector<Face> faces;
    for (size_t i = 0; i < boxes.size(); ++i) {
      Face f;
      f.box = cv::Rect2f(boxes[i]);
      // Higher stage weight = more confident; squashed to (0,1) for a comparable score.
      f.score = i < weights.size() ? float(1.0 / (1.0 + std::exp(-weights[i]))) : 1.f;
      faces.push_back(std::move(f));
    }
    return common_.finish(std::move(faces), s.scale);
  }

 private:
  Common common_;
  double scale_factor_;
  int min_neighbors_;
  cv::CascadeClassifier cascade_;
};

class YuNetDetector : public FaceDetector {
 public:
  explicit YuNetDetector(const DetectSettings& d) : common_(d) {
    const std::string path = d.yunet_model.empty() ? default_yunet_model() : d.yunet_model;
    if (d.yunet_model.empty() && !path.empty() && !std::filesystem::is_regular_file(path))
      throw std::invalid_argument(
          "the default YuNet face detector model " + path +
          " is missing (it ships in the repository's models/ and is installed in "
          "share/facecycle/models): set [plugins.detect] "
          "yunet_model = \"/path/to/" +
          kYuNetFile + "\", or detector = \"haar\"");
    require_file(path, "yunet_model", kYuNetFile);
    try {
      net_ = cv::FaceDetectorYN::create(path, "", {320, 320}, d.score_threshold, d.yunet_nms, 5000);
    } catch (const cv::Exception& e) {
      throw std::invalid_argument("cannot load YuNet from " + path + ": " + e.what());
    }
  }
  std::string name() const override { return "yunet"; }
  std::vector<Face> detect(const cv::Mat& bgr) override {
    std::vector<Face> faces = run(bgr, common_.max_side);
    if (std::max(bgr.cols, bgr.rows) > kCoarseSide && common_.max_side > kCoarseSide)
      faces = with_large_faces(run(bgr, kCoarseSide), std::move(faces),
                               double(kCoarseSide) / std::max(bgr.cols, bgr.rows));
    return common_.finish(std::move(faces), 1.0);
  }

 private:
  // YuNet misreads faces much larger than its biggest anchors (about 300 px): a 2280 px photo
  // of two 600 px faces gave four "faces" at 1600 px whose landmarks lay outside their boxes,
  // and scikit-image's astronaut enlarged to 1536 px gained a second "face" on her suit. At
  // kCoarseSide both are right. So faces of kCoarseMinFace px or more at that scale come from
  // the coarse pass, and the full-size pass adds those that are not part of one and smaller
  // than kFineMaxFace there (the two passes' boxes differ by a few %, so the two limits leave a
  // margin where a face is taken from either, once).
  static constexpr int kCoarseSide = 640;
  static constexpr float kCoarseMinFace = 64.f, kFineMaxFace = 96.f;

  static std::vector<Face> with_large_faces(std::vector<Face> coarse, std::vector<Face> fine,
                                            double coarse_scale) {
    auto side = [&](const Face& f) { return std::min(f.box.width, f.box.height) * coarse_scale; };
    std::vector<Face> out;
    for (auto& f : coarse)
      if (side(f) >= kCoarseMinFace) out.push_back(std::move(f));
    const size_t n_large = out.size();
    for (auto& f : fine) {
      const cv::Point2f c(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
      bool part_of_large = side(f) >= kFineMaxFace;
      for (size_t i = 0; i < n_large && !part_of_large; ++i)
        part_of_large = box_iou(f.box, out[i].box) > 0.3f || out[i].box.contains(c);
      if (!part_of_large) out.push_back(std::move(f));
    }
    return out;
  }

  // Faces in photo pixels from one pass over a copy at most max_side px a side.
  std::vector<Face> run(const cv::Mat& bgr, int max_side) {
    Scaled s = bounded(bgr, max_side);
    // YuNet's pooling pyramid needs at least 64 px a side; pad right/bottom (coordinates keep).
    if (s.img.cols < 64 || s.img.rows < 64)
      cv::copyMakeBorder(s.img, s.img, 0, std::max(0, 64 - s.img.rows), 0,
                         std::max(0, 64 - s.img.cols), cv::BORDER_CONSTANT, cv::Scalar::all(0));
    net_->setInputSize(s.img.size());
    cv::Mat out;
    net_->detect(s.img, out);
    std::vector<Face> faces;
    const float k = float(1.0 / s.scale);
    for (int i = 0; i < out.rows; ++i) {
      const float* r = out.ptr<float>(i);
      Face f;
      f.box = {r[0] * k, r[1] * k, r[2] * k, r[3] * k};
      for (int j = 0; j < 5; ++j) f.landmarks.emplace_back(r[4 + 2 * j] * k, r[5 + 2 * j] * k);
      f.score = r[14];
      faces.push_back(std::move(f));
    }
    return faces;
  }

  Common common_;
  cv::Ptr<cv::FaceDetectorYN> net_;
};

class SsdDetector : public FaceDetector {
 public:
  explicit SsdDetector(const DetectSettings& d) : common_(d), threshold_(d.score_threshold) {
    const std::string& pb = d.ssd_model;
    const std::string& txt = d.ssd_config;
    require_file(pb, "ssd_model", "opencv_face_detector_uint8.pb");
    require_file(txt, "ssd_config", "opencv_face_detector.pbtxt");
    try {
      net_ = cv::dnn::readNetFromTensorflow(pb, txt);
    } catch (const cv::Exception& e) {
      throw std::invalid_argument("cannot load the SSD face detector " + pb + ": " + e.what());
    }
  }
  std::string name() const override { return "ssd"; }
  std::vector<Face> detect(const cv::Mat& bgr) override {
    const cv::Mat blob = cv::dnn::blobFromImage(bgr, 1.0, {300, 300}, {104, 177, 123});
    net_.setInput(blob);
    const cv::Mat det = net_.forward();
    const cv::Mat d(det.size[2], det.size[3], CV_32F, const_cast<float*>(det.ptr<float>()));
    std::vector<Face> faces;
    for (int i = 0; i < d.rows; ++i) {
      const float* r = d.ptr<float>(i);
      if (r[2] < threshold_) continue;
      // The network emits junk boxes with coordinates far outside [0,1]; clamp the rest.
      if (r[3] > 1.05f || r[4] > 1.05f || r[5] < -0.05f || r[6] < -0.05f) continue;
      const float x0 = std::clamp(r[3], 0.f, 1.f) * bgr.cols;
      const float y0 = std::clamp(r[4], 0.f, 1.f) * bgr.rows;
      const float x1 = std::clamp(r[5], 0.f, 1.f) * bgr.cols;
      const float y1 = std::clamp(r[6], 0.f, 1.f) * bgr.rows;
      if (x1 <= x0 || y1 <= y0) continue;
      Face f;
      f.box = {x0, y0, x1 - x0, y1 - y0};
      f.score = r[2];
      faces.push_back(std::move(f));
    }
    return common_.finish(std::move(faces), 1.0);
  }

 private:
  Common common_;
  float threshold_;
  cv::dnn::Net net_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_detector(const PluginConfig& config) {
  const DetectSettings d = read_settings(config);
  switch (d.kind) {
    case DetectorKind::kHaar:
      return std::make_unique<HaarDetector>(d);
    case DetectorKind::kSsd:
      return std::make_unique<SsdDetector>(d);
    case DetectorKind::kYuNet:
      break;
  }
  return std::make_unique<YuNetDetector>(d);
}

}  // namespace fc::stages
