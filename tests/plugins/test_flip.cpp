// test-flip: a real but cheap stage for end-to-end tests — mirrors the photo left to right.
// `delay_ms` (from [plugins.test-flip]) slows each item down so tests can cancel or kill the
// daemon while an item is in flight. An input whose name contains "segfault" crashes the daemon
// (SIGSEGV in the worker thread), for the crash-attribution tests.
#include <chrono>
#include <csignal>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "facecycle/plugin.h"
#include "facecycle/plugin_settings.h"

namespace {

class TestFlip : public fc::Stage {
 public:
  explicit TestFlip(const fc::PluginConfig& config) {
    fc::PluginSettings s(config);
    delay_ms_ = int(s.integer("delay_ms", 0, 0, 3'600'000));
    s.finish();
  }

  void process(fc::PhotoItem& item, fc::HostContext& ctx) override {
    if (item.image.empty()) throw std::runtime_error("test-flip: item has no decoded image");
    // The crasher dies halfway through the others' delay, so that they are in flight then.
    const bool crash = item.input_path.find("segfault") != std::string::npos;
    // Sleep in slices so a cancel is noticed promptly.
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(crash ? delay_ms_ / 2 : delay_ms_);
    while (std::chrono::steady_clock::now() < until) {
      if (ctx.is_cancelled()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (crash) std::raise(SIGSEGV);
    cv::flip(item.image, item.result, 1);
    item.report["flipped"] = "horizontal";
    if (ctx.progress) ctx.progress(1.0, "flipped");
  }

 private:
  int delay_ms_ = 0;
};

}  // namespace

FACECYCLE_STAGE_PLUGIN("test-flip", "Test stage: mirrors the photo horizontally", TestFlip)
