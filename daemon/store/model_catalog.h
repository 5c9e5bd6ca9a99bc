// Where the model registry's rows are kept: which names exist, where their files are, who owns
// them, and which one this daemon last made resident. The data dir's SQLite file (one daemon) or
// PostgreSQL (several daemons: one catalogue, but each remembers its own active model, since
// every host holds its own copy on its own GPU). The files and the loaded model are
// models/model_registry.h's.
#pragma once

#include <cstdint>
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
  // Remembers `name` as this daemon's active model, for its next start.
  virtual void set_active(const std::string& name) = 0;
};

// Today's single-daemon catalogue: the models table of `db` (schema/0001, 0002), which must
// outlive it.
std::unique_ptr<ModelCatalog> make_sqlite_model_catalog(Database& db);

}  // namespace fcd
