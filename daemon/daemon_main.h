// Running the daemon: everything between a parsed Config and a clean exit.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace fcd {

// Blocks until SIGTERM/SIGINT, then drains and returns the exit status.
int run_daemon(Config config);

// <dir of this executable>/../plugins when it exists (the build tree), else the install location.
std::vector<std::string> default_plugin_dirs();

}  // namespace fcd
