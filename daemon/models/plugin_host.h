// Loads stage and trainer plugins (*.so) with dlopen and makes instances of them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "facecycle/plugin.h"

namespace fcd {

struct PluginEntry {
  std::string name;
  fc::PluginKind kind;
  std::string description;
  std::string task;  // the task a stage serves (FacecyclePluginInfo::task), or empty
  std::string file;
  const FacecyclePluginInfo* info = nullptr;
};

struct RefusedPlugin {
  std::string file;
  std::string reason;
};

class PluginHost {
 public:
  // tables: each plugin's [plugins.NAME] table as TOML text (Config::plugin_tables), handed to
  // its factory in an fc::PluginConfig.
  explicit PluginHost(std::map<std::string, std::string> tables = {});
  ~PluginHost();  // libraries stay loaded until exit: instances may outlive a dlclose

  // Loads every *.so in each folder (sorted by name). A plugin that cannot be used is refused
  // with a reason (returned in refused() and logged); loading never throws.
  void load_dirs(const std::vector<std::string>& dirs);
  void load_file(const std::string& path);

  const std::vector<PluginEntry>& plugins() const { return plugins_; }
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  const PluginEntry* find(const std::string& name) const;

  // New instances; throw std::runtime_error naming the plugin when missing or when the
  // factory throws.
  std::unique_ptr<fc::Stage> create_stage(const std::string& name) const;
  std::unique_ptr<fc::Trainer> create_trainer(const std::string& name) const;

 private:
  void refuse(const std::string& file, const std::string& reason);
  fc::PluginConfig config_for(const std::string& name) const;
  // "" when an instance can be made with the plugin's config, else why not.
  std::string try_instance(const FacecyclePluginInfo& info) const;

  std::map<std::string, std::string> tables_;
  std::vector<PluginEntry> plugins_;
  std::vector<RefusedPlugin> refused_;
  std::vector<void*> handles_;
};

}  // namespace fcd
