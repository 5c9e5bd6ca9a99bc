#include "service/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "hex.h"

namespace fcd {

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  return to_hex(md, len);
}

std::string new_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("no random bytes (OpenSSL)");
  return "fc_" + to_hex(buf, sizeof buf);
}

std::string Auth::add_token(const std::string& user, bool admin) {
  if (user.empty() || user == kLocalUser)
    throw std::invalid_argument("user name must be non-empty and not '" + std::string(kLocalUser) +
                                "'");
  std::string token = new_token();
  Transaction tx(db_);
  db_.prepare("INSERT OR IGNORE INTO users (name, is_admin, created_ms) VALUES (?, ?, ?)")
      .bind(1, user)
      .bind(2, admin ? 1 : 0)
      .bind(3, now_ms())
      .run();
  if (admin) db_.prepare("UPDATE users SET is_admin = 1 WHERE name = ?").bind(1, user).run();
  db_.prepare("INSERT INTO tokens (user, sha256, created_ms) VALUES (?, ?, ?)")
      .bind(1, user)
      .bind(2, sha256_hex(token))
      .bind(3, now_ms())
      .run();
  tx.commit();
  return token;
}

std::optional<User> Auth::user_for_token(const std::string& token) {
  if (token.empty()) return std::nullopt;
  auto st = db_.prepare(
      "SELECT u.name, u.is_admin FROM tokens t JOIN users u ON u.name = t.user WHERE t.sha256 = "
      "?");
  st.bind(1, sha256_hex(token));
  if (!st.step()) return std::nullopt;
  return User{st.text(0), st.int64(1) != 0};
}

std::string bearer_token(const std::string& header) {
  const std::string prefix = "Bearer ";
  if (header.size() <= prefix.size()) return {};
  if (header.compare(0, prefix.size(), prefix) != 0 &&
      header.compare(0, prefix.size(), "bearer ") != 0)
    return {};
  auto t = header.substr(prefix.size());
  while (!t.empty() && (t.back() == ' ' || t.back() == '\r' || t.back() == '\n')) t.pop_back();
  return t;
}

}  // namespace fcd
