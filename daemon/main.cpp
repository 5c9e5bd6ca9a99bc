// facecycled: the facecycle daemon. See --help.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

#include "config.h"
#include "daemon_main.h"
#include "operations_flags.h"
#include "token_commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "facecycled - the facecycle daemon: a job queue that edits faces (transform) and trains "
      "models (train), served over gRPC.\n"
      "Clients: the `facecycle` CLI. Settings: built-in defaults < --config FILE < flags."};
  std::string data_dir, listen, config_file, device, precision, log_level;
  std::vector<std::string> allow, plugin_dirs;
  int workers = 0;
  std::optional<int> max_user_priority, max_running_per_user;
  app.add_option("--data-dir", data_dir,
                 "state, logs and outputs (default: $FACECYCLE_DATA_DIR or "
                 "~/.local/share/facecycle)");
  app.add_option("--listen", listen,
                 "unix:PATH or HOST:PORT (default: unix:<data-dir>/facecycled.sock; TCP clients "
                 "need a token, and TLS unless HOST is loopback)");
  std::string http;
  app.add_option("--http", http,
                 "HOST:PORT for the HTTP listener: Prometheus /metrics (admin token) and "
                 "/healthz (default: none; e.g. 127.0.0.1:9464)")
      ->type_name("ADDR");
  app.add_option("--config", config_file, "TOML settings file (see configs/)");
  app.add_option("--allow", allow,
                 "folder clients may read inputs from and write outputs to "
                 "(repeatable; in the data dir, users reach only their own jobs' folders and "
                 "outputs/USER)")
      ->expected(1)
      ->take_all();
  app.add_option("--plugin-dir", plugin_dirs,
                 "folder of plugin .so files (repeatable; default: the plugins built or "
                 "installed beside facecycled)")
      ->expected(1)
      ->take_all();
  app.add_option("--workers", workers, "items processed at once (default 2)")
      ->check(CLI::Range(1, 256));
  app.add_option("--max-user-priority", max_user_priority,
                 "the highest priority a non-admin may submit with (default 0); admins and "
                 "the local user may go up to 100")
      ->check(CLI::Range(-100, 100));
  app.add_option("--max-running-per-user", max_running_per_user,
                 "items one user may have running at once (default 0: no cap)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--device", device, "cpu | cuda | auto (default auto)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_option("--precision", precision,
                 "generator arithmetic: fp32 | bf16 | auto (default auto: bf16 on CPUs with "
                 "AVX512-BF16, about 1.9x faster at 50+ dB PSNR against fp32)")
      ->check(CLI::IsMember({"fp32", "bf16", "auto"}));
  std::string tls_cert, tls_key, tls_client_ca;
  bool allow_plaintext_tokens = false;
  app.add_option("--tls-cert", tls_cert,
                 "PEM certificate (chain) for TLS on the TCP listener; needs --tls-key")
      ->type_name("FILE");
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert, unencrypted")
      ->type_name("FILE");
  app.add_option("--tls-client-ca", tls_client_ca,
                 "PEM CA: TCP clients must present a certificate it signed (--tls-cert on the "
                 "client), besides their token")
      ->type_name("FILE");
  app.add_flag("--allow-plaintext-tokens", allow_plaintext_tokens,
               "listen on a non-loopback TCP address without TLS, so tokens cross the network "
               "readable (refused otherwise); only on a network you trust");
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  fcd::OperationsFlags ops;
  fcd::add_operations_flags(app, ops);

  auto* token = app.add_subcommand("token", "manage API tokens for TCP clients");
  token->require_subcommand(1);
  auto* add = token->add_subcommand("add", "create a token for user NAME and print it once");
  std::string user, expires, revoke_what;
  bool admin = false, as_json = false;
  add->add_option("NAME", user, "user name")->required();
  add->add_flag("--admin", admin, "the user may see and cancel every job");
  add->add_option("--expires", expires,
                  "the token stops working after this long: 30d, 12h, 90m, 45s (default: never)");
  auto* list = token->add_subcommand(
      "list", "show each token's id, user, creation, last use, expiry and state (never a token)");
  list->add_flag("--json", as_json, "print JSON");
  auto* revoke = token->add_subcommand(
      "revoke", "revoke token ID, or every token of USER; it stops working at once");
  revoke->add_option("ID|USER", revoke_what, "a token id from `token list`, or a user name")
      ->required();
  for (auto* sub : {add, list, revoke}) {
    sub->add_option("--data-dir", data_dir, "the daemon's data dir");
    sub->add_option("--config", config_file, "TOML settings file");
  }

  CLI11_PARSE(app, argc, argv);
  try {
    fcd::Config cfg;
    if (!config_file.empty()) cfg = fcd::load_config_file(config_file);
    if (!data_dir.empty()) cfg.data_dir = data_dir;
    if (!listen.empty()) cfg.listen = listen;
    if (!http.empty()) cfg.http_listen = http;
    if (!allow.empty())
      cfg.allowed_roots.insert(cfg.allowed_roots.end(), allow.begin(), allow.end());
    if (!plugin_dirs.empty()) cfg.plugin_dirs = plugin_dirs;
    if (workers > 0) cfg.workers = workers;
    if (max_user_priority) cfg.max_user_priority = *max_user_priority;
    if (max_running_per_user) cfg.max_running_per_user = *max_running_per_user;
    if (!device.empty()) cfg.device = device;
    if (!precision.empty()) cfg.precision = precision;
    if (!log_level.empty()) cfg.log_level = log_level;
    fcd::apply_operations_flags(ops, cfg);
    if (!tls_cert.empty()) cfg.tls_cert = tls_cert;
    if (!tls_key.empty()) cfg.tls_key = tls_key;
    if (!tls_client_ca.empty()) cfg.tls_client_ca = tls_client_ca;
    if (allow_plaintext_tokens) cfg.allow_plaintext_tokens = true;
    fcd::finalize_config(cfg);
    if (*add) return fcd::add_token_command(cfg, user, admin, expires);
    if (*list) return fcd::list_tokens_command(cfg, as_json);
    if (*revoke) return fcd::revoke_token_command(cfg, revoke_what);
    return fcd::run_daemon(cfg);
  } catch (const fcd::ConfigError& e) {
    std::cerr << "facecycled: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "facecycled: " << e.what() << "\n";
    return 1;
  }
}
