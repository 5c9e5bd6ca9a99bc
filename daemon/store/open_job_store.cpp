#include "store/open_job_store.h"

#include <regex>

#include "store/sqlite_job_store.h"
#ifdef FC_HAVE_POSTGRES
#include "store/postgres_job_store.h"
#endif

namespace fcd {

bool postgres_job_store_built() {
#ifdef FC_HAVE_POSTGRES
  return true;
#else
  return false;
#endif
}

std::unique_ptr<JobStore> open_job_store(const std::string& database, Database& sqlite_db,
                                         FairShareLimits limits) {
  if (database.empty()) return std::make_unique<SqliteJobStore>(sqlite_db, limits);
  const bool pg = database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0;
  if (!pg)
    throw DbError(
        "database: expected empty (SQLite in the data dir) or a postgresql:// URL, got '" +
        describe_database(database, sqlite_db) + "'");
#ifdef FC_HAVE_POSTGRES
  PostgresOptions options;
  options.limits = limits;
  return std::make_unique<PostgresJobStore>(database, options);
#else
  throw DbError(
      "database: this facecycled was built without PostgreSQL support (install libpqxx-dev and "
      "rebuild)");
#endif
}

std::string describe_database(const std::string& database, const Database& sqlite_db) {
  if (database.empty()) return "SQLite " + sqlite_db.path();
  // scheme://user:password@host -> scheme://user:***@host; also password=... parameters.
  std::string s = std::regex_replace(database, std::regex("(://[^:/@]*:)[^@]*@"), "$1***@");
  return std::regex_replace(s, std::regex("(password=)[^&]*"), "$1***");
}

}  // namespace fcd
