// A plugin of this ABI version and toolchain whose facecycle types were laid out differently, as
// when the daemon and its plugins come from two states of one tree: the daemon must refuse it
// rather than let it read a card at the wrong stride.
#include "facecycle/plugin.h"

namespace {

class Unused : public fc::Stage {
 public:
  explicit Unused(const fc::PluginConfig&) {}
  void process(fc::PhotoItem&, fc::HostContext&) override {}
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*
facecycle_plugin_entry() {
  static const FacecyclePluginInfo info{
      FACECYCLE_PLUGIN_ABI_VERSION,
      FACECYCLE_PLUGIN_BUILD,
      fc::plugin_layout() ^ 1u,
      "test-other-layout",
      static_cast<int>(fc::PluginKind::kStage),
      "Test plugin built from other facecycle sources",
      nullptr,
      [](const fc::PluginConfig& c) -> fc::Stage* { return new Unused(c); },
      nullptr};
  return &info;
}
