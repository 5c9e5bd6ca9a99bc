// A plugin of this ABI version built with another toolchain (as if another compiler, standard
// library or OpenCV major version): the daemon must refuse it, naming both builds.
#include "refused_stage.h"

extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*
facecycle_plugin_entry() {
  static const FacecyclePluginInfo info =
      fc_test::refused_stage_info("othercc-1 otherlib-1 opencv-0", fc::plugin_layout(),
                                  "test-wrong-build", "Test plugin built with another toolchain");
  return &info;
}
