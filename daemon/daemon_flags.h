// facecycled's command line: the flags, applied over the config file's values (built-in defaults
// < --config FILE < flags), and the `token` subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "operations_flags.h"

namespace fcd {

// Each flag as given; empty or unset means "not given", so the file's value stands.
struct DaemonFlags {
  std::string data_dir, listen, http, config_file, device, precision, log_level;
  std::vector<std::string> allow, plugin_dirs;
  int workers = 0;
  std::optional<int> max_user_priority, max_running_per_user;
  std::string tls_cert, tls_key, tls_client_ca;
  bool allow_plaintext_tokens = false;
  OperationsFlags ops;
};

// `token add | list | revoke`; each subcommand is null until add_token_cli.
struct TokenCli {
  CLI::App* add = nullptr;
  CLI::App* list = nullptr;
  CLI::App* revoke = nullptr;
  std::string user, expires, revoke_what;
  bool admin = false, as_json = false;
};

// CLI11 keeps pointers into `flags` and `tokens`: they must outlive the parse.
void add_daemon_flags(CLI::App& app, DaemonFlags& flags);
void add_token_cli(CLI::App& app, DaemonFlags& flags, TokenCli& tokens);

// The config file named by --config (if any) with the flags over it, finalized. Throws
// ConfigError for a bad file or value.
Config config_from_flags(const DaemonFlags& flags);

// The exit code of the token subcommand that was given, or nullopt when none was.
std::optional<int> run_token_cli(const TokenCli& tokens, const Config& cfg);

}  // namespace fcd
