// Chooses the job store, token store and model catalogue from the `database` setting: empty =
// the SQLite file the daemon already has open; "postgresql://..." = the PostgreSQL ones (when
// this build has them), which every daemon on that database shares.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"
#include "store/fair_share.h"
#include "store/job_store.h"
#include "store/model_catalog.h"
#include "store/token_store.h"

namespace fcd {

// Whether this binary was built with the PostgreSQL job store (libpqxx found by CMake).
bool postgres_job_store_built();

// The store `database` names. With it empty the SQLite store works on `sqlite_db` (migrated by
// the caller), which must outlive it. Throws DbError when the URL is not a PostgreSQL one, the
// build has no PostgreSQL store, or the server refuses.
std::unique_ptr<JobStore> open_job_store(const std::string& database, Database& sqlite_db,
                                         FairShareLimits limits);

// Users and tokens, as open_job_store chooses (`sqlite_db` must outlive an SQLite one).
std::unique_ptr<TokenStore> open_token_store(const std::string& database, Database& sqlite_db);

// The model registry's rows, as open_job_store chooses. `node` (host and data dir) is the key
// under which a PostgreSQL catalogue remembers this daemon's own active model.
std::unique_ptr<ModelCatalog> open_model_catalog(const std::string& database, Database& sqlite_db,
                                                 const std::string& node);

// "SQLite <path>", or the PostgreSQL URL with any password replaced by "***": for the log.
std::string describe_database(const std::string& database, const Database& sqlite_db);

}  // namespace fcd
