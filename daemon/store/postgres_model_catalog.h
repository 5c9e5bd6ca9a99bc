// The model registry's rows in PostgreSQL (schema/postgresql/0004_models.sql), chosen with the
// job store by `database = "postgresql://..."`: every daemon on the database knows the same
// models. Built only with libpqxx (FC_HAVE_POSTGRES).
#pragma once

#include <memory>
#include <string>

#include "store/model_catalog.h"

namespace fcd {

// `node` names this daemon (its host and data dir, as its lease holder's node): the key under
// which it remembers its own active model. Its own connection, with the schema migrated. Throws
// DbError when the server cannot be reached or the migration fails.
std::unique_ptr<ModelCatalog> make_postgres_model_catalog(const std::string& url,
                                                          const std::string& node);

}  // namespace fcd
