#include "store/open_job_store.h"

#include <regex>

#include "store/sqlite_job_store.h"
#ifdef FC_HAVE_POSTGRES
#include "store/postgres_job_store.h"
#include "store/postgres_model_catalog.h"
#include "store/postgres_token_store.h"
#endif

namespace fcd {

bool postgres_job_store_built() {
#ifdef FC_HAVE_POSTGRES
  return true;
#else
  return false;
#endif
}

namespace {

// For a non-empty `database`: throws DbError unless it is a PostgreSQL URL this build can open.
void check_postgres(const std::string& database, const Database& sqlite_db) {
  const bool pg = database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0;
  if (!pg)
    throw DbError(
        "database: expected empty (SQLite in the data dir) or a postgresql:// URL, got '" +
        describe_database(database, sqlite_db) + "'");
  if (!postgres_job_store_built())
    throw DbError(
        "database: this facecycled was built without PostgreSQL support (install libpqxx-dev "
        "and rebuild)");
}

}  // namespace

std::unique_ptr<JobStore> open_job_store(const std::string& database, Database& sqlite_db,
                                         FairShareLimits limits) {
  if (database.empty()) return std::make_unique<SqliteJobStore>(sqlite_db, limits);
  check_postgres(database, sqlite_db);
#ifdef FC_HAVE_POSTGRES
  PostgresOptions options;
  options.limits = limits;
  return std::make_unique<PostgresJobStore>(database, options);
#else
  return nullptr;  // check_postgres threw
#endif
}

std::unique_ptr<TokenStore> open_token_store(const std::string& database, Database& sqlite_db) {
  if (database.empty()) return make_sqlite_token_store(sqlite_db);
  check_postgres(database, sqlite_db);
#ifdef FC_HAVE_POSTGRES
  return make_postgres_token_store(database);
#else
  return nullptr;  // check_postgres threw
#endif
}

std::unique_ptr<ModelCatalog> open_model_catalog(const std::string& database, Database& sqlite_db,
                                                 const std::string& node) {
  if (database.empty()) return make_sqlite_model_catalog(sqlite_db);
  check_postgres(database, sqlite_db);
#ifdef FC_HAVE_POSTGRES
  return make_postgres_model_catalog(database, node);
#else
  (void)node;
  return nullptr;  // check_postgres threw
#endif
}

std::string describe_database(const std::string& database, const Database& sqlite_db) {
  if (database.empty()) return "SQLite " + sqlite_db.path();
  // scheme://user:password@host -> scheme://user:***@host; also password=... parameters.
  std::string s = std::regex_replace(database, std::regex("(://[^:/@]*:)[^@]*@"), "$1***@");
  return std::regex_replace(s, std::regex("(password=)[^&]*"), "$1***");
}

}  // namespace fcd
