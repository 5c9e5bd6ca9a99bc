#include "plugin_host.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace fcd {

namespace fs = std::filesystem;

PluginHost::PluginHost(std::map<std::string, fc::PluginConfig> configs)
    : configs_(std::move(configs)) {}

PluginHost::~PluginHost() = default;

void PluginHost::refuse(const std::string& file, const std::string& reason) {
  spdlog::warn("plugin {} refused: {}", file, reason);
  refused_.push_back({file, reason});
}

fc::PluginConfig PluginHost::config_for(const std::string& name) const {
  auto it = configs_.find(name);
  return it == configs_.end() ? fc::PluginConfig{} : it->second;
}

void PluginHost::load_dirs(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      spdlog::info("plugin folder {} does not exist; skipped", dir);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".so") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f);
  }
}

void PluginHost::load_file(const std::string& path) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* err = dlerror();
    refuse(path, std::string("dlopen failed: ") + (err ? err : "unknown error"));
    return;
  }
  dlerror();
  auto entry = reinterpret_cast<FacecyclePluginEntryFn>(dlsym(h, FACECYCLE_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    refuse(path, std::string("no ") + FACECYCLE_PLUGIN_ENTRY_SYMBOL +
                     " symbol: not a facecycle plugin (use FACECYCLE_STAGE_PLUGIN)");
    dlclose(h);
    return;
  }
  const FacecyclePluginInfo* info = nullptr;
  try {
    info = entry();
  } catch (const std::exception& e) {
    refuse(path, std::string("entry point threw: ") + e.what());
    return;
  } catch (...) {
    refuse(path, "entry point threw");
    return;
  }
  handles_.push_back(h);  // from here on, code of this library may be referenced
  if (!info) return refuse(path, "entry point returned no plugin info");
  if (info->abi_version != FACECYCLE_PLUGIN_ABI_VERSION)
    return refuse(path, "ABI version " + std::to_string(info->abi_version) +
                            ", this daemon needs " + std::to_string(FACECYCLE_PLUGIN_ABI_VERSION) +
                            ": rebuild the plugin against this facecycle");
  if (!info->name || !*info->name) return refuse(path, "plugin has no name");
  std::string name = info->name;
  auto kind = static_cast<fc::PluginKind>(info->kind);
  if (kind != fc::PluginKind::kStage && kind != fc::PluginKind::kTrainer)
    return refuse(path, "unknown plugin kind " + std::to_string(info->kind));
  if ((kind == fc::PluginKind::kStage && !info->create_stage) ||
      (kind == fc::PluginKind::kTrainer && !info->create_trainer))
    return refuse(path, "plugin '" + name + "' has no factory for its kind");
  if (auto* other = find(name))
    return refuse(path, "plugin name '" + name + "' is already taken by " + other->file);
  // Build one instance now so a factory that throws (bad [plugins.NAME] settings, a missing
  // model file) is refused at start-up rather than failing every item later.
  try {
    auto cfg = config_for(name);
    if (kind == fc::PluginKind::kStage)
      delete info->create_stage(cfg);
    else
      delete info->create_trainer(cfg);
  } catch (const std::exception& e) {
    return refuse(path, "plugin '" + name + "' failed to start: " + e.what());
  } catch (...) {
    return refuse(path, "plugin '" + name + "' failed to start");
  }
  plugins_.push_back({name, kind, info->description ? info->description : "", path, info});
  spdlog::info("plugin {} ({}) loaded from {}", name,
               kind == fc::PluginKind::kStage ? "stage" : "trainer", path);
}

const PluginEntry* PluginHost::find(const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.name == name) return &p;
  return nullptr;
}

std::unique_ptr<fc::Stage> PluginHost::create_stage(const std::string& name) const {
  const auto* p = find(name);
  if (!p || p->kind != fc::PluginKind::kStage)
    throw std::runtime_error("no stage plugin named '" + name +
                             "' is loaded (see `facecycle plugins`)");
  try {
    return std::unique_ptr<fc::Stage>(p->info->create_stage(config_for(name)));
  } catch (const std::exception& e) {
    throw std::runtime_error("stage '" + name + "' failed to start: " + e.what());
  }
}

std::unique_ptr<fc::Trainer> PluginHost::create_trainer(const std::string& name) const {
  const auto* p = find(name);
  if (!p || p->kind != fc::PluginKind::kTrainer)
    throw std::runtime_error("no trainer plugin named '" + name +
                             "' is loaded (see `facecycle plugins`)");
  try {
    return std::unique_ptr<fc::Trainer>(p->info->create_trainer(config_for(name)));
  } catch (const std::exception& e) {
    throw std::runtime_error("trainer '" + name + "' failed to start: " + e.what());
  }
}

}  // namespace fcd
