#include <gtest/gtest.h>

#include <fstream>

#include "config.h"
#include "facecycle/core/toml_limits.h"
#include "facecycle/plugin_settings.h"
#include "temp_dir.h"

namespace {

std::string error_of(const std::string& toml) {
  try {
    fcd::parse_config(toml, "test.toml");
  } catch (const fcd::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ReadsEveryKnownKey) {
  auto c = fcd::parse_config(R"(
data_dir = "/tmp/fc"
listen = "127.0.0.1:7000"
workers = 3
plugin_dirs = ["/a", "/b"]
allowed_roots = ["/photos"]
device = "cpu"
precision = "bf16"
threads = 4
models_dir = "/models"
active_model = "m1"
log_level = "debug"
train_concurrency = 2
max_batch = 8
max_wait_ms = 3
keep_detail = false
[pipelines]
transform = ["test-flip"]
[plugins.detect]
min_face = 40
threshold = 0.5
name = "x"
fast = true
sizes = [1, 2]
)",
                             "test.toml");
  EXPECT_EQ(c.data_dir, "/tmp/fc");
  EXPECT_EQ(c.listen, "127.0.0.1:7000");
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.plugin_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c.allowed_roots, (std::vector<std::string>{"/photos"}));
  EXPECT_EQ(c.device, fc::DeviceChoice::kCpu);
  EXPECT_EQ(c.precision, fc::PrecisionChoice::kBf16);
  EXPECT_EQ(c.threads, 4);
  EXPECT_EQ(c.active_model, "m1");
  EXPECT_EQ(c.train_concurrency, 2);
  EXPECT_EQ(c.max_batch, 8);
  EXPECT_FALSE(c.keep_detail);
  EXPECT_EQ(c.pipelines.at("transform"), (std::vector<std::string>{"test-flip"}));
  // the other pipeline keeps its default
  EXPECT_EQ(c.pipelines.at("whole_image").front(), "crop");
  // The plugin's table travels whole as TOML (plugin ABI 3): each value keeps its type.
  fc::PluginSettings detect({"detect", c.plugin_tables.at("detect")});
  EXPECT_EQ(detect.integer("min_face", 0, 0, 100), 40);
  EXPECT_EQ(detect.number("threshold", 0, 0, 1), 0.5);
  EXPECT_EQ(detect.string("name", ""), "x");
  EXPECT_TRUE(detect.boolean("fast", false));
  EXPECT_EQ(detect.node("sizes")->as_array()->size(), 2u);
  EXPECT_NO_THROW(detect.finish());
  EXPECT_THROW(detect.integer("name", 0, 0, 1), fc::ConfigError);
}

TEST(Config, EmptyConfigKeepsDefaults) {
  auto c = fcd::parse_config("", "empty.toml");
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.train_concurrency, 1);
  EXPECT_EQ(c.device, fc::DeviceChoice::kAuto);
  EXPECT_EQ(c.precision, fc::PrecisionChoice::kAuto);
  EXPECT_TRUE(c.keep_detail);
  EXPECT_EQ(c.pipelines.at("transform"),
            (std::vector<std::string>{"detect", "crop", "generate-{task}", "composite"}));
}

TEST(Config, UnknownKeyIsNamed) {
  auto e = error_of("wrokers = 2\n");
  EXPECT_NE(e.find("wrokers"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("test.toml"), std::string::npos) << e;
}

TEST(Config, WrongTypesAreNamed) {
  auto e = error_of("workers = \"two\"\n");
  EXPECT_NE(e.find("'workers'"), std::string::npos) << e;
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
  e = error_of("plugin_dirs = \"/a\"\n");
  EXPECT_NE(e.find("'plugin_dirs'"), std::string::npos) << e;
  e = error_of("[pipelines]\ntransform = [1, 2]\n");
  EXPECT_NE(e.find("pipelines.transform"), std::string::npos) << e;
  e = error_of("[plugins]\ndetect = 1\n");
  EXPECT_NE(e.find("'plugins.detect' must be a table"), std::string::npos) << e;
}

TEST(Config, BadValuesAreNamed) {
  auto e = error_of("device = \"tpu\"\n");
  EXPECT_NE(e.find("'device'"), std::string::npos) << e;
  EXPECT_NE(e.find("must be one of: cpu, cuda, auto (got \"tpu\")"), std::string::npos) << e;
  e = error_of("precision = \"fp8\"\n");
  EXPECT_NE(e.find("'precision' must be one of: fp32, bf16, auto (got \"fp8\")"), std::string::npos)
      << e;
  e = error_of("workers = 0\n");
  EXPECT_NE(e.find("'workers'"), std::string::npos) << e;
  e = error_of("train_concurrency = -1\n");
  EXPECT_NE(e.find("'train_concurrency'"), std::string::npos) << e;
  EXPECT_EQ(fcd::parse_config("train_concurrency = 0\n", "t.toml").train_concurrency, 0)
      << "0: this daemon runs no training jobs";
  e = error_of("[pipelines]\nfancy = [\"a\"]\n");
  EXPECT_NE(e.find("pipelines.fancy"), std::string::npos) << e;
}

TEST(Config, SyntaxErrorGivesFileAndLine) {
  auto e = error_of("workers = 2\nlisten = \n");
  EXPECT_NE(e.find("test.toml:2"), std::string::npos) << e;
}

std::string repeated(const std::string& first, const std::string& part, int n) {
  std::string s = first;
  s.reserve(first.size() + part.size() * n);
  for (int i = 0; i < n; ++i) s += part;
  return s;
}

// Each of these overflowed toml++'s recursive parser (SIGSEGV) before the limits were checked.
TEST(Config, StackOverflowingTomlIsRefusedWithAClearError) {
  auto e = error_of(repeated("k", ".k", 40000) + " = 1\n");
  EXPECT_NE(e.find("more than 32 parts"), std::string::npos) << e.substr(0, 300);
  e = error_of("workers = 2\n[" + repeated("k", ".k", 50000) + "]\n");
  EXPECT_NE(e.find("test.toml: line 2: a dotted key or table header"), std::string::npos)
      << e.substr(0, 300);
  e = error_of("x = " + repeated("", "{a = ", 40000) + "1" + repeated("", "}", 40000) + "\n");
  EXPECT_NE(e.find("nested more than 32 deep"), std::string::npos) << e.substr(0, 300);
  e = error_of("x = " + repeated("", "[", 100000) + repeated("", "]", 100000) + "\n");
  EXPECT_NE(e.find("nested more than 32 deep"), std::string::npos) << e.substr(0, 300);
  e = error_of("# " + std::string(300 * 1024, 'x') + "\n");
  EXPECT_NE(e.find("more than the limit of 262144"), std::string::npos) << e.substr(0, 300);
}

// Dots and brackets inside strings and comments are not structure; floats hold one dot.
TEST(Config, TomlLimitsIgnoreStringsCommentsAndFloats) {
  const std::string dots = repeated("", ".", 100), brackets = repeated("", "[{", 100);
  std::string text = "# " + dots + brackets + "\n";
  text += "active_model = \"" + dots + brackets + "\"\n";
  text += "log_level = 'info' # " + dots + "\n";
  text += "[plugins.detect]\n";
  text += "a = \"\"\"\n" + dots + brackets + "\n\"\"\"\n";
  text += "b = '''" + dots + "'''\n";
  text += "c = 1.5\nd = 2.5\n";
  EXPECT_EQ(fc::toml_limits_problem(text), "");
  EXPECT_EQ(error_of(text), "");
  EXPECT_EQ(fc::toml_limits_problem(repeated("k", ".k", 31) + " = 1\n"), "") << "32 parts";
  EXPECT_NE(fc::toml_limits_problem(repeated("k", ".k", 32) + " = 1\n"), "") << "33 parts";
  EXPECT_NE(fc::toml_limits_problem("a = \"x\\\"" + dots + "\"\n" + repeated("k", ".k", 40)), "")
      << "an escaped quote does not end the string";
}

TEST(Config, HugeConfigFileIsRefusedBeforeReading) {
  fcd_test::TempDir tmp;
  {
    std::ofstream f(tmp / "big.toml");
    f << "# " << std::string(1 << 20, 'x') << "\n";
  }
  try {
    fcd::load_config_file(tmp / "big.toml");
    FAIL();
  } catch (const fcd::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the limit"), std::string::npos) << e.what();
  }
}

TEST(Config, MissingFileIsAClearError) {
  try {
    fcd::load_config_file("/nonexistent/facecycled.toml");
    FAIL();
  } catch (const fcd::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/facecycled.toml"), std::string::npos);
  }
}

TEST(Config, FinalizeFillsDefaultsUnderTheDataDir) {
  fcd::Config c;
  c.data_dir = "/srv/fc/";
  fcd::finalize_config(c);
  EXPECT_EQ(c.data_dir, "/srv/fc");
  EXPECT_EQ(c.listen, "unix:/srv/fc/facecycled.sock");
  EXPECT_EQ(c.models_dir, "/srv/fc/models");
  EXPECT_EQ(c.jobs_dir, "/srv/fc/jobs");
}

// jobs_dir is <data dir>/jobs or a folder of its own: anywhere else in the data dir, or above
// it, job folders would sit beside the database under the data dir's rules.
TEST(Config, JobsDirIsTheDataDirsOwnOrOutsideIt) {
  auto finalized = [](const std::string& jobs) {
    fcd::Config c = fcd::parse_config("jobs_dir = \"" + jobs + "\"\n", "t.toml");
    c.data_dir = "/srv/fc";
    fcd::finalize_config(c);
    return c.jobs_dir;
  };
  EXPECT_EQ(finalized("/shared/facecycle/jobs/"), "/shared/facecycle/jobs");
  EXPECT_EQ(finalized("/srv/fc/jobs"), "/srv/fc/jobs");
  for (const char* bad : {"/srv/fc", "/srv", "/srv/fc/models", "/srv/fc/outputs/x"}) {
    try {
      finalized(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const fcd::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("jobs_dir"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, SharingKeysHaveSafeDefaultsAndRanges) {
  auto c = fcd::parse_config("", "empty.toml");
  EXPECT_EQ(c.max_user_priority, 0);
  EXPECT_EQ(c.max_running_per_user, 0) << "no cap unless configured";
  c = fcd::parse_config("max_user_priority = 20\nmax_running_per_user = 4\n", "t.toml");
  EXPECT_EQ(c.max_user_priority, 20);
  EXPECT_EQ(c.max_running_per_user, 4);
  EXPECT_THROW(fcd::parse_config("max_user_priority = 101\n", "t.toml"), fcd::ConfigError);
  EXPECT_THROW(fcd::parse_config("max_running_per_user = -1\n", "t.toml"), fcd::ConfigError);
}

}  // namespace
