// A plugin whose factory throws: the daemon must refuse it with this message and keep running.
#include <stdexcept>

#include "facecycle/plugin.h"

namespace {

class Throwing : public fc::Stage {
 public:
  explicit Throwing(const fc::PluginConfig&) {
    throw std::runtime_error("test-throwing-factory: refusing to start on purpose");
  }
  void process(fc::PhotoItem&, fc::HostContext&) override {}
};

}  // namespace

FACECYCLE_STAGE_PLUGIN("test-throwing-factory", "Test plugin whose factory always throws", Throwing)
