// Users and bearer tokens. Only the SHA-256 of a token is stored. A token can expire and be
// revoked; both take effect at the next check, which every RPC makes (and open WatchJob streams
// make again while they run).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "service/token_records.h"
#include "store/database.h"
#include "store/token_store.h"

namespace fcd {

struct User {
  std::string name;
  bool is_admin = false;
};

// The user of an unauthenticated unix-socket connection.
inline const char* kLocalUser = "local";

std::string sha256_hex(const std::string& data);
std::string new_token();  // "fc_" + 64 random hex digits

// A token's check: the user when it is active, else why not and what to do.
struct TokenCheck {
  std::optional<User> user;
  std::string refusal;
};

class Auth {
 public:
  // The users and tokens of the data dir's SQLite file, which must outlive this.
  explicit Auth(Database& db) : Auth(make_sqlite_token_store(db)) {}
  // Those of `store` (store/open_job_store.h chooses SQLite or PostgreSQL).
  explicit Auth(std::unique_ptr<TokenStore> store) : store_(std::move(store)) {}
  // Creates the user when missing (admin flag set when `admin`), returns a new token. A token
  // with expires_ms > 0 stops working then (Unix ms).
  std::string add_token(const std::string& user, bool admin, int64_t expires_ms = 0);
  // Records the use (at most once a minute per token) unless `touch` is false.
  TokenCheck check_token(const std::string& token, bool touch = true);
  std::optional<User> user_for_token(const std::string& token) { return check_token(token).user; }

  std::vector<TokenInfo> list_tokens();
  // Revokes token ID (all digits) or every live token of user NAME; returns those revoked.
  // Throws std::invalid_argument, saying what to do, when there is nothing to revoke.
  std::vector<TokenInfo> revoke(const std::string& id_or_user);

 private:
  std::vector<TokenInfo> select_tokens(TokenKey key, const std::string& value);

  std::unique_ptr<TokenStore> store_;
  std::mutex mu_;  // its statements and transactions, on a connection other threads share
};

// Who may see, watch or cancel a job: its owner and admins.
inline bool can_access(const User& u, const std::string& owner) {
  return u.is_admin || u.name == owner;
}

// Who may swap the resident model, which serves every user's jobs: admins, and the local user
// (the daemon's own account: the socket is mode 0600).
inline bool can_manage_models(const User& u) { return u.is_admin || u.name == kLocalUser; }

// The token in an "authorization" header value "Bearer TOKEN"; empty when absent/malformed.
std::string bearer_token(const std::string& header);

// A Unix-ms time as local "YYYY-MM-DD HH:MM:SS", for messages and listings.
std::string local_time_text(int64_t ms);

}  // namespace fcd
