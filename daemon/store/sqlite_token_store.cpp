// Users and token hashes in the data dir's SQLite file (schema/0001_init.sql, 0005).
#include "store/token_store.h"

namespace fcd {

namespace {

const char* kSelect =
    "SELECT t.id, t.user, u.is_admin, t.created_ms, t.last_used_ms, t.expires_ms, t.revoked_ms "
    "FROM tokens t JOIN users u ON u.name = t.user ";

const char* where(TokenKey key) {
  switch (key) {
    case TokenKey::kAll:
      return "";
    case TokenKey::kId:
      return "WHERE t.id = ? ";
    case TokenKey::kUser:
      return "WHERE t.user = ? ";
    case TokenKey::kSha256:
      return "WHERE t.sha256 = ? ";
  }
  return "";
}

class SqliteTokenStore : public TokenStore {
 public:
  explicit SqliteTokenStore(Database& db) : db_(db) {}

  void add(const std::string& user, bool admin, const std::string& sha256,
           int64_t expires_ms) override {
    Transaction tx(db_);
    db_.prepare("INSERT OR IGNORE INTO users (name, is_admin, created_ms) VALUES (?, ?, ?)")
        .bind(1, user)
        .bind(2, admin ? 1 : 0)
        .bind(3, now_ms())
        .run();
    if (admin) db_.prepare("UPDATE users SET is_admin = 1 WHERE name = ?").bind(1, user).run();
    db_.prepare("INSERT INTO tokens (user, sha256, created_ms, expires_ms) VALUES (?, ?, ?, ?)")
        .bind(1, user)
        .bind(2, sha256)
        .bind(3, now_ms())
        .bind(4, expires_ms)
        .run();
    tx.commit();
  }

  std::vector<TokenRow> select(TokenKey key, const std::string& value) override {
    auto st = db_.prepare(std::string(kSelect) + where(key) + "ORDER BY t.id");
    if (key != TokenKey::kAll) st.bind(1, value);
    std::vector<TokenRow> out;
    while (st.step())
      out.push_back({st.int64(0), st.text(1), st.int64(2) != 0, st.int64(3), st.int64(4),
                     st.int64(5), st.int64(6)});
    return out;
  }

  void touch(int64_t id, int64_t now) override {
    db_.prepare("UPDATE tokens SET last_used_ms = ? WHERE id = ?").bind(1, now).bind(2, id).run();
  }

  void revoke(const std::vector<int64_t>& ids, int64_t now) override {
    Transaction tx(db_);
    for (int64_t id : ids)
      db_.prepare("UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0")
          .bind(1, now)
          .bind(2, id)
          .run();
    tx.commit();
  }

 private:
  Database& db_;
};

}  // namespace

std::unique_ptr<TokenStore> make_sqlite_token_store(Database& db) {
  return std::make_unique<SqliteTokenStore>(db);
}

}  // namespace fcd
