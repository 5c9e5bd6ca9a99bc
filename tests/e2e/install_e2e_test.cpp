// `cmake --install` into a temporary prefix, then the installed facecycled and facecycle run from
// that prefix alone: the daemon finds its plugins and the shipped models relative to itself, with
// no --plugin-dir, no config and nothing copied from the build or source tree.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool socket_accepts(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The shipped default model, as models/DEFAULT names it; "" when the source tree lacks it or it is
// a Git LFS pointer rather than the model (a checkout without the weights).
std::string shipped_default_model() {
  std::ifstream in(std::string(FC_SOURCE_DIR) + "/models/DEFAULT");
  std::string name;
  if (!std::getline(in, name) || name.empty()) return "";
  std::error_code ec;
  auto size = fs::file_size(std::string(FC_SOURCE_DIR) + "/models/" + name + ".pt", ec);
  return !ec && size > 100000 ? name : "";
}

struct Installed {
  std::string prefix;
  std::string bin(const std::string& name) const { return prefix + "/bin/" + name; }
};

class InstallE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = shipped_default_model();
    if (model_.empty()) GTEST_SKIP() << "models/DEFAULT or its .pt is missing: nothing to install";
    inst_.prefix = tmp_ / "prefix";
    RunResult r =
        run_program({FC_CMAKE_COMMAND, "--install", FC_BINARY_DIR, "--prefix", inst_.prefix}, {},
                    std::chrono::seconds(300));
    ASSERT_EQ(r.rc, 0) << "cmake --install failed:\n" << r.out << r.err;
  }
  void TearDown() override {
    if (daemon_.pid > 0 && daemon_.running()) {
      kill(daemon_.pid, SIGKILL);
      daemon_.wait(std::chrono::seconds(10));
    }
  }

  void start_daemon() {
    fs::create_directories(tmp_ / "in");
    fs::create_directories(tmp_ / "out");
    daemon_ = spawn({inst_.bin("facecycled"), "--data-dir", tmp_ / "d", "--device", "cpu",
                     "--workers", "1", "--allow", tmp_ / "in", "--allow", tmp_ / "out"},
                    tmp_ / "daemon.log");
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(daemon_.running()) << "installed facecycled exited:\n"
                                     << read_file(tmp_ / "daemon.log");
      if (socket_accepts(tmp_ / "d/facecycled.sock")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "installed facecycled did not open its socket:\n" << read_file(tmp_ / "daemon.log");
  }

  RunResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv{inst_.bin("facecycle"), "--server",
                                  "unix:" + (tmp_ / "d/facecycled.sock"), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, {{"FACECYCLE_TOKEN", ""}, {"FACECYCLE_SERVER", ""}},
                       std::chrono::seconds(120));
  }

  TempDir tmp_;
  Installed inst_;
  std::string model_;
  Child daemon_;
};

TEST_F(InstallE2E, PutsEveryPartInItsPlace) {
  const std::string p = inst_.prefix + "/";
  const std::string plugins = p + FC_INSTALL_PLUGIN_SUBDIR + "/";
  const std::string models = p + FC_INSTALL_MODELS_SUBDIR + "/";
  for (const std::string& f :
       {p + "bin/facecycled", p + "bin/facecycle", plugins + "detect.so", plugins + "crop.so",
        plugins + "composite.so", plugins + "generate-age.so", plugins + "generate-race.so",
        plugins + "train.so", models + "DEFAULT", models + model_ + ".pt",
        models + model_ + ".card.json", models + "face_detection_yunet_2022mar.onnx",
        models + "face_detection_yunet_2022mar.LICENSE",
        p + "lib/systemd/system/facecycled.service"})
    EXPECT_TRUE(fs::is_regular_file(f)) << f << " was not installed";
  // The default model's domain gate goes with it where the repository ships one.
  if (fs::exists(std::string(FC_SOURCE_DIR) + "/models/" + model_ + ".gate.safetensors")) {
    EXPECT_TRUE(fs::is_regular_file(models + model_ + ".gate.safetensors")) << "gate not installed";
  }
  EXPECT_FALSE(fs::exists(plugins + "test-flip.so")) << "a test plugin was installed";
  // The unit starts the daemon where this install put it.
  std::string unit = read_file(p + "lib/systemd/system/facecycled.service");
  EXPECT_NE(unit.find("ExecStart=" + p + "bin/facecycled "), std::string::npos) << unit;
  EXPECT_EQ(unit.find('@'), std::string::npos) << "unfilled placeholder:\n" << unit;
  // systemd's own check of the installed unit (it also checks that ExecStart is executable).
  if (!fs::exists("/usr/bin/systemd-analyze")) {
    std::cout << "[  NOTE    ] systemd-analyze not installed: unit not verified\n";
    return;
  }
  RunResult v = run_program(
      {"/usr/bin/systemd-analyze", "verify", p + "lib/systemd/system/facecycled.service"});
  EXPECT_EQ(v.rc, 0) << v.out << v.err;
  EXPECT_EQ(v.err.find("facecycled.service"), std::string::npos) << v.err;
}

TEST_F(InstallE2E, InstalledDaemonServesFromItsPrefix) {
  start_daemon();
  RunResult plugins = cli({"plugins"});
  ASSERT_EQ(plugins.rc, 0) << plugins.out << plugins.err;
  std::set<std::string> loaded;
  const json plugin_list = plugins.json();
  for (const auto& pl : plugin_list) {
    EXPECT_TRUE(starts_with(pl.value("file", ""), inst_.prefix + "/")) << pl.dump();
    if (pl.value("status", "") != "refused") loaded.insert(pl.value("name", ""));
  }
  for (const char* name : {"detect", "crop", "generate-age", "composite"})
    EXPECT_TRUE(loaded.count(name)) << name << " not loaded: " << plugins.out;

  RunResult models = cli({"models"});
  ASSERT_EQ(models.rc, 0) << models.out << models.err;
  const json listed = models.json();
  EXPECT_EQ(listed.value("active", ""), model_) << models.out;
  int found = 0;
  for (const auto& m : listed["models"]) {
    if (m.value("name", "") != model_) continue;
    ++found;
    EXPECT_TRUE(starts_with(m.value("path", ""), inst_.prefix + "/")) << m.dump();
    // The installed gate is read from its new place, so `models` says the model gates faces.
    if (fs::exists(std::string(FC_SOURCE_DIR) + "/models/" + model_ + ".gate.safetensors")) {
      EXPECT_TRUE(m["gate"].is_object() && !m["gate"]["tasks"].empty()) << m.dump();
    }
  }
  EXPECT_EQ(found, 1) << models.out;

  // A real photo edit: detect (YuNet), crop, the shipped generator, composite.
  write_png_set(tmp_ / "in", 1);
  RunResult t = cli({"transform", "--task", "age", "-o", tmp_ / "out", tmp_ / "in/img_000.png"});
  EXPECT_EQ(t.rc, 0) << t.out << t.err << "\nlog:\n" << read_file(tmp_ / "daemon.log");
  EXPECT_TRUE(fs::exists(tmp_ / "out/img_000.png")) << t.out;

  kill(daemon_.pid, SIGTERM);
  EXPECT_EQ(daemon_.wait(std::chrono::seconds(90)), 0) << read_file(tmp_ / "daemon.log");
}

}  // namespace
