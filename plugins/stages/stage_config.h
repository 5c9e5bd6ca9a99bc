// Typed reads of a stage's PluginConfig with messages that name the key.
#pragma once

#include <facecycle/plugin.h>

#include <stdexcept>
#include <string>

namespace fc::stages {

inline std::string config_string(const PluginConfig& c, const std::string& key,
                                 const std::string& fallback) {
  auto it = c.find(key);
  return it == c.end() || it->second.empty() ? fallback : it->second;
}

inline double config_number(const PluginConfig& c, const std::string& key, double fallback,
                            double lo, double hi) {
  auto it = c.find(key);
  if (it == c.end() || it->second.empty()) return fallback;
  double v;
  try {
    size_t used = 0;
    v = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw std::invalid_argument("plugin setting " + key + " = '" + it->second +
                                "' is not a number");
  }
  if (v < lo || v > hi)
    throw std::invalid_argument("plugin setting " + key + " = " + it->second + " is outside [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

inline void log_to(HostContext& ctx, LogLevel level, const std::string& msg) {
  if (ctx.log) ctx.log(level, msg);
}

}  // namespace fc::stages
