// Log files: rotation at the configured size, JSON lines that parse whatever the message holds,
// and the config keys and flags that set them.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config.h"
#include "logging.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Back to stderr only, so later tests do not write into a removed folder.
struct RestoreLogging {
  ~RestoreLogging() { fcd::setup_logging("info", ""); }
};

TEST(Logging, RotatesAtTheSizeAndKeepsThatManyFiles) {
  fcd_test::TempDir tmp;
  RestoreLogging restore;
  fcd::LogSettings s;
  s.file = tmp / "facecycled.log";
  s.max_size = 4096;
  s.files = 2;
  s.level = "info";
  fcd::setup_logging(s);
  for (int i = 0; i < 400; ++i) spdlog::info("line {} {}", i, std::string(40, 'x'));
  spdlog::default_logger()->flush();
  for (const char* f : {"facecycled.log", "facecycled.1.log", "facecycled.2.log"}) {
    ASSERT_TRUE(fs::exists(tmp / f)) << f;
    EXPECT_LE(fs::file_size(tmp / f), 4096u) << f;
    EXPECT_EQ(fs::status(tmp / f).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << f;
  }
  EXPECT_FALSE(fs::exists(tmp / "facecycled.3.log"));
  // The newest line is in the current file, older ones moved down.
  EXPECT_NE(lines_of(tmp / "facecycled.log").back().find("line 399"), std::string::npos);
}

TEST(Logging, ZeroMaxSizeNeverRotates) {
  fcd_test::TempDir tmp;
  RestoreLogging restore;
  fcd::LogSettings s;
  s.file = tmp / "facecycled.log";
  fcd::setup_logging(s);
  for (int i = 0; i < 200; ++i) spdlog::info("line {} {}", i, std::string(40, 'x'));
  spdlog::default_logger()->flush();
  EXPECT_GT(fs::file_size(tmp / "facecycled.log"), 8000u);
  EXPECT_FALSE(fs::exists(tmp / "facecycled.1.log"));
}

TEST(Logging, JsonLinesParseWhateverTheMessageHolds) {
  fcd_test::TempDir tmp;
  RestoreLogging restore;
  fcd::LogSettings s;
  s.file = tmp / "facecycled.log";
  s.format = "json";
  s.level = "debug";
  fcd::setup_logging(s);
  const std::vector<std::string> messages{"plain", "a \"quoted\" path\\with\\backslashes",
                                          "two\nlines\r\tand a tab", "bad utf-8: \xff\xfe end",
                                          "{\"looks\": \"like json\"}"};
  for (const auto& m : messages) spdlog::warn("{}", m);
  spdlog::debug("debug too");
  spdlog::default_logger()->flush();
  auto lines = lines_of(tmp / "facecycled.log");
  ASSERT_EQ(lines.size(), messages.size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    nlohmann::json j = nlohmann::json::parse(lines[i]);  // throws (fails) when not JSON
    ASSERT_TRUE(j.is_object()) << lines[i];
    EXPECT_EQ(lines[i].rfind("{\"time\":", 0), 0u) << "time first: " << lines[i];
    EXPECT_EQ(j.size(), 3u) << lines[i];
    EXPECT_EQ(j["level"], i < messages.size() ? "warning" : "debug");
    EXPECT_EQ(j["time"].get<std::string>().size(), 24u) << lines[i];  // 2024-05-01T12:00:00.123Z
    EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
    if (i != 3) {  // the bad UTF-8 one is checked below
      EXPECT_EQ(j["message"], i < messages.size() ? messages[i] : "debug too");
    }
  }
  EXPECT_NE(nlohmann::json::parse(lines[3])["message"].get<std::string>().find("end"),
            std::string::npos);
}

TEST(OperationsConfig, KeysAreReadAndChecked) {
  auto c = fcd::parse_config(
      "log_file = \"/var/log/fc.log\"\nlog_max_size = \"10M\"\nlog_files = 3\n"
      "log_format = \"json\"\nretention_days = 30\n",
      "t.toml");
  EXPECT_EQ(c.log_file, "/var/log/fc.log");
  EXPECT_EQ(c.log_max_size, 10u << 20);
  EXPECT_EQ(c.log_files, 3);
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.retention_days, 30);
  EXPECT_EQ(fcd::parse_config("log_max_size = 12345\n", "t.toml").log_max_size, 12345u);
  for (const char* bad : {"log_max_size = \"10X\"\n", "log_max_size = -1\n",
                          "log_format = \"xml\"\n", "log_files = 0\n", "retention_days = -2\n"})
    EXPECT_THROW(fcd::parse_config(bad, "t.toml"), fcd::ConfigError) << bad;
}

TEST(OperationsConfig, DefaultsRotateIntoTheDataDirAndKeepJobs) {
  fcd::Config c;
  c.data_dir = "/srv/fc";
  fcd::finalize_config(c);
  EXPECT_EQ(c.log_file, "/srv/fc/facecycled.log");
  EXPECT_EQ(c.log_max_size, 64u << 20);
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.retention_days, 0);
}

TEST(OperationsConfig, SizesTakeUnits) {
  EXPECT_EQ(fcd::parse_size("0", "k"), 0u);
  EXPECT_EQ(fcd::parse_size("512K", "k"), 512u << 10);
  EXPECT_EQ(fcd::parse_size("1G", "k"), 1ull << 30);
  for (const char* bad : {"", "M", "-5", "5 M", "5MB", "99999999999999999999"})
    EXPECT_THROW(fcd::parse_size(bad, "k"), fcd::ConfigError) << bad;
}

}  // namespace
