#include "daemon_flags.h"

#include "text_limits.h"
#include "token_commands.h"

namespace fcd {

namespace {

// The spellings in an enum's name table (enum_names.h), for CLI::IsMember.
template <typename E>
std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& row : fc::EnumNames<E>::table) out.push_back(row.second);
  return out;
}

// Where the daemon listens, what it may read and run, and how users share it.
void add_service_flags(CLI::App& app, DaemonFlags& f) {
  app.add_option("--data-dir", f.data_dir,
                 "state, logs and outputs (default: $FACECYCLE_DATA_DIR or "
                 "~/.local/share/facecycle)");
  app.add_option("--listen", f.listen,
                 "unix:PATH or HOST:PORT (default: unix:<data-dir>/facecycled.sock; TCP clients "
                 "need a token, and TLS unless HOST is loopback)");
  app.add_option("--http", f.http,
                 "HOST:PORT for the HTTP listener: Prometheus /metrics (admin token) and "
                 "/healthz (default: none; e.g. 127.0.0.1:9464)")
      ->type_name("ADDR");
  app.add_option("--config", f.config_file, "TOML settings file (see configs/)");
  app.add_option("--allow", f.allow,
                 "folder clients may read inputs from and write outputs to "
                 "(repeatable; in the data dir, users reach only their own jobs' folders and "
                 "outputs/USER)")
      ->expected(1)
      ->take_all();
  app.add_option("--plugin-dir", f.plugin_dirs,
                 "folder of plugin .so files (repeatable; default: the plugins built or "
                 "installed beside facecycled)")
      ->expected(1)
      ->take_all();
  app.add_option("--workers", f.workers, "items processed at once (default 2)")
      ->check(CLI::Range(1, 256));
  app.add_option("--max-user-priority", f.max_user_priority,
                 "the highest priority a non-admin may submit with (default 0); admins and "
                 "the local user may go up to 100")
      ->check(CLI::Range(-100, 100));
  app.add_option("--max-running-per-user", f.max_running_per_user,
                 "items one user may have running at once (default 0: no cap)")
      ->check(CLI::Range(0, 100000));
}

// The hardware, TLS on the TCP listener, and the log level.
void add_runtime_flags(CLI::App& app, DaemonFlags& f) {
  app.add_option("--device", f.device, "cpu | cuda | auto (default auto)")
      ->check(CLI::IsMember(names<fc::DeviceChoice>()));
  app.add_option("--precision", f.precision,
                 "generator arithmetic: fp32 | bf16 | auto (default auto: bf16 on CPUs with "
                 "AVX512-BF16, about 1.9x faster at 50+ dB PSNR against fp32)")
      ->check(CLI::IsMember(names<fc::PrecisionChoice>()));
  app.add_option("--tls-cert", f.tls_cert,
                 "PEM certificate (chain) for TLS on the TCP listener; needs --tls-key")
      ->type_name("FILE");
  app.add_option("--tls-key", f.tls_key, "PEM private key of --tls-cert, unencrypted")
      ->type_name("FILE");
  app.add_option("--tls-client-ca", f.tls_client_ca,
                 "PEM CA: TCP clients must present a certificate it signed (--tls-cert on the "
                 "client), besides their token")
      ->type_name("FILE");
  app.add_flag("--allow-plaintext-tokens", f.allow_plaintext_tokens,
               "listen on a non-loopback TCP address without TLS, so tokens cross the network "
               "readable (refused otherwise); only on a network you trust");
  app.add_option("--log-level", f.log_level, "trace | debug | info | warn | error (default info)")
      ->check(CLI::IsMember(kLogLevels));
}

void set_if_given(std::string& to, const std::string& flag) {
  if (!flag.empty()) to = flag;
}

// A choice flag. CLI::IsMember has checked it against E's names; a caller that skipped the
// parser gets the config file's message rather than a silently kept default.
template <typename E>
void set_if_given(E& to, const std::string& flag, const std::string& key) {
  if (flag.empty()) return;
  auto e = fc::enum_from_string<E>(flag);
  if (!e)
    throw ConfigError("settings: key '" + key + "' must be one of: " + fc::enum_choices<E>(", ") +
                      " (got '" + clip(flag) + "')");
  to = *e;
}

}  // namespace

void add_daemon_flags(CLI::App& app, DaemonFlags& flags) {
  add_service_flags(app, flags);
  add_runtime_flags(app, flags);
  add_operations_flags(app, flags.ops);
}

void add_token_cli(CLI::App& app, DaemonFlags& flags, TokenCli& t) {
  auto* token = app.add_subcommand("token", "manage API tokens for TCP clients");
  token->require_subcommand(1);
  t.add = token->add_subcommand("add", "create a token for user NAME and print it once");
  t.add->add_option("NAME", t.user, "user name")->required();
  t.add->add_flag("--admin", t.admin, "the user may see and cancel every job");
  t.add->add_option("--expires", t.expires,
                    "the token stops working after this long: 30d, 12h, 90m, 45s (default: never)");
  t.list = token->add_subcommand(
      "list", "show each token's id, user, creation, last use, expiry and state (never a token)");
  t.list->add_flag("--json", t.as_json, "print JSON");
  t.revoke = token->add_subcommand(
      "revoke", "revoke token ID, or every token of USER; it stops working at once");
  t.revoke->add_option("ID|USER", t.revoke_what, "a token id from `token list`, or a user name")
      ->required();
  for (auto* sub : {t.add, t.list, t.revoke}) {
    sub->add_option("--data-dir", flags.data_dir, "the daemon's data dir");
    sub->add_option("--config", flags.config_file, "TOML settings file");
  }
}

Config config_from_flags(const DaemonFlags& f) {
  Config cfg;
  if (!f.config_file.empty()) cfg = load_config_file(f.config_file);
  set_if_given(cfg.data_dir, f.data_dir);
  set_if_given(cfg.listen, f.listen);
  set_if_given(cfg.http_listen, f.http);
  cfg.allowed_roots.insert(cfg.allowed_roots.end(), f.allow.begin(), f.allow.end());
  if (!f.plugin_dirs.empty()) cfg.plugin_dirs = f.plugin_dirs;
  if (f.workers > 0) cfg.workers = f.workers;
  if (f.max_user_priority) cfg.max_user_priority = *f.max_user_priority;
  if (f.max_running_per_user) cfg.max_running_per_user = *f.max_running_per_user;
  set_if_given(cfg.device, f.device, "device");
  set_if_given(cfg.precision, f.precision, "precision");
  set_if_given(cfg.log_level, f.log_level);
  apply_operations_flags(f.ops, cfg);
  set_if_given(cfg.tls_cert, f.tls_cert);
  set_if_given(cfg.tls_key, f.tls_key);
  set_if_given(cfg.tls_client_ca, f.tls_client_ca);
  if (f.allow_plaintext_tokens) cfg.allow_plaintext_tokens = true;
  finalize_config(cfg);
  return cfg;
}

std::optional<int> run_token_cli(const TokenCli& t, const Config& cfg) {
  if (*t.add) return add_token_command(cfg, t.user, t.admin, t.expires);
  if (*t.list) return list_tokens_command(cfg, t.as_json);
  if (*t.revoke) return revoke_token_command(cfg, t.revoke_what);
  return std::nullopt;
}

}  // namespace fcd
