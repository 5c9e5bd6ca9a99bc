// Daemon logging: spdlog to stderr and to <data-dir>/facecycled.log.
#pragma once

#include <string>

namespace fcd {

// level: trace | debug | info | warn | error | off. log_file empty: stderr only.
void setup_logging(const std::string& level, const std::string& log_file);

}  // namespace fcd
