// What a test plugin that the daemon must refuse declares: one info struct, filled in by the
// plugin so that it can claim another build or layout, around a stage that does nothing.
#pragma once

#include "facecycle/plugin.h"

namespace fc_test {

class UnusedStage : public fc::Stage {
 public:
  explicit UnusedStage(const fc::PluginConfig&) {}
  void process(fc::PhotoItem&, fc::HostContext&) override {}
};

// A stage plugin's info of this ABI version with the given build tag and layout.
inline FacecyclePluginInfo refused_stage_info(const char* build, unsigned long long layout,
                                              const char* name, const char* description) {
  return {FACECYCLE_PLUGIN_ABI_VERSION,
          build,
          layout,
          name,
          static_cast<int>(fc::PluginKind::kStage),
          description,
          nullptr,
          [](const fc::PluginConfig& c) -> fc::Stage* { return new UnusedStage(c); },
          nullptr};
}

}  // namespace fc_test
