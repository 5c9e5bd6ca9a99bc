// Daemon logging: spdlog to stderr and to a log file (by default <data-dir>/facecycled.log),
// rotated by size, as text or as one JSON object per line.
#pragma once

#include <spdlog/formatter.h>

#include <cstdint>
#include <memory>
#include <string>

namespace fcd {

struct LogSettings {
  std::string level = "info";  // trace | debug | info | warn | error | off
  std::string file;            // empty: stderr only
  // The file is renamed to NAME.1.log (NAME.2.log, ...) when a line would take it past
  // max_size bytes; `files` old ones are kept. max_size 0: never rotated.
  std::uint64_t max_size = 0;
  int files = 5;
  std::string format = "text";  // text | json
};

void setup_logging(const LogSettings& settings);
// level and file only: text, never rotated.
void setup_logging(const std::string& level, const std::string& log_file);

// One JSON object per line: {"time": "2024-05-01T12:00:00.123Z", "level": "info",
// "message": "..."}. Any message (quotes, newlines, invalid UTF-8) stays one valid line.
std::unique_ptr<spdlog::formatter> make_json_log_formatter();

}  // namespace fcd
