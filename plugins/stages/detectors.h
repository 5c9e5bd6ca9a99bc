// The three face detectors of the detect stage. Not thread-safe: one instance per stage.
#pragma once

#include <facecycle/plugin.h>

#include <memory>
#include <string>
#include <vector>

namespace fc::stages {

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Faces in a CV_8UC3 BGR photo, in photo pixels, best first.
  virtual std::vector<Face> detect(const cv::Mat& bgr) = 0;
  virtual std::string name() const = 0;
};

// `detector` = yunet (default, the model shipped in models/) | haar | ssd; the other keys are
// described in docs/PIPELINE.md. Throws fc::ConfigError naming the plugin and key for a value
// of the wrong type or range and for a key no detector reads, and std::invalid_argument for a
// model file that is missing or cannot be loaded.
std::unique_ptr<FaceDetector> make_detector(const PluginConfig& config);

}  // namespace fc::stages
