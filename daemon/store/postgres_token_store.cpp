#include "store/postgres_token_store.h"

#include <mutex>
#include <pqxx/pqxx>

#include "store/postgres_rows.h"

namespace fcd {

namespace {

const char* kSelect =
    "SELECT t.id, t.user_name, u.is_admin, t.created_ms, t.last_used_ms, t.expires_ms, "
    "t.revoked_ms FROM tokens t JOIN users u ON u.name = t.user_name ";

const char* where(TokenKey key) {
  switch (key) {
    case TokenKey::kAll:
      return "";
    case TokenKey::kId:
      return "WHERE t.id = $1 ";
    case TokenKey::kUser:
      return "WHERE t.user_name = $1 ";
    case TokenKey::kSha256:
      return "WHERE t.sha256 = $1 ";
  }
  return "";
}

TokenRow read_row(const pqxx::row& r) {
  return {r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<bool>(),   r[3].as<int64_t>(),
          r[4].as<int64_t>(), r[5].as<int64_t>(),     r[6].as<int64_t>()};
}

class PostgresTokenStore : public TokenStore {
 public:
  explicit PostgresTokenStore(const std::string& url) : conn_(pg::connect_migrated(url)) {}

  void add(const std::string& user, bool admin, const std::string& sha256,
           int64_t expires_ms) override {
    std::lock_guard<std::mutex> lk(mu_);
    pg::in_tx(*conn_, "add token", [&](pqxx::work& tx) {
      // Two daemons adding the same new user at once: the second's insert becomes the update.
      tx.exec_params(
          "INSERT INTO users (name, is_admin, created_ms) VALUES ($1, $2, $3) ON CONFLICT (name) "
          "DO UPDATE SET is_admin = users.is_admin OR excluded.is_admin",
          user, admin, now_ms());
      tx.exec_params(
          "INSERT INTO tokens (user_name, sha256, created_ms, expires_ms) VALUES ($1, $2, $3, $4)",
          user, sha256, now_ms(), expires_ms);
      tx.commit();
    });
  }

  std::vector<TokenRow> select(TokenKey key, const std::string& value) override {
    // An id too long for BIGINT names no token; PostgreSQL would refuse the whole statement.
    if (key == TokenKey::kId && value.size() > 18) return {};
    std::lock_guard<std::mutex> lk(mu_);
    return pg::in_tx(*conn_, "select tokens", [&](pqxx::work& tx) {
      const std::string sql = std::string(kSelect) + where(key) + "ORDER BY t.id";
      pqxx::result r = key == TokenKey::kAll ? tx.exec(sql) : tx.exec_params(sql, value);
      std::vector<TokenRow> out;
      for (const auto& row : r) out.push_back(read_row(row));
      return out;
    });
  }

  void touch(int64_t id, int64_t now) override {
    std::lock_guard<std::mutex> lk(mu_);
    pg::in_tx(*conn_, "token use", pg::Replay::kHarmless, [&](pqxx::work& tx) {
      tx.exec_params("UPDATE tokens SET last_used_ms = $1 WHERE id = $2", now, id);
      tx.commit();
    });
  }

  void revoke(const std::vector<int64_t>& ids, int64_t now) override {
    std::lock_guard<std::mutex> lk(mu_);
    // Revoked once: a replay changes nothing
    pg::in_tx(*conn_, "revoke tokens", pg::Replay::kHarmless, [&](pqxx::work& tx) {
      for (int64_t id : ids)
        tx.exec_params("UPDATE tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms = 0", now,
                       id);
      tx.commit();
    });
  }

 private:
  std::unique_ptr<pg::Link> conn_;  // reconnects after a restart or a drop
  std::mutex mu_;                   // one transaction at a time on the connection
};

}  // namespace

std::unique_ptr<TokenStore> make_postgres_token_store(const std::string& url) {
  return std::make_unique<PostgresTokenStore>(url);
}

}  // namespace fcd
