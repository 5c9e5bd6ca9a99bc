// A plugin of this ABI version and toolchain whose facecycle types were laid out differently, as
// when the daemon and its plugins come from two states of one tree: the daemon must refuse it
// rather than let it read a card at the wrong stride.
#include "refused_stage.h"

extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*
facecycle_plugin_entry() {
  static const FacecyclePluginInfo info = fc_test::refused_stage_info(
      FACECYCLE_PLUGIN_BUILD, fc::plugin_layout() ^ 1u, "test-other-layout",
      "Test plugin built from other facecycle sources");
  return &info;
}
