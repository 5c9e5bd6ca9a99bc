#include "service/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <ctime>
#include <stdexcept>

#include "hex.h"
#include "text_limits.h"

namespace fcd {

namespace {

// Last use is for the admin's listing; a write per call would contend with the job queue's.
constexpr int64_t kTouchEveryMs = 60 * 1000;

TokenInfo to_info(const TokenRow& r, int64_t now) {
  TokenInfo t;
  t.id = r.id;
  t.user = r.user;
  t.is_admin = r.is_admin;
  t.created_ms = r.created_ms;
  t.last_used_ms = r.last_used_ms;
  t.expires_ms = r.expires_ms;
  t.revoked_ms = r.revoked_ms;
  t.state = token_state(t.expires_ms, t.revoked_ms, now);
  return t;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

const char* kAskForANewOne = ": ask the daemon's admin for a new one (facecycled token add NAME)";

std::string refusal(const TokenInfo& t) {
  const std::string which = "token " + std::to_string(t.id) + " of " + t.user;
  if (t.state == TokenState::kRevoked)
    return which + " was revoked at " + local_time_text(t.revoked_ms) + kAskForANewOne;
  return which + " expired at " + local_time_text(t.expires_ms) + kAskForANewOne;
}

}  // namespace

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

std::string local_time_text(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string Auth::add_token(const std::string& user, bool admin, int64_t expires_ms) {
  if (user.empty() || user == kLocalUser)
    throw std::invalid_argument("user name must be non-empty and not '" + std::string(kLocalUser) +
                                "'");
  // `token revoke ID|USER` tells them apart by this.
  if (all_digits(user))
    throw std::invalid_argument("user name '" + clip(user) +
                                "' is all digits, which `token revoke` reads as a token id: "
                                "add a letter");
  std::string token = new_token();
  std::lock_guard<std::mutex> lk(mu_);
  store_->add(user, admin, sha256_hex(token), expires_ms);
  return token;
}

TokenCheck Auth::check_token(const std::string& token, bool touch) {
  if (token.empty()) return {std::nullopt, "no token"};
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = now_ms();
  const auto rows = store_->select(TokenKey::kSha256, sha256_hex(token));
  if (rows.empty())
    return {std::nullopt,
            "unknown token: ask the daemon's admin for one (facecycled token add NAME)"};
  const TokenInfo t = to_info(rows.front(), now);
  if (t.state != TokenState::kActive) return {std::nullopt, refusal(t)};
  if (touch && now - t.last_used_ms >= kTouchEveryMs) {
    try {
      store_->touch(t.id, now);
    } catch (const DbError& e) {  // a busy or full database must not lock users out
      spdlog::warn("token {}: last use not recorded: {}", t.id, e.what());
    }
  }
  return {User{t.user, t.is_admin}, ""};
}

std::vector<TokenInfo> Auth::select_tokens(TokenKey key, const std::string& value) {
  std::vector<TokenInfo> out;
  const int64_t now = now_ms();
  for (const auto& r : store_->select(key, value)) out.push_back(to_info(r, now));
  return out;
}

std::vector<TokenInfo> Auth::list_tokens() {
  std::lock_guard<std::mutex> lk(mu_);
  return select_tokens(TokenKey::kAll, "");
}

std::vector<TokenInfo> Auth::revoke(const std::string& id_or_user) {
  std::lock_guard<std::mutex> lk(mu_);
  const bool by_id = all_digits(id_or_user);
  auto found = select_tokens(by_id ? TokenKey::kId : TokenKey::kUser, id_or_user);
  std::vector<TokenInfo> live;
  for (const auto& t : found)
    if (t.state != TokenState::kRevoked) live.push_back(t);
  if (live.empty()) {
    const std::string what =
        by_id ? "no token " + id_or_user : "no token of user '" + clip(id_or_user) + "'";
    if (found.empty())
      throw std::invalid_argument(what + ": `facecycled token list` shows the tokens");
    throw std::invalid_argument((by_id ? "token " + id_or_user : "every token of " + id_or_user) +
                                " is already revoked; nothing to do");
  }
  const int64_t now = now_ms();
  std::vector<int64_t> ids;
  for (auto& t : live) {
    ids.push_back(t.id);
    t.revoked_ms = now;
    t.state = TokenState::kRevoked;
  }
  store_->revoke(ids, now);
  return live;
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
