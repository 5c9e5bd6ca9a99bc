// A plugin of this ABI version built with another toolchain (as if another compiler, standard
// library or OpenCV major version): the daemon must refuse it, naming both builds.
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
      "othercc-1 otherlib-1 opencv-0",
      fc::plugin_layout(),
      "test-wrong-build",
      static_cast<int>(fc::PluginKind::kStage),
      "Test plugin built with another toolchain",
      nullptr,
      [](const fc::PluginConfig& c) -> fc::Stage* { return new Unused(c); },
      nullptr};
  return &info;
}
