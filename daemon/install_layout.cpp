#include "install_layout.h"

#include <filesystem>

// Set by daemon/CMakeLists.txt from GNUInstallDirs; these defaults are the usual layout.
#ifndef FC_BIN_TO_PLUGINS
#define FC_BIN_TO_PLUGINS "../lib/facecycle/plugins"
#endif
#ifndef FC_BIN_TO_MODELS
#define FC_BIN_TO_MODELS "../share/facecycle/models"
#endif
#ifndef FC_INSTALL_PLUGIN_DIR
#define FC_INSTALL_PLUGIN_DIR "/usr/local/lib/facecycle/plugins"
#endif
#ifndef FC_SHIPPED_MODELS_DIR
#define FC_SHIPPED_MODELS_DIR ""
#endif

namespace fcd {

namespace fs = std::filesystem;

namespace {

// `rel` below `dir`, normalised, when that folder exists; "" otherwise.
std::string existing_dir(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return {};
  std::error_code ec;
  auto p = (fs::path(dir) / rel).lexically_normal();
  return fs::is_directory(p, ec) ? p.string() : std::string();
}

}  // namespace

std::string executable_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> plugin_dirs_near(const std::string& exe_dir) {
  for (const char* rel : {"../plugins", FC_BIN_TO_PLUGINS})
    if (auto d = existing_dir(exe_dir, rel); !d.empty()) return {d};
  return {FC_INSTALL_PLUGIN_DIR};
}

std::vector<std::string> default_plugin_dirs() { return plugin_dirs_near(executable_dir()); }

std::string shipped_models_dir_near(const std::string& exe_dir) {
  // The installed copy wins over the compiled-in source path: an installed daemon must not
  // depend on (or pick up edits in) the tree it was built from.
  if (auto d = existing_dir(exe_dir, FC_BIN_TO_MODELS); !d.empty()) return d;
  std::error_code ec;
  if (*FC_SHIPPED_MODELS_DIR && fs::is_directory(FC_SHIPPED_MODELS_DIR, ec))
    return FC_SHIPPED_MODELS_DIR;
  return {};
}

std::string shipped_models_dir() { return shipped_models_dir_near(executable_dir()); }

}  // namespace fcd
