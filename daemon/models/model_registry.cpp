#include "models/model_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "text_limits.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {
std::string card_path(const std::string& model_path) {
  return fs::path(model_path).replace_extension(".card.json").string();
}
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// rename(), or copy and remove when the two lie on different file systems.
void move_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return;
  const std::string tmp = to + ".installing";  // a reader never sees half a file
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
  fs::remove(from, ec);
}
}  // namespace

ModelRegistry::ModelRegistry(std::unique_ptr<ModelCatalog> catalog, std::vector<std::string> dirs,
                             TranslatorLoader loader)
    : catalog_(std::move(catalog)), dirs_(std::move(dirs)), loader_(std::move(loader)) {}

std::string ModelRegistry::register_model(const std::string& path) {
  std::error_code ec;
  auto abs = fs::absolute(path).lexically_normal();
  if (!fs::is_regular_file(abs, ec)) throw std::runtime_error("model file " + path + " is missing");
  if (!fs::is_regular_file(card_path(abs.string()), ec))
    throw std::runtime_error("model " + path + " has no card " + card_path(abs.string()));
  std::string name = abs.stem().string();
  catalog_->put_found(name, abs.string());
  return name;
}

std::optional<std::string> ModelRegistry::owner_of(const std::string& name) {
  if (auto owner = catalog_->owner(name)) return owner;
  std::error_code ec;
  for (const auto& d : dirs_)
    if (fs::exists(fs::path(d) / (name + ".pt"), ec)) return std::string();
  return std::nullopt;
}

std::string ModelRegistry::install_model(const std::string& staged_path,
                                         const std::string& into_dir, const std::string& owner,
                                         bool may_replace) {
  std::lock_guard<std::mutex> lk(install_mu_);
  const fs::path staged = fs::absolute(staged_path).lexically_normal();
  const std::string name = staged.stem().string();
  // The destination file counts too: a restart's scan() would register it under this name.
  std::optional<std::string> had = owner_of(name);
  std::error_code ec;
  const fs::path dest = fs::path(into_dir) / (name + ".pt");
  if (!had && fs::exists(dest, ec)) had = std::string();
  if (had && *had != owner && !may_replace)
    // The job's owner reads this; who else trains what is not theirs to learn.
    throw std::runtime_error(
        "model name '" + name + "' belongs to " +
        (had->empty() ? std::string("the daemon (a shipped model)") : std::string("another user")) +
        "; only an admin may replace it. The trained model stays at " + staged.string() +
        ": retrain with another model_name");
  if (!fs::is_regular_file(card_path(staged.string()), ec))
    throw std::runtime_error("model " + staged.string() + " has no card");
  fs::create_directories(into_dir);
  // Card first: a model file without its card is never registered by scan().
  move_file(card_path(staged.string()), card_path(dest.string()));
  move_file(staged.string(), dest.string());
  catalog_->put_owned(name, fs::absolute(dest).lexically_normal().string(), owner);
  return dest.string();
}

void ModelRegistry::scan() {
  // Later dirs first so that earlier ones win a name clash.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    std::error_code ec;
    if (!fs::is_directory(*it, ec)) continue;
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(*it, ec))
      if (e.path().extension() == ".pt") found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    for (const auto& f : found) {
      try {
        register_model(f);
      } catch (const std::exception& e) {
        spdlog::warn("model {} skipped: {}", f, e.what());
      }
    }
  }
}

std::vector<ModelInfo> ModelRegistry::list() {
  std::vector<ModelInfo> out;
  std::string active = active_name();
  for (auto& row : catalog_->list()) {
    ModelInfo m{std::move(row.name), std::move(row.path), row.registered_ms, false, ""};
    m.active = !active.empty() ? m.name == active : row.active;
    m.card_json = read_text(card_path(m.path));
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<ModelInfo> ModelRegistry::find(const std::string& name) {
  for (auto& m : list())
    if (m.name == name) return m;
  return std::nullopt;
}

ModelInfo ModelRegistry::activate(const std::string& name, Remember remember) {
  std::lock_guard<std::mutex> load_lock(activate_mu_);
  auto m = find(name);
  if (!m) {
    scan();  // a model copied in since start-up
    m = find(name);
  }
  if (!m) {
    std::string names;
    for (const auto& x : list()) names += (names.empty() ? "" : ", ") + x.name;
    throw std::invalid_argument("unknown model '" + clip(name) + "'; known: " +
                                (names.empty() ? "none (train one with facecycle train)" : names));
  }
  if (!loader_) throw std::runtime_error("this daemon cannot load models");
  auto translator = loader_(m->path);  // slow; items keep using the old one meanwhile
  if (!translator) throw std::runtime_error("loading model " + m->path + " returned nothing");
  const std::string where = translator->device() + " in " + translator->precision();
  {
    std::lock_guard<std::mutex> lk(mu_);
    current_ = std::move(translator);
    active_ = name;
  }
  catalog_->set_active(name, remember == Remember::kChoice);
  spdlog::info("model {} is active ({}) on {}", name, m->path, where);
  m->active = true;
  return *m;
}

namespace {
// The cluster's model at start; nullopt, said in the log, when the database cannot tell.
std::optional<ClusterModel> read_cluster_model(ModelCatalog& catalog) {
  try {
    return catalog.cluster_model();
  } catch (const std::exception& e) {
    spdlog::error("cannot read the model every daemon should use: {}", e.what());
    return std::nullopt;
  }
}
}  // namespace

void ModelRegistry::activate_initial(const std::string& preferred, const std::string& fallback) {
  scan();
  std::vector<std::string> candidates;
  if (!preferred.empty()) candidates.push_back(preferred);
  // The cluster's model comes before this daemon's own remembered one: an activation everywhere
  // made while this daemon was down is meant for it too.
  const auto cluster = read_cluster_model(*catalog_);
  if (cluster) candidates.push_back(cluster->name);
  // The catalogue's rows, not list(): only names and paths are needed, not every card.
  const std::vector<ModelRow> all = catalog_->list();
  std::string chosen;  // what a person last activated here (models activate)
  for (const auto& row : all)
    if (row.active && row.chosen) chosen = row.name;
  if (!chosen.empty()) candidates.push_back(chosen);
  // The shipped folder names its default in DEFAULT (one line); the others follow by name.
  if (!fallback.empty()) {
    std::ifstream def(fs::path(fallback) / "DEFAULT");
    std::string name;
    if (def && std::getline(def, name) && !name.empty()) candidates.push_back(name);
  }
  for (const auto& m : all)
    if (!fallback.empty() && fs::path(m.path).parent_path() == fs::path(fallback))
      candidates.push_back(m.name);
  for (const auto& m : all) candidates.push_back(m.name);  // e.g. only a trained one exists
  std::string cluster_error;  // why the cluster's model did not load here
  for (const auto& c : candidates) {
    try {
      // A person's choice (here, or everywhere) stays one; the rest is this start's fallback.
      const bool was_chosen = c == chosen || (cluster && c == cluster->name);
      activate(c, was_chosen ? Remember::kChoice : Remember::kFallback);
      break;
    } catch (const std::exception& e) {
      spdlog::error("cannot activate model {}: {}", c, e.what());
      if (cluster && c == cluster->name && cluster_error.empty()) cluster_error = e.what();
    }
  }
  if (active_name().empty()) spdlog::warn("{}", kNoModelMessage);
  start_following(cluster, cluster_error);
}

std::shared_ptr<fc::FaceTranslator> ModelRegistry::current() const {
  std::lock_guard<std::mutex> lk(mu_);
  return current_;
}

std::string ModelRegistry::active_name() const {
  std::lock_guard<std::mutex> lk(mu_);
  return active_;
}

}  // namespace fcd
