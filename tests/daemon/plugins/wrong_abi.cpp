// Refused: built for another ABI version.
#include "facecycle/plugin.h"

namespace {
fc::Stage* make(const fc::PluginConfig&) { return nullptr; }
}  // namespace

extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*
facecycle_plugin_entry() {
  static const FacecyclePluginInfo info{FACECYCLE_PLUGIN_ABI_VERSION + 41,
                                        "daemon-test-wrong-abi",
                                        static_cast<int>(fc::PluginKind::kStage),
                                        "wrong ABI",
                                        make,
                                        nullptr};
  return &info;
}
