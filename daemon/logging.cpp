#include "logging.h"

#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

namespace fcd {

namespace {

class JsonLogFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // UTC with a Z, so lines from hosts in different zones sort and compare as written.
    using namespace std::chrono;
    const auto since = msg.time.time_since_epoch();
    const std::time_t secs = duration_cast<seconds>(since).count();
    const int millis = int(duration_cast<milliseconds>(since).count() % 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[64];  // room for any int year, so no truncation warning
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    const auto level = spdlog::level::to_string_view(msg.level);
    nlohmann::ordered_json j{{"time", stamp},
                             {"level", std::string(level.data(), level.size())},
                             {"message", std::string(msg.payload.data(), msg.payload.size())}};
    // In the order people read them (ordered_json). Paths and user input reach the log: bytes that
    // are not UTF-8 become U+FFFD instead of throwing out of the logger.
    const std::string line =
        j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

// The log names users, jobs and paths, and the sink's fopen follows the umask (0666 under
// umask 000): every file it opens, rotated ones included, is made owner-only.
spdlog::file_event_handlers private_file_handlers() {
  spdlog::file_event_handlers h;
  h.before_open = [](const spdlog::filename_t& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  };
  h.after_open = [](const spdlog::filename_t&, std::FILE* f) { ::fchmod(::fileno(f), 0600); };
  return h;
}

spdlog::sink_ptr file_sink(const LogSettings& s) {
  if (s.max_size == 0)
    return std::make_shared<spdlog::sinks::basic_file_sink_mt>(s.file, false,
                                                               private_file_handlers());
  return std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      s.file, static_cast<std::size_t>(s.max_size), static_cast<std::size_t>(s.files), false,
      private_file_handlers());
}

}  // namespace

std::unique_ptr<spdlog::formatter> make_json_log_formatter() {
  return std::make_unique<JsonLogFormatter>();
}

void setup_logging(const LogSettings& s) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!s.file.empty()) sinks.push_back(file_sink(s));
  auto logger = std::make_shared<spdlog::logger>("facecycled", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(s.level));
  if (s.format == "json")
    logger->set_formatter(make_json_log_formatter());
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void setup_logging(const std::string& level, const std::string& log_file) {
  LogSettings s;
  s.level = level;
  s.file = log_file;
  setup_logging(s);
}

}  // namespace fcd
