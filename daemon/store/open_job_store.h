// Chooses the job store from the `database` setting: empty = the SQLite file the daemon already
// has open; "postgresql://..." = PostgresJobStore (when this build has it).
#pragma once

#include <memory>
#include <string>

#include "store/database.h"
#include "store/fair_share.h"
#include "store/job_store.h"

namespace fcd {

// Whether this binary was built with the PostgreSQL job store (libpqxx found by CMake).
bool postgres_job_store_built();

// The store `database` names. With it empty the SQLite store works on `sqlite_db` (migrated by
// the caller), which must outlive it. Throws DbError when the URL is not a PostgreSQL one, the
// build has no PostgreSQL store, or the server refuses.
std::unique_ptr<JobStore> open_job_store(const std::string& database, Database& sqlite_db,
                                         FairShareLimits limits);

// "SQLite <path>", or the PostgreSQL URL with any password replaced by "***": for the log.
std::string describe_database(const std::string& database, const Database& sqlite_db);

}  // namespace fcd
