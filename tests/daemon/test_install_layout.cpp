// Where facecycled looks for plugins and shipped models, built or installed under any prefix.
#include <gtest/gtest.h>

#include <filesystem>

#include "install_layout.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace {

// A prefix with bin/ in it; the tests add the folders they need.
struct Tree {
  fcd_test::TempDir tmp;
  fs::path root{tmp.path()};
  Tree() { fs::create_directories(root / "bin"); }
  std::string bin() const { return (root / "bin").string(); }
};

}  // namespace

TEST(InstallLayout, BuildTreePluginsBesideBinWin) {
  Tree t;
  fs::create_directories(t.root / "plugins");
  fs::create_directories(t.root / FC_INSTALL_PLUGIN_SUBDIR);
  EXPECT_EQ(fcd::plugin_dirs_near(t.bin()),
            std::vector<std::string>{(t.root / "plugins").string()});
}

TEST(InstallLayout, InstalledPluginsRelativeToTheExecutable) {
  Tree t;
  fs::create_directories(t.root / FC_INSTALL_PLUGIN_SUBDIR);
  EXPECT_EQ(fcd::plugin_dirs_near(t.bin()),
            std::vector<std::string>{(t.root / FC_INSTALL_PLUGIN_SUBDIR).string()});
}

TEST(InstallLayout, NeitherFallsBackToTheConfiguredPrefix) {
  Tree t;
  auto dirs = fcd::plugin_dirs_near(t.bin());
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_NE(dirs[0].find("facecycle/plugins"), std::string::npos) << dirs[0];
  EXPECT_EQ(dirs[0].find(t.root.string()), std::string::npos) << dirs[0];
}

TEST(InstallLayout, InstalledModelsWinOverTheSourceTree) {
  Tree t;
  fs::create_directories(t.root / FC_INSTALL_MODELS_SUBDIR);
  EXPECT_EQ(fcd::shipped_models_dir_near(t.bin()), (t.root / FC_INSTALL_MODELS_SUBDIR).string());
}

TEST(InstallLayout, BuildTreeUsesTheSourceModels) {
  Tree t;
  // The build tree has no share/facecycle/models: the source tree's models/ is compiled in.
  EXPECT_EQ(fs::path(fcd::shipped_models_dir_near(t.bin())), fs::path(FC_SOURCE_DIR) / "models");
}
