// Running the daemon: everything between a parsed Config and a clean exit.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace fcd {

// Blocks until SIGTERM/SIGINT, then drains and returns the exit status.
int run_daemon(Config config);

}  // namespace fcd
