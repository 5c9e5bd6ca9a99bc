#include "store/migrations.h"

namespace fcd {

int schema_version(Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT "
      "NULL, applied_ms INTEGER NOT NULL)");
  auto st = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  st.step();
  return static_cast<int>(st.int64(0));
}

int apply_migrations(Database& db, const std::vector<Migration>& migrations) {
  int current = schema_version(db);
  int applied = 0;
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    Transaction tx(db);
    try {
      db.exec(m.sql);
    } catch (const DbError& e) {
      throw DbError("schema migration " + m.name + " failed: " + e.what());
    }
    db.prepare("INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)")
        .bind(1, m.version)
        .bind(2, m.name)
        .bind(3, now_ms())
        .run();
    tx.commit();
    ++applied;
  }
  return applied;
}

}  // namespace fcd
