// What `facecycled token list` shows of a token: never the token, which is not stored (only its
// SHA-256), but whose it is and when it was made, last used, expires and was revoked.
#pragma once

#include <cstdint>
#include <string>

#include "facecycle/core/enum_names.h"

namespace fcd {

// Derived from the row's times, not stored: an expiry takes effect without anyone writing it.
enum class TokenState { kActive, kExpired, kRevoked };

struct TokenInfo {
  int64_t id = 0;
  std::string user;
  bool is_admin = false;
  int64_t created_ms = 0, last_used_ms = 0, expires_ms = 0, revoked_ms = 0;  // 0 = never
  TokenState state = TokenState::kActive;
};

inline TokenState token_state(int64_t expires_ms, int64_t revoked_ms, int64_t now_ms) {
  if (revoked_ms > 0) return TokenState::kRevoked;
  if (expires_ms > 0 && expires_ms <= now_ms) return TokenState::kExpired;
  return TokenState::kActive;
}

}  // namespace fcd

namespace fc {

template <>
struct EnumNames<fcd::TokenState> {
  static constexpr std::pair<fcd::TokenState, const char*> table[] = {
      {fcd::TokenState::kActive, "active"},
      {fcd::TokenState::kExpired, "expired"},
      {fcd::TokenState::kRevoked, "revoked"}};
};

}  // namespace fc

namespace fcd {
using fc::enum_name;
}  // namespace fcd
