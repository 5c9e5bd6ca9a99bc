// Where the model registry's rows are kept: which names exist, where their files are, who owns
// them, and which one this daemon last made resident. The data dir's SQLite file (one daemon) or
// PostgreSQL (several daemons: one catalogue, but each remembers its own active model, since
// every host holds its own copy on its own GPU; and the cluster's model, which `models activate
// --everywhere` sets for all of them). The files and the loaded model are
// models/model_registry.h's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace fcd {

struct ModelRow {
  std::string name, path;
  int64_t registered_ms = 0;
  bool active = false;  // this daemon's last activated model
  bool chosen = false;  // ... and a person chose it (not the start-up fallback)
};

// The model every daemon on the database was last told to use (`facecycle models activate NAME
// --everywhere`). generation grows with each such activation.
struct ClusterModel {
  std::string name;
  int64_t generation = 0;
};

// A live daemon's model, and its answer to the cluster's latest activation.
struct NodeModel {
  std::string node;        // host and data dir
  std::string resident;    // the model it last made active ("" none)
  int64_t generation = 0;  // the last cluster activation it answered (0 none)
  std::string error;       // why it holds another model after that one ("" it loaded it)
  int64_t updated_ms = 0;  // of that answer
  bool self = false;       // this catalogue's own node
};

// Keeps calling a catalogue's on_change while it lives (ModelCatalog::watch_cluster).
class ClusterWatch {
 public:
  virtual ~ClusterWatch() = default;
};

class ModelCatalog {
 public:
  virtual ~ModelCatalog() = default;
  // A model found in a folder: adds it, or moves a known one to `path`, keeping its owner.
  virtual void put_found(const std::string& name, const std::string& path) = 0;
  // A trained model installed for `owner`: adds it, or gives the name to `owner`.
  virtual void put_owned(const std::string& name, const std::string& path,
                         const std::string& owner) = 0;
  // The owner of a known model ("" = found in a folder); nullopt for an unknown name.
  virtual std::optional<std::string> owner(const std::string& name) = 0;
  virtual std::vector<ModelRow> list() = 0;  // by name
  // Records `name` as this daemon's active model; `chosen` (a person's choice, not the start-up
  // fallback) makes it the one its next start prefers.
  virtual void set_active(const std::string& name, bool chosen) = 0;

  // What only a catalogue that several daemons share (PostgreSQL) does; one daemon's catalogue
  // (SQLite) has no cluster, so these default to nothing.
  virtual bool shared() const { return false; }
  // Records `name` as every daemon's model and tells the others (a NOTIFY at commit). Returns
  // its generation.
  virtual int64_t set_cluster_model(const std::string& /*name*/) { return 0; }
  virtual std::optional<ClusterModel> cluster_model() { return std::nullopt; }
  // This daemon's answer to cluster activation `generation` ("" error: it loaded that model).
  virtual void record_answer(int64_t /*generation*/, const std::string& /*error*/) {}
  // The live daemons' rows (their listener is connected), by node.
  virtual std::vector<NodeModel> live_nodes() { return {}; }
  // Calls on_change, on a thread of its own, whenever the cluster's model may have changed: on
  // each NOTIFY, and after the listener reconnects (a NOTIFY sent meanwhile was lost). Throws
  // DbError when it cannot listen; null when there is no cluster.
  virtual std::unique_ptr<ClusterWatch> watch_cluster(std::function<void()> /*on_change*/) {
    return nullptr;
  }
};

// Today's single-daemon catalogue: the models table of `db` (schema/0001, 0002), which must
// outlive it.
std::unique_ptr<ModelCatalog> make_sqlite_model_catalog(Database& db);

}  // namespace fcd
