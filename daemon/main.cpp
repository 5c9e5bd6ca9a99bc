// facecycled: the facecycle daemon. See --help.
#include <CLI/CLI.hpp>
#include <iostream>

#include "daemon_flags.h"
#include "daemon_main.h"

int main(int argc, char** argv) {
  CLI::App app{
      "facecycled - the facecycle daemon: a job queue that edits faces (transform) and trains "
      "models (train), served over gRPC.\n"
      "Clients: the `facecycle` CLI. Settings: built-in defaults < --config FILE < flags."};
  fcd::DaemonFlags flags;
  fcd::TokenCli tokens;
  fcd::add_daemon_flags(app, flags);
  fcd::add_token_cli(app, flags, tokens);
  CLI11_PARSE(app, argc, argv);
  try {
    const fcd::Config cfg = fcd::config_from_flags(flags);
    if (auto rc = fcd::run_token_cli(tokens, cfg)) return *rc;
    return fcd::run_daemon(cfg);
  } catch (const fcd::ConfigError& e) {
    std::cerr << "facecycled: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "facecycled: " << e.what() << "\n";
    return 1;
  }
}
