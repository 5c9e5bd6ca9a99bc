// A plugin as it was built for plugin ABI 2, before a plugin received its [plugins.NAME] table
// as TOML: its factory takes the old flattened string map. The daemon must refuse it, naming
// the file, the ABI it was built for and the one required, and keep running. The info struct
// is ABI 2's layout, spelled out here because plugin.h now describes a later ABI.
#include <map>
#include <string>

#include "facecycle/plugin.h"

namespace {

using PluginConfigV2 = std::map<std::string, std::string>;

struct PluginInfoV2 {
  int abi_version;
  const char* build;
  const char* name;
  int kind;
  const char* description;
  const char* task;
  fc::Stage* (*create_stage)(const PluginConfigV2& config);
  fc::Trainer* (*create_trainer)(const PluginConfigV2& config);
};

class OldStage : public fc::Stage {
 public:
  explicit OldStage(const PluginConfigV2&) {}
  void process(fc::PhotoItem&, fc::HostContext&) override {}
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const PluginInfoV2* facecycle_plugin_entry() {
  static const PluginInfoV2 info{
      2,
      FACECYCLE_PLUGIN_BUILD,
      "test-old-abi",
      static_cast<int>(fc::PluginKind::kStage),
      "Test plugin built for plugin ABI 2",
      nullptr,
      [](const PluginConfigV2& c) -> fc::Stage* { return new OldStage(c); },
      nullptr};
  return &info;
}
