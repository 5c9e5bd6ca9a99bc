// Where facecycled finds its plugins and the shipped models, built or installed: always
// relative to its own executable first, so an installed tree works under any prefix
// (`cmake --install build --prefix DIR`) with no source tree beside it.
#pragma once

#include <string>
#include <vector>

namespace fcd {

// The folder of the running executable; "" when /proc/self/exe cannot be read.
std::string executable_dir();

// For an executable in `exe_dir`: <exe_dir>/../plugins when it exists (the build tree), else
// <exe_dir>/../lib/facecycle/plugins when it exists (an install), else the configured
// install prefix's plugin folder.
std::vector<std::string> plugin_dirs_near(const std::string& exe_dir);
std::vector<std::string> default_plugin_dirs();  // plugin_dirs_near(executable_dir())

// For an executable in `exe_dir`: <exe_dir>/../share/facecycle/models when it exists (an
// install), else the source tree's models/ compiled in when it exists (the build tree);
// "" when neither does.
std::string shipped_models_dir_near(const std::string& exe_dir);
std::string shipped_models_dir();  // shipped_models_dir_near(executable_dir())

}  // namespace fcd
