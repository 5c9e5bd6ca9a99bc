#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "models/plugin_host.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;

const std::string kDir = FC_DAEMON_TEST_PLUGIN_DIR;
const std::string kRefusedDir = FC_REFUSED_TEST_PLUGIN_DIR;
using Tables = std::map<std::string, std::string>;  // [plugins.NAME] tables as TOML text

std::string reason_for(const fcd::PluginHost& host, const std::string& file_part) {
  for (const auto& r : host.refused())
    if (r.file.find(file_part) != std::string::npos) return r.reason;
  return "";
}

TEST(PluginHost, LoadsGoodPluginsAndRefusesBadOnesWithReasons) {
  fcd::PluginHost host;
  host.load_dirs({kDir, kRefusedDir});
  ASSERT_NE(host.find("daemon-test-good"), nullptr);
  EXPECT_EQ(host.find("daemon-test-good")->kind, fc::PluginKind::kStage);
  EXPECT_EQ(host.find("daemon-test-good")->description, "Daemon test stage: mirrors the photo");
  EXPECT_EQ(host.plugins().size(), 1u);
  ASSERT_EQ(host.refused().size(), 4u);

  const std::string required = std::to_string(FACECYCLE_PLUGIN_ABI_VERSION);
  auto abi = reason_for(host, "test-bad-abi.so");
  EXPECT_NE(abi.find("test-bad-abi.so was built for plugin ABI " +
                     std::to_string(FACECYCLE_PLUGIN_ABI_VERSION + 1000) +
                     ", this daemon requires ABI " + required),
            std::string::npos)
      << abi;
  auto sym = reason_for(host, "test-no-entry.so");
  EXPECT_NE(sym.find("facecycle_plugin_entry"), std::string::npos) << sym;
  auto thr = reason_for(host, "test-throwing-factory.so");
  EXPECT_NE(thr.find("refusing to start on purpose"), std::string::npos) << thr;
}

// ABI 3 changed what a factory receives (PluginConfig became TOML text): a plugin built for ABI 2
// would misread it, so it is refused, saying which file, which ABI it has and which is needed.
TEST(PluginHost, APluginBuiltForAnOlderAbiIsRefusedNamingFileAndVersions) {
  fcd::PluginHost host;
  host.load_file(kRefusedDir + "/test-old-abi.so");
  host.load_file(kDir + "/daemon_test_good_stage.so");
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].file, kRefusedDir + "/test-old-abi.so");
  EXPECT_EQ(host.refused()[0].reason,
            "test-old-abi.so was built for plugin ABI 2, this daemon requires ABI " +
                std::to_string(FACECYCLE_PLUGIN_ABI_VERSION) +
                ": rebuild the plugin against this facecycle's sdk (facecycle/plugin.h)");
  EXPECT_EQ(host.find("test-old-abi"), nullptr);
  ASSERT_NE(host.find("daemon-test-good"), nullptr) << "the host loads on past the refusal";
}

TEST(PluginHost, APluginBuiltWithAnotherToolchainIsRefusedNamingBoth) {
  fcd::PluginHost host;
  host.load_file(FC_WRONG_BUILD_TEST_PLUGIN);
  EXPECT_TRUE(host.plugins().empty());
  ASSERT_EQ(host.refused().size(), 1u);
  const std::string build = host.refused()[0].reason;
  EXPECT_NE(build.find("built with othercc-1 otherlib-1 opencv-0, this daemon with " +
                       std::string(FACECYCLE_PLUGIN_BUILD)),
            std::string::npos)
      << build;
  EXPECT_NE(build.find("same compiler, standard library and OpenCV major version"),
            std::string::npos)
      << build;
}

// A tree rebuilt while a daemon starts gives a daemon and plugins of one version and toolchain
// whose types differ (ABI 5 grew Condition by a field): a plugin reading the card at the wrong
// stride left faces unedited without an error. Now such a plugin is refused, saying what to do.
TEST(PluginHost, APluginFromOtherSourcesOfTheSameAbiIsRefusedWithTheRemedy) {
  fcd::PluginHost host;
  host.load_file(FC_OTHER_LAYOUT_TEST_PLUGIN);
  EXPECT_EQ(host.find("test-other-layout"), nullptr);
  ASSERT_EQ(host.refused().size(), 1u);
  const std::string reason = host.refused()[0].reason;
  EXPECT_NE(reason.find("built from other facecycle sources than this daemon, though both say "
                        "plugin ABI " +
                        std::to_string(FACECYCLE_PLUGIN_ABI_VERSION)),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("cmake --build build"), std::string::npos) << reason;
  EXPECT_NE(reason.find("restart the daemon"), std::string::npos) << reason;
}

TEST(PluginHost, OurBuildTagNamesCompilerStandardLibraryAndOpenCv) {
  const std::string tag = FACECYCLE_PLUGIN_BUILD;
  EXPECT_TRUE(tag.rfind("gcc-", 0) == 0 || tag.rfind("clang-", 0) == 0) << tag;
  EXPECT_TRUE(tag.find(" libstdc++-") != std::string::npos ||
              tag.find(" libc++-") != std::string::npos)
      << tag;
  EXPECT_NE(tag.find(" opencv-" + std::to_string(CV_VERSION_MAJOR)), std::string::npos) << tag;
}

// The generate stages are one source built twice; each declares its task through the ABI.
TEST(PluginHost, GenerateStagesDeclareTheirTasks) {
  fcd::PluginHost host;
  host.load_file(std::string(FC_PLUGIN_DIR) + "/generate-age.so");
  host.load_file(std::string(FC_PLUGIN_DIR) + "/generate-race.so");
  host.load_file(kDir + "/daemon_test_good_stage.so");
  ASSERT_TRUE(host.refused().empty()) << host.refused()[0].reason;
  EXPECT_EQ(host.find("generate-age")->task, "age");
  EXPECT_EQ(host.find("generate-race")->task, "race");
  EXPECT_EQ(host.find("daemon-test-good")->task, "") << "a stage for every task declares none";
}

TEST(PluginHost, NotASharedLibraryIsRefused) {
  fcd_test::TempDir dir;
  std::ofstream(dir / "garbage.so") << "not an ELF file";
  std::ofstream(dir / "readme.txt") << "ignored";
  fcd::PluginHost host;
  host.load_dirs({dir.path(), dir / "missing"});
  EXPECT_TRUE(host.plugins().empty());
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_NE(host.refused()[0].reason.find("dlopen failed"), std::string::npos);
}

TEST(PluginHost, DuplicateNameIsRefused) {
  fcd_test::TempDir dir;
  fs::copy_file(kDir + "/daemon_test_good_stage.so", dir / "copy.so");
  fcd::PluginHost host;
  host.load_file(kDir + "/daemon_test_good_stage.so");
  host.load_file(dir / "copy.so");
  EXPECT_EQ(host.plugins().size(), 1u);
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_NE(host.refused()[0].reason.find("already taken"), std::string::npos);
}

TEST(PluginHost, InstancesGetTheirConfigAndRunPerWorker) {
  fcd::PluginHost host(Tables{{"daemon-test-good", "fail_on = \"bad\"\n"}});
  host.load_dirs({kDir});
  auto a = host.create_stage("daemon-test-good");
  auto b = host.create_stage("daemon-test-good");
  EXPECT_NE(a.get(), b.get()) << "one instance per worker";
  fc::PhotoItem item;
  item.image = cv::Mat(4, 6, CV_8UC3, cv::Scalar(1, 2, 3));
  item.image.at<cv::Vec3b>(0, 0) = {9, 9, 9};
  fc::HostContext ctx;
  a->process(item, ctx);
  EXPECT_EQ(item.result.at<cv::Vec3b>(0, 5), cv::Vec3b(9, 9, 9));
  item.input_path = "/x/bad.png";
  EXPECT_THROW(b->process(item, ctx), std::runtime_error) << "config must reach the plugin";
  EXPECT_THROW(host.create_stage("nope"), std::runtime_error);
  EXPECT_THROW(host.create_trainer("daemon-test-good"), std::runtime_error);
}

// A [plugins.NAME] value of the wrong type refuses the plugin at load with a message naming the
// plugin and the key, rather than the plugin running on a default.
TEST(PluginHost, AWrongTypeInAPluginsTableRefusesItNamingPluginAndKey) {
  fcd::PluginHost host(Tables{{"daemon-test-good", "fail_on = 3\n"}});
  host.load_file(kDir + "/daemon_test_good_stage.so");
  EXPECT_TRUE(host.plugins().empty());
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].reason,
            "plugin 'daemon-test-good' failed to start: plugins.daemon-test-good.fail_on: must be "
            "a string (got 3)");
}

// A key the plugin does not read is most likely a typo; it is refused with the keys it reads.
TEST(PluginHost, AnUnknownKeyInAPluginsTableRefusesItListingTheKnownOnes) {
  fcd::PluginHost host(Tables{{"daemon-test-good", "fail_onn = \"bad\"\n"}});
  host.load_file(kDir + "/daemon_test_good_stage.so");
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].reason,
            "plugin 'daemon-test-good' failed to start: plugins.daemon-test-good.fail_onn: "
            "unknown key (known: fail_on, slow_on)");
}

}  // namespace
