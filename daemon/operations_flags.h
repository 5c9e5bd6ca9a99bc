// The operator's command-line flags (log file, rotation, format, retention): added to the
// daemon's command line and applied over the config file's values, like every other flag.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "config.h"

namespace fcd {

struct OperationsFlags {
  std::string log_file, log_max_size, log_format;
  std::optional<int> log_files, retention_days;
};

void add_operations_flags(CLI::App& app, OperationsFlags& flags);
// Throws ConfigError for a bad --log-max-size.
void apply_operations_flags(const OperationsFlags& flags, Config& cfg);

}  // namespace fcd
