// A plugin built against a future ABI: the daemon must refuse it and keep running. Only
// abi_version is read; the host must not trust the rest of a layout it does not know.
#include "facecycle/plugin.h"

extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*
facecycle_plugin_entry() {
  static const FacecyclePluginInfo info{FACECYCLE_PLUGIN_ABI_VERSION + 1000,
                                        FACECYCLE_PLUGIN_BUILD,
                                        fc::plugin_layout(),
                                        "test-bad-abi",
                                        static_cast<int>(fc::PluginKind::kStage),
                                        "Test plugin with a wrong ABI version",
                                        nullptr,
                                        nullptr,
                                        nullptr};
  return &info;
}
