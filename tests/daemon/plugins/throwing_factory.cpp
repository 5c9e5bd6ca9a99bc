// Refused: its factory throws (as a stage with a bad setting would).
#include <stdexcept>

#include "facecycle/plugin.h"

namespace {
class Throwing : public fc::Stage {
 public:
  explicit Throwing(const fc::PluginConfig&) {
    throw std::runtime_error("model file weights.bin not found");
  }
  void process(fc::PhotoItem&, fc::HostContext&) override {}
};
}  // namespace

FACECYCLE_STAGE_PLUGIN("daemon-test-throwing", "always throws", Throwing)
