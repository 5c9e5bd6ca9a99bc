// `facecycled token add | list | revoke`: run beside a running daemon, on the same database.
// A revocation takes effect at the daemon's next check of that token (every call, and every
// 500 ms on an open watch), so no restart is needed.
#pragma once

#include <string>

#include "config.h"

namespace fcd {

// Prints a new token for NAME, shown only this once. `expires` ("30d", "12h"; empty = never).
int add_token_command(const Config& config, const std::string& user, bool admin,
                      const std::string& expires);
// Prints user, token id, admin flag, created, last used, expiry and state; never a token.
int list_tokens_command(const Config& config, bool as_json);
// Revokes token ID, or every live token of USER.
int revoke_token_command(const Config& config, const std::string& id_or_user);

}  // namespace fcd
