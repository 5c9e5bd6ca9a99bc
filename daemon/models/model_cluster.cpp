// ModelRegistry's part in a cluster of daemons on one PostgreSQL database: one model for all of
// them (`facecycle models activate NAME --everywhere`, docs/SCALE.md). The catalogue records the
// cluster's model and NOTIFYs; each daemon's watch loads it and records its answer, which the
// reply of the activation and `facecycle health` read.
#include <spdlog/spdlog.h>

#include <thread>

#include "models/model_registry.h"

namespace fcd {

ClusterStatus ModelRegistry::activate_everywhere(const std::string& name,
                                                 std::chrono::milliseconds wait) {
  // Here first: an unknown name or a model this host cannot load is refused before anyone is
  // told to load it.
  activate(name);
  if (!catalog_->shared()) {
    // One daemon: here is everywhere.
    return {name, 0, {{"", active_name(), ClusterAnswer::kSwitched, "", true}}};
  }
  const int64_t generation = catalog_->set_cluster_model(name);
  spdlog::info("model {} is now every daemon's model (activation {} everywhere): told them all",
               name, generation);
  follow_cluster();  // this daemon's answer at once; its own NOTIFY then changes nothing
  const ClusterModel asked{name, generation};
  const auto until = std::chrono::steady_clock::now() + wait;
  for (;;) {
    ClusterStatus s = status_of(asked);
    bool waiting = false;
    for (const auto& n : s.nodes) waiting = waiting || n.answer == ClusterAnswer::kTold;
    if (!waiting || std::chrono::steady_clock::now() >= until) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ClusterStatus ModelRegistry::cluster_status() {
  if (!catalog_->shared()) return {"", 0, {{"", active_name(), ClusterAnswer::kNone, "", true}}};
  return status_of(catalog_->cluster_model());
}

ClusterStatus ModelRegistry::status_of(const std::optional<ClusterModel>& cluster) {
  ClusterStatus s;
  if (cluster) {
    s.cluster_model = cluster->name;
    s.generation = cluster->generation;
  }
  for (auto& n : catalog_->live_nodes()) {
    NodeStatus o{n.node, n.self ? active_name() : n.resident, ClusterAnswer::kNone, n.error,
                 n.self};
    if (cluster)
      o.answer = n.generation < cluster->generation ? ClusterAnswer::kTold
                 : o.resident == cluster->name      ? ClusterAnswer::kSwitched
                                                    : ClusterAnswer::kKept;
    s.nodes.push_back(std::move(o));
  }
  return s;
}

void ModelRegistry::follow_cluster() {
  std::lock_guard<std::mutex> lk(follow_mu_);
  const auto c = catalog_->cluster_model();
  // Only newer activations: a re-read after a reconnect, or this daemon's own NOTIFY, finds one
  // it has answered already.
  if (!c || c->generation <= answered_gen_) return;
  answered_gen_ = c->generation;
  answer_cluster(*c);
}

void ModelRegistry::answer_cluster(const ClusterModel& c) {
  std::string error;
  const std::string before = active_name();
  if (before != c.name) {
    try {
      activate(c.name);
      spdlog::info("model {} is active here as every daemon's model (activation {} everywhere)",
                   c.name, c.generation);
    } catch (const std::exception& e) {
      error = e.what();
      spdlog::error(
          "cannot load model {}, which was activated everywhere (activation {}): {}; this "
          "daemon keeps model {}",
          c.name, c.generation, error, before.empty() ? "none" : before);
    }
  }
  catalog_->record_answer(c.generation, error);
}

void ModelRegistry::start_following(const std::optional<ClusterModel>& cluster,
                                    const std::string& load_error) {
  if (!catalog_->shared()) return;
  try {
    if (cluster) {
      std::lock_guard<std::mutex> lk(follow_mu_);
      answered_gen_ = cluster->generation;
      std::string why = load_error;
      if (why.empty() && active_name() != cluster->name)
        why = "its config's active_model names " + active_name();
      catalog_->record_answer(cluster->generation, why);
    }
    watch_ = catalog_->watch_cluster([this] {
      try {
        follow_cluster();
      } catch (const std::exception& e) {
        spdlog::error("cannot read the model every daemon should use: {}", e.what());
      }
    });
    follow_cluster();  // an activation between the read at start and the LISTEN
  } catch (const std::exception& e) {
    spdlog::error("this daemon will not follow activations everywhere until it restarts: {}",
                  e.what());
  }
}

}  // namespace fcd
