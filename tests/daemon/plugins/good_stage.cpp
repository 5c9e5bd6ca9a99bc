// A working stage for the daemon's tests: mirrors the photo; `fail_on` (a file-name substring)
// makes matching items fail, `slow_on` makes them take a second and a half.
#include <chrono>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "facecycle/plugin.h"
#include "facecycle/plugin_settings.h"

namespace {
class GoodStage : public fc::Stage {
 public:
  explicit GoodStage(const fc::PluginConfig& c) {
    fc::PluginSettings s(c);
    fail_on_ = s.string("fail_on", "");
    slow_on_ = s.string("slow_on", "");
    s.finish();
  }
  void process(fc::PhotoItem& item, fc::HostContext& ctx) override {
    if (!fail_on_.empty() && item.input_path.find(fail_on_) != std::string::npos)
      throw std::runtime_error("daemon-test-good: asked to fail on " + item.input_path);
    if (!slow_on_.empty() && item.input_path.find(slow_on_) != std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    cv::flip(item.image, item.result, 1);
    item.report["stage"] = "daemon-test-good";
    if (ctx.progress) ctx.progress(1.0, "done");
  }

 private:
  std::string fail_on_, slow_on_;
};
}  // namespace

FACECYCLE_STAGE_PLUGIN("daemon-test-good", "Daemon test stage: mirrors the photo", GoodStage)
