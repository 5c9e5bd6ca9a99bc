#include "models/plugin_host.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace fcd {

namespace fs = std::filesystem;

PluginHost::PluginHost(std::map<std::string, std::string> tables) : tables_(std::move(tables)) {}

PluginHost::~PluginHost() = default;

void PluginHost::refuse(const std::string& file, const std::string& reason) {
  spdlog::warn("plugin {} refused: {}", file, reason);
  refused_.push_back({file, reason});
}

fc::PluginConfig PluginHost::config_for(const std::string& name) const {
  auto it = tables_.find(name);
  return {name, it == tables_.end() ? std::string() : it->second};
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

namespace {

// Why a plugin built for another ABI version cannot be used, naming its file and both versions.
// Only abi_version may be read: with another version, the rest of the struct may be laid out
// differently.
std::string abi_refusal(const std::string& path, int built_for) {
  const std::string file = fs::path(path).filename().string();
  const std::string versions = file + " was built for plugin ABI " + std::to_string(built_for) +
                               ", this daemon requires ABI " +
                               std::to_string(FACECYCLE_PLUGIN_ABI_VERSION);
  if (built_for < FACECYCLE_PLUGIN_ABI_VERSION)
    return versions + ": rebuild the plugin against this facecycle's sdk (facecycle/plugin.h)";
  return versions + ": run it with a facecycle of ABI " + std::to_string(built_for) +
         ", or rebuild it against this one's sdk (facecycle/plugin.h)";
}

// Same version and toolchain, yet facecycle's own types differ in size: the plugin and the
// daemon come from two states of the source, typically a tree rebuilt while a daemon started.
std::string layout_refusal(unsigned long long plugin_layout) {
  char both[80];
  std::snprintf(both, sizeof both, "%016llx, this daemon's %016llx", plugin_layout,
                fc::plugin_layout());
  return std::string(
             "built from other facecycle sources than this daemon, though both say "
             "plugin ABI ") +
         std::to_string(FACECYCLE_PLUGIN_ABI_VERSION) + " (type layout " + both +
         "): finish the build (cmake --build build), so that the daemon and its plugins come "
         "from one tree, and restart the daemon";
}

// Why a plugin's info cannot be used, or "" when it can. abi_version is checked first.
std::string info_refusal(const std::string& path, const FacecyclePluginInfo* info) {
  if (!info) return "entry point returned no plugin info";
  if (info->abi_version != FACECYCLE_PLUGIN_ABI_VERSION)
    return abi_refusal(path, info->abi_version);
  const std::string build = info->build ? info->build : "";
  if (build != FACECYCLE_PLUGIN_BUILD)
    return "built with " + (build.empty() ? std::string("an undeclared toolchain") : build) +
           ", this daemon with " + FACECYCLE_PLUGIN_BUILD +
           ": plugins share C++ objects (std::function, cv::Mat, shared_ptr) with the daemon, so "
           "rebuild the plugin with the same compiler, standard library and OpenCV major version";
  if (info->layout != fc::plugin_layout()) return layout_refusal(info->layout);
  if (!info->name || !*info->name) return "plugin has no name";
  const std::string name = info->name;
  auto kind = static_cast<fc::PluginKind>(info->kind);
  if (kind != fc::PluginKind::kStage && kind != fc::PluginKind::kTrainer)
    return "unknown plugin kind " + std::to_string(info->kind);
  if ((kind == fc::PluginKind::kStage && !info->create_stage) ||
      (kind == fc::PluginKind::kTrainer && !info->create_trainer))
    return "plugin '" + name + "' has no factory for its kind";
  if (info->task && (kind != fc::PluginKind::kStage || !*info->task))
    return "plugin '" + name + "' declares a task, which only a stage may, and not an empty one";
  return "";
}

// Calls the entry point; a throw becomes `error`.
const FacecyclePluginInfo* call_entry(FacecyclePluginEntryFn entry, std::string& error) {
  try {
    return entry();
  } catch (const std::exception& e) {
    error = std::string("entry point threw: ") + e.what();
  } catch (...) {
    error = "entry point threw";
  }
  return nullptr;
}

}  // namespace

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
  std::string error;
  const FacecyclePluginInfo* info = call_entry(entry, error);
  if (!error.empty()) return refuse(path, error);
  handles_.push_back(h);  // from here on, code of this library may be referenced
  if (auto why = info_refusal(path, info); !why.empty()) return refuse(path, why);
  const std::string name = info->name;
  if (auto* other = find(name))
    return refuse(path, "plugin name '" + name + "' is already taken by " + other->file);
  if (auto why = try_instance(*info); !why.empty()) return refuse(path, why);
  auto kind = static_cast<fc::PluginKind>(info->kind);
  plugins_.push_back({name, kind, info->description ? info->description : "",
                      info->task ? info->task : "", path, info});
  spdlog::info("plugin {} ({}) loaded from {}", name, fc::enum_name(kind), path);
}

std::string PluginHost::try_instance(const FacecyclePluginInfo& info) const {
  // Build one instance now so a factory that throws (bad [plugins.NAME] settings, a missing
  // model file) is refused at start-up rather than failing every item later.
  const std::string name = info.name;
  try {
    auto cfg = config_for(name);
    if (static_cast<fc::PluginKind>(info.kind) == fc::PluginKind::kStage)
      delete info.create_stage(cfg);
    else
      delete info.create_trainer(cfg);
  } catch (const std::exception& e) {
    return "plugin '" + name + "' failed to start: " + e.what();
  } catch (...) {
    return "plugin '" + name + "' failed to start";
  }
  return "";
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
