// What every stage includes: the ABI, its settings read with fc::PluginSettings (typed values,
// errors naming plugin and key) and logging through the host.
#pragma once

#include <facecycle/plugin.h>
#include <facecycle/plugin_settings.h>

#include <string>

namespace fc::stages {

inline void log_to(HostContext& ctx, LogLevel level, const std::string& msg) {
  if (ctx.log) ctx.log(level, msg);
}

}  // namespace fc::stages
