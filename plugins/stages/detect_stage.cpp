// Stage "detect": fills item.faces with boxes (and 5 landmarks with YuNet).
#include <mutex>

#include "detectors.h"
#include "stage_config.h"

namespace fc::stages {

class DetectStage : public Stage {
 public:
  explicit DetectStage(const PluginConfig& config) : detector_(make_detector(config)) {}

  void process(PhotoItem& item, HostContext& ctx) override {
    if (item.whole_image) return;  // the photo is one face chip
    if (item.image.empty()) throw std::runtime_error("detect: the item has no decoded image");
    std::vector<Face> faces;
    {
      // Detectors keep per-call state; the daemon gives each worker its own stage, the lock
      // covers hosts that share one.
      std::lock_guard<std::mutex> lock(mutex_);
      try {
        faces = detector_->detect(item.image);
      } catch (const cv::Exception& e) {
        throw std::runtime_error("face detection (" + detector_->name() +
                                 ") failed on this photo: " + e.err);
      }
    }
    item.faces = std::move(faces);
    item.report["detector"] = detector_->name();
    item.report["faces_detected"] = std::to_string(item.faces.size());
    log_to(ctx, LogLevel::kDebug,
           "detect: " + std::to_string(item.faces.size()) + " faces in " + item.input_path);
    if (ctx.progress) ctx.progress(1.0, std::to_string(item.faces.size()) + " faces found");
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<FaceDetector> detector_;
};

}  // namespace fc::stages

FACECYCLE_STAGE_PLUGIN("detect", "Finds faces (yunet | haar | ssd, setting `detector`)",
                       fc::stages::DetectStage)
