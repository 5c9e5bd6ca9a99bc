// facecycle: the command-line client of the facecycled daemon.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"

namespace {

const char* kFooter = R"(Server address: --server, else $FACECYCLE_SERVER, else
unix:$FACECYCLE_DATA_DIR/facecycled.sock (data dir default ~/.local/share/facecycle).
Token: --token, else $FACECYCLE_TOKEN (make one with `facecycled token add NAME`).

Examples:
  facecycle health
  facecycle transform --task age -o out/ photos/           # wait with a progress bar
  facecycle transform --task race --reverse --format png -o out/ a.jpg b.jpg
  facecycle --json transform --task age --detach -o out/ photos/   # {"job_id": 7}
  facecycle watch 7
  facecycle show 7
  facecycle cancel 7
  facecycle train --config configs/train.toml --priority -10
  facecycle models activate age-race-v2

Exit codes: 0 success; 1 error (reason on stderr); 2 bad command line;
3 the job ended failed, cancelled, or with failed items; 130 interrupted (Ctrl-C) while
waiting: the job continues.)";

}  // namespace

int main(int argc, char** argv) {
  fcc::GlobalOptions g;
  CLI::App app{"facecycle: edit faces with the facecycled daemon (age 20s<->50s, race)"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  app.option_defaults()->always_capture_default();
  app.add_option("--server", g.server,
                 "daemon address, e.g. unix:/path/facecycled.sock or host:port");
  app.add_option("--token", g.token, "access token (sent as authorization: Bearer)");
  app.add_flag("--json", g.json, "machine-readable JSON output");
  app.set_version_flag("--version", "facecycle " FC_VERSION);

  std::function<int()> action;

  app.add_subcommand("health", "check that the daemon is up; show the active model")->callback([&] {
    action = [&] { return fcc::cmd_health(g); };
  });
  app.add_subcommand("plugins", "list loaded plugins and the files that were refused")
      ->callback([&] { action = [&] { return fcc::cmd_plugins(g); }; });

  auto* models = app.add_subcommand("models", "list models (default) or activate one");
  models->require_subcommand(0, 1);
  models->add_subcommand("list", "list registered models; * marks the active one");
  std::string model_name;
  auto* activate = models->add_subcommand("activate", "make NAME the model used for new items");
  activate->add_option("NAME", model_name, "model name from `facecycle models`")->required();
  models->callback([&] {
    if (activate->parsed())
      action = [&] { return fcc::cmd_models_activate(g, model_name); };
    else
      action = [&] { return fcc::cmd_models_list(g); };
  });

  std::string state_filter;
  int limit = 0;
  bool all_users = false;
  auto* jobs = app.add_subcommand("jobs", "list your jobs, newest first");
  jobs->add_option("--state", state_filter, "only jobs in this state (queued, running, ...)");
  jobs->add_option("--limit", limit, "at most this many (default 100)");
  jobs->add_flag("--all", all_users, "everyone's jobs (admin tokens only)");
  jobs->callback(
      [&] { action = [&] { return fcc::cmd_jobs(g, state_filter, limit, all_users); }; });

  int64_t job_id = 0;
  int64_t after_event = 0;
  auto* show = app.add_subcommand("show", "a job's state, counts, per-item errors and results");
  show->add_option("ID", job_id, "job id")->required();
  show->callback([&] { action = [&] { return fcc::cmd_show(g, job_id); }; });
  auto* watch = app.add_subcommand("watch", "follow a job until it ends");
  watch->add_option("ID", job_id, "job id")->required();
  watch->add_option("--after-event", after_event, "only events after this event id");
  watch->callback([&] { action = [&] { return fcc::cmd_watch(g, job_id, after_event); }; });
  auto* cancel = app.add_subcommand("cancel", "cancel a job; finished items keep their outputs");
  cancel->add_option("ID", job_id, "job id")->required();
  cancel->callback([&] { action = [&] { return fcc::cmd_cancel(g, job_id); }; });

  fcc::TransformOptions t;
  auto* transform = app.add_subcommand("transform", "edit the faces in photos");
  transform->add_option("--task", t.task, "age | race")->required();
  transform->add_flag("--reverse", t.reverse,
                      "the task's other direction (50s->20s, Black->White)");
  transform->add_flag("--whole-image", t.whole_image,
                      "each input is one aligned face: no detection");
  transform->add_flag("--recursive", t.recursive,
                      "walk sub-folders too; the output folder mirrors the input tree");
  transform->add_flag("--overwrite", t.overwrite,
                      "replace outputs your own earlier jobs wrote (never an input)");
  transform->add_flag("--skip-existing", t.skip_existing,
                      "skip inputs whose output exists, made by the same model, task and "
                      "direction");
  transform->add_option("--format", t.format, "output format")
      ->check(CLI::IsMember({"png", "jpg", "same"}));
  transform->add_option("--priority", t.priority, "-100 (background) .. 100 (urgent)")
      ->check(CLI::Range(-100, 100));
  transform->add_flag("--detach", t.detach, "print the job id and return at once");
  transform->add_option("-o,--output", t.output_dir, "folder for the edited photos")->required();
  transform->add_option("INPUT", t.inputs, "image files or folders")->required();
  transform->callback([&] { action = [&] { return fcc::cmd_transform(g, t); }; });

  fcc::TrainOptions tr;
  auto* train = app.add_subcommand("train", "train a model from a TOML config");
  train->add_option("--config", tr.config, "training config file")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--priority", tr.priority, "-100 (background) .. 100 (urgent)")
      ->check(CLI::Range(-100, 100));
  train->add_flag("--detach", tr.detach, "print the job id and return at once");
  train->callback([&] { action = [&] { return fcc::cmd_train(g, tr); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return fcc::kExitUsage;
  }

  try {
    return action();
  } catch (const fcc::CliError& e) {
    std::cerr << "facecycle: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "facecycle: " << e.what() << "\n";
    return fcc::kExitError;
  }
}
