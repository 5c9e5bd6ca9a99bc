// Users and bearer tokens. Only the SHA-256 of a token is stored.
#pragma once

#include <optional>
#include <string>

#include "store/database.h"

namespace fcd {

struct User {
  std::string name;
  bool is_admin = false;
};

// The user of an unauthenticated unix-socket connection.
inline const char* kLocalUser = "local";

std::string sha256_hex(const std::string& data);
std::string new_token();  // "fc_" + 64 random hex digits

class Auth {
 public:
  explicit Auth(Database& db) : db_(db) {}
  // Creates the user when missing (admin flag set when `admin`), returns a new token.
  std::string add_token(const std::string& user, bool admin);
  std::optional<User> user_for_token(const std::string& token);

 private:
  Database& db_;
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

}  // namespace fcd
