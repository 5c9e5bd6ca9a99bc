// Where users and their tokens' hashes are kept: the data dir's SQLite file (one daemon), or
// PostgreSQL (several daemons: a token made through any of them works on all). Rows only; what a
// row means (its state, the refusal a user reads, who may add what) is service/auth.h's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/database.h"

namespace fcd {

struct TokenRow {
  int64_t id = 0;
  std::string user;
  bool is_admin = false;                                                     // the user's flag
  int64_t created_ms = 0, last_used_ms = 0, expires_ms = 0, revoked_ms = 0;  // 0 = never
};

// Which tokens select() returns.
enum class TokenKey { kAll, kId, kUser, kSha256 };

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // In one transaction: creates `user` when missing, makes the user an admin when `admin` (an
  // admin stays one), and adds a token with this hash.
  virtual void add(const std::string& user, bool admin, const std::string& sha256,
                   int64_t expires_ms) = 0;
  // The matching tokens, in id order. `value` is the id (digits), user name or hash; unused for
  // kAll.
  virtual std::vector<TokenRow> select(TokenKey key, const std::string& value) = 0;
  virtual void touch(int64_t id, int64_t now) = 0;
  // Revokes those of `ids` not revoked yet, at `now`, in one transaction.
  virtual void revoke(const std::vector<int64_t>& ids, int64_t now) = 0;
};

// Today's single-daemon store: the users and tokens tables of `db` (schema/0001, 0005), which
// must outlive it.
std::unique_ptr<TokenStore> make_sqlite_token_store(Database& db);

}  // namespace fcd
