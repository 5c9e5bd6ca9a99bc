// schema/postgresql/NNNN_*.sql, applied by whichever PostgreSQL store a process opens first: the
// job store in the daemon, the token store in `facecycled token ...`, which may run first.
#include <pqxx/pqxx>

#include "store/postgres_rows.h"

namespace fcd::pg {

namespace {
// Any number that fits the ids: the lock only has to be the same for every daemon.
constexpr int64_t kMigrationLock = 0x66636d6967;  // "fcmig"
}  // namespace

int apply_migrations(Link& c) {
  int applied = 0;
  for (const auto& m : embedded_postgres_migrations()) {
    // A replay finds its version recorded and does nothing
    applied += in_tx(c, "migration", Replay::kHarmless, [&](pqxx::work& tx) {
      // Daemons starting together take turns here; the second sees the first's versions.
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      tx.exec0(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT "
          "NOT NULL, applied_ms BIGINT NOT NULL)");
      if (!tx.exec_params("SELECT 1 FROM schema_version WHERE version = $1", m.version).empty())
        return 0;
      try {
        tx.exec(m.sql);
      } catch (const pqxx::failure& e) {
        throw DbError("schema migration postgresql/" + m.name + " failed: " + e.what());
      }
      tx.exec_params("INSERT INTO schema_version (version, name, applied_ms) VALUES ($1, $2, $3)",
                     m.version, m.name, now_ms());
      tx.commit();
      return 1;
    });
  }
  return applied;
}

std::unique_ptr<Link> connect_migrated(const std::string& url) {
  auto c = std::make_unique<Link>(url);  // throws DbError saying what to check
  apply_migrations(*c);
  return c;
}

}  // namespace fcd::pg
