#include <gtest/gtest.h>

#include "store/database.h"
#include "store/migrations.h"
#include "store/sqlite_job_store.h"
#include "temp_dir.h"

namespace {

using fcd::Database;

int count_tables(Database& db) {
  auto st = db.prepare(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'tokens', "
      "'jobs', 'items', 'events', 'models')");
  st.step();
  return static_cast<int>(st.int64(0));
}

TEST(Migrations, EmbeddedFilesAreNumberedInOrder) {
  const auto& m = fcd::embedded_migrations();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.front().version, 1);
  EXPECT_EQ(m.front().name, "0001_init.sql");
  for (size_t i = 1; i < m.size(); ++i) EXPECT_GT(m[i].version, m[i - 1].version);
}

TEST(Migrations, ApplyToEmptyFileThenAgainIsHarmless) {
  fcd_test::TempDir dir;
  {
    Database db(dir / "state.db");
    EXPECT_EQ(fcd::schema_version(db), 0);
    int n = fcd::apply_migrations(db);
    EXPECT_EQ(n, static_cast<int>(fcd::embedded_migrations().size()));
    EXPECT_EQ(count_tables(db), 6);
    db.exec("INSERT INTO users (name, is_admin, created_ms) VALUES ('ann', 0, 1)");
  }
  Database again(dir / "state.db");
  EXPECT_EQ(fcd::apply_migrations(again), 0);
  EXPECT_EQ(fcd::schema_version(again), fcd::embedded_migrations().back().version);
  auto st = again.prepare("SELECT COUNT(*) FROM users");
  st.step();
  EXPECT_EQ(st.int64(0), 1) << "re-running migrations must keep the data";
}

TEST(Migrations, FailingMigrationRollsBackAndNamesTheFile) {
  fcd_test::TempDir dir;
  Database db(dir / "state.db");
  std::vector<fcd::Migration> ms{{1, "0001_ok.sql", "CREATE TABLE a (x INTEGER);"},
                                 {2, "0002_bad.sql", "CREATE TABLE b (y INTEGER); BOGUS SQL;"}};
  try {
    fcd::apply_migrations(db, ms);
    FAIL() << "expected an error";
  } catch (const fcd::DbError& e) {
    EXPECT_NE(std::string(e.what()).find("0002_bad.sql"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fcd::schema_version(db), 1);
  auto st = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'");
  st.step();
  EXPECT_EQ(st.int64(0), 0) << "the failed migration's statements must be rolled back";
}

TEST(Migrations, DatabaseUsesWalAndForeignKeys) {
  fcd_test::TempDir dir;
  Database db(dir / "state.db");
  auto jm = db.prepare("PRAGMA journal_mode");
  jm.step();
  EXPECT_EQ(jm.text(0), "wal");
  auto fk = db.prepare("PRAGMA foreign_keys");
  fk.step();
  EXPECT_EQ(fk.int64(0), 1);
}

// The job store's connection checkpoints every 100 WAL pages, not SQLite's 1,000: the submit
// tail that docs/BENCHMARKS.md measured comes from the checkpoint a COMMIT runs under the lock.
TEST(Migrations, TheJobStoreCheckpointsInSmallSteps) {
  fcd_test::TempDir dir;
  Database db(dir / "state.db");
  fcd::apply_migrations(db);
  fcd::SqliteJobStore store(db);
  auto st = db.prepare("PRAGMA wal_autocheckpoint");
  st.step();
  EXPECT_EQ(st.int64(0), 100);
}

}  // namespace
