// Known models (NAME.pt with NAME.card.json beside it) and the one resident generator.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "facecycle/core/translator.h"
#include "store/database.h"
#include "store/model_catalog.h"

namespace fcd {

using TranslatorLoader =
    std::function<std::shared_ptr<fc::FaceTranslator>(const std::string& model_path)>;

struct ModelInfo {
  std::string name, path;
  int64_t registered_ms = 0;
  bool active = false;
  std::string card_json;  // empty when the card cannot be read
};

inline const char* kNoModelMessage =
    "no model is active: train one (facecycle train) or activate one (facecycle models "
    "activate NAME)";

// A daemon's answer to the cluster's latest activation (`models activate NAME --everywhere`).
enum class ClusterAnswer {
  kNone,      // there is no cluster's model (never activated everywhere, or one daemon)
  kSwitched,  // it holds the cluster's model
  kKept,      // it holds another: it could not load the cluster's (error says why), its config
              // pins another (active_model), or someone activated another on it since
  kTold,      // no answer yet (still loading, or it missed the NOTIFY and has not reconnected)
};

struct NodeStatus {
  std::string node;      // host and data dir
  std::string resident;  // the model it holds ("" none)
  ClusterAnswer answer = ClusterAnswer::kNone;
  std::string error;
  bool self = false;  // the daemon that answers this call
};

// Every live daemon on the database and its model. On one daemon (SQLite): just this one.
struct ClusterStatus {
  std::string cluster_model;  // "" when no activation everywhere was ever made
  int64_t generation = 0;
  std::vector<NodeStatus> nodes;
};

class ModelRegistry {
 public:
  // dirs: searched in order; the first holding a name wins. The catalogue is the models table
  // of `db`, which must outlive this.
  ModelRegistry(Database& db, std::vector<std::string> dirs, TranslatorLoader loader)
      : ModelRegistry(make_sqlite_model_catalog(db), std::move(dirs), std::move(loader)) {}
  // The catalogue `catalog` (store/open_job_store.h chooses SQLite or PostgreSQL).
  ModelRegistry(std::unique_ptr<ModelCatalog> catalog, std::vector<std::string> dirs,
                TranslatorLoader loader);

  void scan();                                          // registers every NAME.pt with a card
  std::string register_model(const std::string& path);  // returns the name; throws without card

  // Who owns the model called `name`: its trainer, "" for one found in a models folder (shipped
  // or copied in: admins only), nullopt when there is no such model.
  std::optional<std::string> owner_of(const std::string& name);
  // Moves a trained model (NAME.pt and NAME.card.json, written elsewhere) into `into_dir` and
  // registers it for `owner`. Refuses (std::runtime_error, nothing moved) when NAME exists and
  // belongs to someone else, unless `may_replace` (admins). Returns the installed path.
  std::string install_model(const std::string& staged_path, const std::string& into_dir,
                            const std::string& owner, bool may_replace);
  const std::vector<std::string>& dirs() const { return dirs_; }
  std::vector<ModelInfo> list();

  // Whether an activation is a person's choice, which the next start prefers, or the start-up
  // fallback, which it does not: a data dir that never chose follows models/DEFAULT.
  enum class Remember { kChoice, kFallback };
  // Loads `name` and makes it the resident model. In-flight items keep the instance they took.
  // Throws std::invalid_argument (unknown name) or std::runtime_error (load failed).
  ModelInfo activate(const std::string& name, Remember remember = Remember::kChoice);
  // Start-up choice: `preferred` (config), else the cluster's model (PostgreSQL), else the
  // one a person last activated here, else the model named in `fallback_dir`/DEFAULT, else the
  // first model in `fallback_dir` (the shipped ones), else any registered one. Never throws;
  // without a model the daemon still runs and transform items fail with kNoModelMessage. On
  // PostgreSQL it then follows the cluster: each later activation everywhere is loaded here too.
  void activate_initial(const std::string& preferred, const std::string& fallback_dir);

  // activate(name) here, then (several daemons share the catalogue) records `name` as the
  // cluster's model and tells every daemon, and waits up to `wait` for the live ones to answer.
  // Throws as activate() does, having told no one. With SQLite it is activate().
  ClusterStatus activate_everywhere(const std::string& name, std::chrono::milliseconds wait);
  // The cluster's model and every live daemon's (health). Throws DbError.
  ClusterStatus cluster_status();

  std::shared_ptr<fc::FaceTranslator> current() const;
  std::string active_name() const;

 private:
  std::optional<ModelInfo> find(const std::string& name);
  // Loads the cluster's model when it is newer than the last one answered, and records the
  // answer. Runs on the watch's thread after a NOTIFY or a reconnect, and after
  // activate_everywhere.
  void follow_cluster();
  void answer_cluster(const ClusterModel& c);
  // At start: answers the cluster's model as activate_initial chose (`load_error`: why the
  // cluster's model did not load, "" when it was not tried or did), then starts the watch.
  void start_following(const std::optional<ClusterModel>& cluster, const std::string& load_error);
  ClusterStatus status_of(const std::optional<ClusterModel>& cluster);

  std::unique_ptr<ModelCatalog> catalog_;
  std::vector<std::string> dirs_;
  TranslatorLoader loader_;
  std::mutex activate_mu_;  // one load at a time
  std::mutex install_mu_;   // ownership check and move of one trained model at a time
  mutable std::mutex mu_;   // guards the two below
  std::shared_ptr<fc::FaceTranslator> current_;
  std::string active_;
  std::mutex follow_mu_;                 // one cluster answer at a time
  int64_t answered_gen_ = 0;             // guarded by follow_mu_
  std::unique_ptr<ClusterWatch> watch_;  // last: it stops (and stops calling in) first
};

}  // namespace fcd
