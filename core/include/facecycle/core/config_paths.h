// Where a path written in a config file points: relative paths resolve against the config file's
// folder (the working directory when the text came without a file). The trainer opens what this
// returns and the daemon checks the same path against its allowed roots before the trainer runs,
// so both must call this one function: two copies that drift let a path pass the check and open
// another file.
#pragma once

#include <filesystem>
#include <string>

namespace fc {

inline std::string resolve_config_path(const std::string& p, const std::string& config_path) {
  namespace fs = std::filesystem;
  if (p.empty() || fs::path(p).is_absolute()) return p;
  const fs::path base =
      config_path.empty() ? fs::current_path() : fs::absolute(config_path).parent_path();
  return (base / p).lexically_normal().string();
}

}  // namespace fc
