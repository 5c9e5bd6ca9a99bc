// The job-store back ends the store tests run against (GoogleTest typed tests): each opens a
// JobStore on a fresh database, and open() again is a daemon restart on the same database.
// tokens() and catalog() open the users and tokens, and the model catalogue, as one more daemon
// on that database sees them.
// PostgreSQL runs on a throwaway cluster (pg_cluster.h); without one its tests skip, saying why.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "pg_cluster.h"
#include "store/job_store.h"
#include "store/migrations.h"
#include "store/model_catalog.h"
#include "store/sqlite_job_store.h"
#include "store/token_store.h"
#include "temp_dir.h"
#ifdef FC_HAVE_POSTGRES
#include "store/postgres_job_store.h"
#include "store/postgres_model_catalog.h"
#include "store/postgres_token_store.h"
#endif

namespace fcd_test {

class SqliteBackend {
 public:
  bool available(std::string*) { return true; }
  // The caller drops the previous store first: it holds the connection this replaces.
  std::unique_ptr<fcd::JobStore> open(fcd::FairShareLimits limits = {}) {
    db_ = std::make_unique<fcd::Database>(dir_ / "q.db");
    fcd::apply_migrations(*db_);
    return std::make_unique<fcd::SqliteJobStore>(*db_, limits);
  }
  // A second daemon's store on the same database, open beside the first (its own connection).
  std::unique_ptr<fcd::JobStore> open_another() {
    others_.push_back(std::make_unique<fcd::Database>(dir_ / "q.db"));
    return std::make_unique<fcd::SqliteJobStore>(*others_.back());
  }
  std::unique_ptr<fcd::TokenStore> tokens() { return fcd::make_sqlite_token_store(another_db()); }
  // One daemon per SQLite file: `node` does not matter there.
  std::unique_ptr<fcd::ModelCatalog> catalog(const std::string& /*node*/) {
    return fcd::make_sqlite_model_catalog(another_db());
  }

 private:
  fcd::Database& another_db() {  // migrated, as the daemon's is, whether or not open() ran
    others_.push_back(std::make_unique<fcd::Database>(dir_ / "q.db"));
    fcd::apply_migrations(*others_.back());
    return *others_.back();
  }

  TempDir dir_;
  std::unique_ptr<fcd::Database> db_;
  std::vector<std::unique_ptr<fcd::Database>> others_;
};

class PostgresBackend {
 public:
  ~PostgresBackend() {
    if (cluster_ && !url_.empty()) cluster_->drop_database(url_);
  }
  bool available(std::string* why) {
    cluster_ = PgCluster::shared(why);
    return cluster_ != nullptr;
  }
  std::unique_ptr<fcd::JobStore> open(fcd::FairShareLimits limits = {}) {
    if (url_.empty()) url_ = cluster_->create_database();
#ifdef FC_HAVE_POSTGRES
    fcd::PostgresOptions options;
    options.limits = limits;
    return std::make_unique<fcd::PostgresJobStore>(url_, options);
#else
    (void)limits;
    return nullptr;
#endif
  }
  std::unique_ptr<fcd::JobStore> open_another() {  // after open(), which made the database
#ifdef FC_HAVE_POSTGRES
    return std::make_unique<fcd::PostgresJobStore>(url_);
#else
    return nullptr;
#endif
  }
  std::unique_ptr<fcd::TokenStore> tokens() {
    if (url_.empty()) url_ = cluster_->create_database();
#ifdef FC_HAVE_POSTGRES
    return fcd::make_postgres_token_store(url_);
#else
    return nullptr;
#endif
  }
  // `node`: the daemon's host and data dir, under which it remembers its own active model.
  std::unique_ptr<fcd::ModelCatalog> catalog(const std::string& node) {
    if (url_.empty()) url_ = cluster_->create_database();
#ifdef FC_HAVE_POSTGRES
    return fcd::make_postgres_model_catalog(url_, node);
#else
    (void)node;
    return nullptr;
#endif
  }
  const std::string& url() const { return url_; }

 private:
  PgCluster* cluster_ = nullptr;
  std::string url_;
};

using StoreBackends = ::testing::Types<SqliteBackend, PostgresBackend>;

// "JobQueueTest/Sqlite.X" and "JobQueueTest/Postgres.X": ctest runs each back end on its own.
struct BackendName {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};

// Skips the test, saying why, when the back end cannot run here.
#define FC_SKIP_UNLESS_AVAILABLE(backend)                  \
  do {                                                     \
    std::string why_;                                      \
    if (!(backend).available(&why_)) GTEST_SKIP() << why_; \
  } while (0)

}  // namespace fcd_test
