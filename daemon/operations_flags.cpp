#include "operations_flags.h"

namespace fcd {

void add_operations_flags(CLI::App& app, OperationsFlags& f) {
  app.add_option("--log-file", f.log_file, "log file (default: <data-dir>/facecycled.log)");
  app.add_option("--log-max-size", f.log_max_size,
                 "rotate the log file when it would pass this size: bytes, or 512K, 64M, 1G "
                 "(default 64M; 0: never)");
  app.add_option("--log-files", f.log_files, "rotated log files kept (default 5)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--log-format", f.log_format,
                 "text | json (one JSON object per line: time, level, message; default text)")
      ->check(CLI::IsMember(kLogFormats));
  app.add_option("--retention-days", f.retention_days,
                 "prune finished jobs' events and job folders after this many days, keeping "
                 "their summary and manifest (default 0: keep everything)")
      ->check(CLI::Range(0, 36500));
}

void apply_operations_flags(const OperationsFlags& f, Config& cfg) {
  if (!f.log_file.empty()) cfg.log_file = f.log_file;
  if (!f.log_max_size.empty()) cfg.log_max_size = parse_size(f.log_max_size, "--log-max-size");
  if (f.log_files) cfg.log_files = *f.log_files;
  if (!f.log_format.empty()) cfg.log_format = f.log_format;
  if (f.retention_days) cfg.retention_days = *f.retention_days;
}

}  // namespace fcd
