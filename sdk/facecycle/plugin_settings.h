// Reading a plugin's settings (fc::PluginConfig, its [plugins.NAME] table as TOML text) with the
// core's typed TOML reader, the one the daemon and the trainer read their configs with:
//
//   explicit MyStage(const fc::PluginConfig& config) {
//     fc::PluginSettings s(config);
//     size_ = int(s.integer("size", 128, 16, 4096));   // default, then the allowed range
//     mode_ = s.choice<Mode>("mode", Mode::kFast);     // spelled as EnumNames<Mode> says
//     s.finish();                                       // a key nobody read is a typo: refuse it
//   }
//
// Every error is an fc::ConfigError whose what() names the plugin and the key:
// "plugins.my-stage.size: must be an integer (got \"big\")". Thrown from a factory, it makes
// the host refuse the plugin at start-up with that message. Kept out of plugin.h so that the
// ABI header stays free of any TOML library.
#pragma once

#include <toml++/toml.h>

#include <sstream>
#include <string>

#include "facecycle/core/toml_reader.h"
#include "facecycle/plugin.h"

namespace fc {

namespace detail {

// The parsed table, a base of PluginSettings so that it exists before the reader that refers
// to it.
struct ParsedPluginTable {
  toml::table parsed;

  static toml::table parse(const PluginConfig& c) {
    try {
      return toml::parse(c.toml, "plugins." + c.plugin);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << "is not valid TOML: " << e.description() << " (line " << e.source().begin.line << ")";
      throw ConfigError("plugins." + c.plugin, os.str());
    }
  }
};

}  // namespace detail

class PluginSettings : private detail::ParsedPluginTable, public TomlReader {
 public:
  explicit PluginSettings(const PluginConfig& c)
      : detail::ParsedPluginTable{detail::ParsedPluginTable::parse(c)},
        TomlReader(parsed, "plugins." + c.plugin + ".") {}
  PluginSettings(const PluginSettings&) = delete;
  PluginSettings& operator=(const PluginSettings&) = delete;
};

}  // namespace fc
