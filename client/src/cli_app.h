// The facecycle command line as one CLI11 app: main() parses with it, `facecycle completion`
// generates the shell completion scripts from it, and tests walk it, so the three cannot drift.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace fcc {

// Everything the parsed command line fills in, and the command it chose.
struct CliState {
  GlobalOptions g;
  std::function<int()> action;
  std::string model_name, state_filter;
  int limit = 0;
  bool all_users = false;
  bool everywhere = false;  // models activate
  int64_t job_id = 0, after_event = 0;
  bool detach = false;   // retry
  bool version = false;  // --version
  TransformOptions transform;
  TrainOptions train;
  FetchOptions fetch;
  RunsOptions runs;
  ShowOptions show;
  std::string shell;  // completion
};

// Option values are typed for completion by their type name: FILE, DIR, PATH (either), ID (a
// job id), {a,b,c} (choices, from CLI::IsMember); anything else is free text.
std::unique_ptr<CLI::App> make_app(CliState& s);

// `source`-able scripts for bash and zsh, generated from the app.
std::string bash_completion(const CLI::App& app);
std::string zsh_completion(const CLI::App& app);

}  // namespace fcc
