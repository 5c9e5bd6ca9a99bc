#include "token_commands.h"

#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "duration.h"
#include "paths.h"
#include "service/auth.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/open_job_store.h"

namespace fcd {

namespace {

// The token commands may run before the daemon ever has: create and migrate as it would (a
// PostgreSQL token store migrates its database when opened).
std::unique_ptr<Database> open_database(const Config& config) {
  make_private_dir(config.data_dir);
  auto db = std::make_unique<Database>(config.data_dir + "/facecycle.db");
  apply_migrations(*db);
  return db;
}

// Runs `body` on the users and tokens the daemon with this config uses: its SQLite file, or the
// PostgreSQL database `database` names (shared by every daemon on it). 1 when it cannot be
// opened, having said why.
template <typename F>
int with_auth(const Config& config, F&& body) {
  try {
    auto db = open_database(config);
    Auth auth(open_token_store(config.database, *db));
    return body(auth);
  } catch (const DbError& e) {
    std::cerr << "facecycled: " << e.what() << "\n";
    return 1;
  }
}

std::string when(int64_t ms, const char* none) { return ms > 0 ? local_time_text(ms) : none; }

nlohmann::json to_json(const TokenInfo& t) {
  return {{"id", t.id},
          {"user", t.user},
          {"admin", t.is_admin},
          {"state", enum_name(t.state)},
          {"created_ms", t.created_ms},
          {"last_used_ms", t.last_used_ms},
          {"expires_ms", t.expires_ms},
          {"revoked_ms", t.revoked_ms}};
}

void print_table(const std::vector<TokenInfo>& tokens) {
  auto row = [](const std::string& id, const std::string& user, const std::string& admin,
                const std::string& created, const std::string& used, const std::string& expires,
                const std::string& state) {
    std::cout << std::left << std::setw(6) << id << std::setw(16) << user << std::setw(7) << admin
              << std::setw(21) << created << std::setw(21) << used << std::setw(21) << expires
              << state << "\n";
  };
  row("ID", "USER", "ADMIN", "CREATED", "LAST USED", "EXPIRES", "STATE");
  for (const auto& t : tokens)
    row(std::to_string(t.id), t.user, t.is_admin ? "yes" : "no", when(t.created_ms, "-"),
        when(t.last_used_ms, "never"), when(t.expires_ms, "never"), enum_name(t.state));
}

}  // namespace

int add_token_command(const Config& config, const std::string& user, bool admin,
                      const std::string& expires) {
  int64_t expires_ms = 0;
  try {
    if (!expires.empty()) expires_ms = now_ms() + parse_duration_ms(expires);
  } catch (const std::invalid_argument& e) {
    std::cerr << "facecycled: --expires " << e.what() << "\n";
    return 2;
  }
  return with_auth(config, [&](Auth& auth) {
    std::cout << auth.add_token(user, admin, expires_ms) << "\n";
    std::cerr << "token for " << user << (admin ? " (admin)" : "")
              << (expires_ms ? ", valid until " + local_time_text(expires_ms) : "")
              << " created; it is shown only once. Clients send it as FACECYCLE_TOKEN.\n";
    return 0;
  });
}

int list_tokens_command(const Config& config, bool as_json) {
  return with_auth(config, [&](Auth& auth) {
    auto tokens = auth.list_tokens();
    if (as_json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : tokens) out.push_back(to_json(t));
      std::cout << out.dump(2) << "\n";
    } else if (tokens.empty()) {
      std::cout << "no tokens yet: facecycled token add NAME makes one\n";
    } else {
      print_table(tokens);
    }
    return 0;
  });
}

int revoke_token_command(const Config& config, const std::string& id_or_user) {
  return with_auth(config, [&](Auth& auth) {
    try {
      for (const auto& t : auth.revoke(id_or_user))
        std::cout << "revoked token " << t.id << " of " << t.user << "\n";
    } catch (const std::invalid_argument& e) {
      std::cerr << "facecycled: " << e.what() << "\n";
      return 1;
    }
    std::cerr << "it stops working at once, on open watches too\n";
    return 0;
  });
}

}  // namespace fcd
