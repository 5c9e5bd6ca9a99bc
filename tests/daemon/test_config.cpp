#include <gtest/gtest.h>

#include "config.h"

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
)",
                             "test.toml");
  EXPECT_EQ(c.data_dir, "/tmp/fc");
  EXPECT_EQ(c.listen, "127.0.0.1:7000");
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.plugin_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c.allowed_roots, (std::vector<std::string>{"/photos"}));
  EXPECT_EQ(c.device, "cpu");
  EXPECT_EQ(c.threads, 4);
  EXPECT_EQ(c.active_model, "m1");
  EXPECT_EQ(c.train_concurrency, 2);
  EXPECT_EQ(c.max_batch, 8);
  EXPECT_FALSE(c.keep_detail);
  EXPECT_EQ(c.pipelines.at("transform"), (std::vector<std::string>{"test-flip"}));
  // the other pipeline keeps its default
  EXPECT_EQ(c.pipelines.at("whole_image").front(), "crop");
  EXPECT_EQ(c.plugin_configs.at("detect").at("min_face"), "40");
  EXPECT_EQ(c.plugin_configs.at("detect").at("threshold"), "0.5");
  EXPECT_EQ(c.plugin_configs.at("detect").at("name"), "x");
  EXPECT_EQ(c.plugin_configs.at("detect").at("fast"), "true");
}

TEST(Config, EmptyConfigKeepsDefaults) {
  auto c = fcd::parse_config("", "empty.toml");
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.train_concurrency, 1);
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
  e = error_of("[plugins.detect]\nopts = [1]\n");
  EXPECT_NE(e.find("plugins.detect.opts"), std::string::npos) << e;
}

TEST(Config, BadValuesAreNamed) {
  auto e = error_of("device = \"tpu\"\n");
  EXPECT_NE(e.find("'device'"), std::string::npos) << e;
  EXPECT_NE(e.find("cuda"), std::string::npos) << e;
  e = error_of("workers = 0\n");
  EXPECT_NE(e.find("'workers'"), std::string::npos) << e;
  e = error_of("[pipelines]\nfancy = [\"a\"]\n");
  EXPECT_NE(e.find("pipelines.fancy"), std::string::npos) << e;
}

TEST(Config, SyntaxErrorGivesFileAndLine) {
  auto e = error_of("workers = 2\nlisten = \n");
  EXPECT_NE(e.find("test.toml:2"), std::string::npos) << e;
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
}

}  // namespace
