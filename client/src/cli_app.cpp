#include "cli_app.h"

#include "json_view.h"

namespace fcc {

namespace {

const char* kFooter = R"(Server address: --server, else $FACECYCLE_SERVER, else
unix:$FACECYCLE_DATA_DIR/facecycled.sock (data dir default ~/.local/share/facecycle).
Token: --token, else $FACECYCLE_TOKEN (make one with `facecycled token add NAME`).
TLS (TCP only): --tls-ca FILE ($FACECYCLE_TLS_CA) trusts that CA, --tls ($FACECYCLE_TLS=1) the
system's; --tls-cert/--tls-key ($FACECYCLE_TLS_CERT/_KEY) send a client certificate. A token is
not sent in plain text to a host other than this one unless --allow-plaintext-tokens
($FACECYCLE_ALLOW_PLAINTEXT_TOKENS=1).

Examples:
  facecycle health
  facecycle --version                    # this client; the daemon, its model and plugin ABI
  facecycle transform --task age -o out/ photos/           # wait with a progress bar
  facecycle transform --task race --reverse --format png -o out/ a.jpg b.jpg
  facecycle --json transform --task age --detach -o out/ photos/   # {"job_id": 7}
  facecycle watch 7
  facecycle show 7                       # counts, first 20 items, the failed ones
  facecycle show 7 --failed --page 2     # failed items 21-40
  facecycle cancel 7
  facecycle retry 7                      # run job 7's failed items again
  facecycle train --config configs/train.toml --priority -10
  facecycle train --config c.toml --name "race cls 2.5" --tag race --tag ablation
  facecycle runs                         # training runs, names, tags, final evaluation
  facecycle runs compare 8 9             # evaluations side by side, curves in one SVG
  facecycle fetch 8 --out run8/          # a training job's samples, curves and model
  facecycle models activate age-race-v2
  facecycle models activate age-race-v2 --everywhere   # every daemon on the shared database

Shell completion: `cmake --install` puts it where bash-completion and zsh find it
(share/bash-completion/completions/facecycle, share/zsh/site-functions/_facecycle); or
`source <(facecycle completion bash)` in ~/.bashrc, `source <(facecycle completion zsh)` in
~/.zshrc after compinit.

Exit codes: 0 success; 1 error (reason on stderr); 2 bad command line;
3 the job ended failed, cancelled, or with failed items; 130 interrupted (Ctrl-C) while
waiting: the job continues.)";

const char* kRetryFooter = R"(Only the items that failed run again, with the job's own settings
(--skip-existing included); succeeded and skipped items never do. When they end, the job's
manifest and contact sheet are rewritten with their new rows. The job must have ended: a queued
or running job is refused (wait for it), and so is a cancelled one: run the same transform
command again with --skip-existing to finish it. Training jobs are not retried. Only the job's
owner or an admin may retry it. Waits with a progress bar like transform; Ctrl-C leaves the
retry running.)";

void add_info_commands(CLI::App& app, CliState& s) {
  app.add_subcommand("health",
                     "check that the daemon is up; show the active model (with a shared "
                     "database: every daemon's)")
      ->callback([&] { s.action = [&] { return cmd_health(s.g); }; });
  app.add_subcommand("plugins", "list loaded plugins and the files that were refused")
      ->callback([&] { s.action = [&] { return cmd_plugins(s.g); }; });

  auto* models = app.add_subcommand("models", "list models (default) or activate one");
  models->require_subcommand(0, 1);
  models->add_subcommand("list", "list registered models; * marks the active one");
  auto* activate = models->add_subcommand("activate", "make NAME the model used for new items");
  activate->add_option("NAME", s.model_name, "model name from `facecycle models`")->required();
  activate->add_flag(
      "--everywhere", s.everywhere,
      "every daemon on the shared PostgreSQL database loads NAME, and so does one that starts "
      "later; the reply lists each daemon's answer (with SQLite: this daemon only)");
  models->callback([&s, activate] {
    if (activate->parsed())
      s.action = [&] { return cmd_models_activate(s.g, s.model_name, s.everywhere); };
    else
      s.action = [&] { return cmd_models_list(s.g); };
  });
}

void add_job_commands(CLI::App& app, CliState& s) {
  auto* jobs = app.add_subcommand(
      "jobs", "list your jobs, newest first: summaries (`show ID` pages a job's items)");
  jobs->add_option("--state", s.state_filter, "only jobs in this state")
      ->check(CLI::IsMember(state_words()));
  jobs->add_option("--limit", s.limit, "at most this many (default 100)");
  jobs->add_flag("--all", s.all_users, "everyone's jobs (admin tokens only)");
  jobs->callback(
      [&] { s.action = [&] { return cmd_jobs(s.g, s.state_filter, s.limit, s.all_users); }; });

  auto* show = app.add_subcommand(
      "show",
      "a job's state, counts and results, its items a page at a time (20 by default, "
      "then its failed ones), a training job's files");
  show->add_option("ID", s.show.job_id, "job id")->required()->type_name("ID");
  show->add_option("--page", s.show.page, "which page of items, from 1")
      ->check(CLI::PositiveNumber);
  show->add_option("--page-size", s.show.page_size, "items per page, 1..1000")
      ->check(CLI::Range(1, 1000));
  show->add_option("--state", s.show.state, "only items in this state")
      ->check(CLI::IsMember(state_words()));
  show->add_flag("--failed", s.show.failed, "only the failed items (--state failed)");
  show->footer(
      "Every item of a large job, in one file: the job's manifest (manifest_job<N>.csv and "
      ".jsonl next to its outputs).");
  show->callback([&] { s.action = [&] { return cmd_show(s.g, s.show); }; });
  auto* watch = app.add_subcommand("watch", "follow a job until it ends");
  watch->add_option("ID", s.job_id, "job id")->required()->type_name("ID");
  watch->add_option("--after-event", s.after_event, "only events after this event id");
  watch->callback([&] { s.action = [&] { return cmd_watch(s.g, s.job_id, s.after_event); }; });
  auto* cancel = app.add_subcommand("cancel", "cancel a job; finished items keep their outputs");
  cancel->add_option("ID", s.job_id, "job id")->required()->type_name("ID");
  cancel->callback([&] { s.action = [&] { return cmd_cancel(s.g, s.job_id); }; });
  auto* retry = app.add_subcommand(
      "retry", "run an ended transform job's failed items again; nothing that succeeded reruns");
  retry->add_option("ID", s.job_id, "job id")->required()->type_name("ID");
  retry->add_flag("--detach", s.detach, "print how many items were queued and return at once");
  retry->footer(kRetryFooter);
  retry->callback([&] { s.action = [&] { return cmd_retry(s.g, s.job_id, s.detach); }; });

  auto& f = s.fetch;
  auto* fetch = app.add_subcommand(
      "fetch", "download a training job's samples, loss curves and model (also over TCP)");
  fetch->add_option("ID", f.job_id, "job id")->required()->type_name("ID");
  fetch->add_option("FILE", f.files,
                    "files of the job's folder, as `--list` names them (default: samples.png, "
                    "loss_curves.png and the model with its card)");
  fetch->add_option("--out", f.out_dir, "folder to write into (default: the current one)")
      ->type_name("DIR");
  fetch->add_flag("--list", f.list, "list the job's files with their sizes; download nothing");
  fetch->callback([&] { s.action = [&] { return cmd_fetch(s.g, s.fetch); }; });
}

void add_submit_commands(CLI::App& app, CliState& s) {
  auto& t = s.transform;
  auto* transform = app.add_subcommand("transform", "edit the faces in photos");
  // Not a closed list: a generate-<task> plugin adds a task.
  transform->add_option("--task", t.task, "age | race")->required()->type_name("TASK");
  transform->add_flag("--reverse", t.reverse,
                      "the task's other direction (50s->20s, Black->White)");
  transform
      ->add_option("--strength", t.strength,
                   "how far to push the edit: 1 = the model as shipped (default; its card "
                   "may calibrate a direction, see `facecycle models`), 1.5 = half as far "
                   "again (stronger, less like the person), 0.5 = half as far")
      ->check(CLI::Range(0.0, 3.0))
      ->type_name("X");
  transform->add_flag("--whole-image", t.whole_image,
                      "each input is one aligned face: no detection");
  transform->add_flag("--all-faces", t.all_faces,
                      "edit every face found, also those the model's gate reads as already the "
                      "target (by default a Black face in a White->Black job is left as it is, "
                      "and the report says so)");
  transform->add_flag("--recursive", t.recursive,
                      "walk sub-folders too; the output folder mirrors the input tree");
  transform->add_flag("--overwrite", t.overwrite,
                      "replace outputs your own earlier jobs wrote (never an input)");
  transform->add_flag("--skip-existing", t.skip_existing,
                      "skip inputs whose output exists, made by the same model (and "
                      "calibration), task, direction, strength and --all-faces");
  transform->add_option("--format", t.format, "output format")
      ->check(CLI::IsMember({"png", "jpg", "same"}));
  transform->add_option("--priority", t.priority, "-100 (background) .. 100 (urgent)")
      ->check(CLI::Range(-100, 100));
  transform->add_flag("--detach", t.detach, "print the job id and return at once");
  transform->add_option("-o,--output", t.output_dir, "folder for the edited photos")
      ->required()
      ->type_name("DIR");
  transform->add_option("INPUT", t.inputs, "image files or folders")->required()->type_name("PATH");
  transform->callback([&] { s.action = [&] { return cmd_transform(s.g, s.transform); }; });

  auto& tr = s.train;
  auto* train = app.add_subcommand("train", "train a model from a TOML config");
  train->add_option("--config", tr.config, "training config file")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--priority", tr.priority, "-100 (background) .. 100 (urgent)")
      ->check(CLI::Range(-100, 100));
  train->add_flag("--detach", tr.detach, "print the job id and return at once");
  train->add_option("--name", tr.name,
                    "what to call the run in `facecycle runs` (default: the config's run_name)");
  train
      ->add_option("--tag", tr.tags,
                   "a tag for the run, repeatable: letters, digits and . _ - : = (default: the "
                   "config's tags)")
      ->type_name("TAG");
  train->callback([&] { s.action = [&] { return cmd_train(s.g, s.train); }; });
}

void add_run_commands(CLI::App& app, CliState& s) {
  auto* runs = app.add_subcommand(
      "runs", "list training runs with their names, tags and final evaluation, newest first");
  runs->add_flag("--all", s.runs.all_users, "everyone's runs (admin tokens only)");
  runs->add_option("--limit", s.runs.limit, "at most this many (default 100)");
  runs->require_subcommand(0, 1);
  auto* compare = runs->add_subcommand(
      "compare", "two to four runs: evaluations side by side, loss curves overlaid in one SVG");
  compare->add_option("ID", s.runs.compare, "training job ids")
      ->required()
      ->expected(2, 4)
      ->type_name("ID");
  compare
      ->add_option("--plot", s.runs.plot,
                   "where the curves go (default: runs-compare-ID-ID....svg here; an "
                   "existing file is not replaced)")
      ->type_name("FILE");
  runs->callback([&s, compare] {
    if (compare->parsed())
      s.action = [&] { return cmd_runs_compare(s.g, s.runs); };
    else
      s.action = [&] { return cmd_runs(s.g, s.runs); };
  });
}

}  // namespace

std::unique_ptr<CLI::App> make_app(CliState& s) {
  auto app = std::make_unique<CLI::App>(
      "facecycle: edit faces with the facecycled daemon (age 20s<->50s, race)", "facecycle");
  app->footer(kFooter);
  // One subcommand, or none with --version (the app's callback below says which).
  app->require_subcommand(0, 1);
  app->fallthrough();  // global options may also follow the subcommand
  app->option_defaults()->always_capture_default();
  app->add_option("--server", s.g.server,
                  "daemon address, e.g. unix:/path/facecycled.sock or host:port");
  app->add_option("--token", s.g.token, "access token (sent as authorization: Bearer)");
  app->add_flag("--json", s.g.json, "machine-readable JSON output");
  app->add_flag("--tls", s.g.tls, "TLS to a TCP daemon, trusting the system's CAs");
  app->add_option("--tls-ca", s.g.tls_ca, "TLS, trusting this PEM CA (the daemon's signer)")
      ->type_name("FILE");
  app->add_option("--tls-cert", s.g.tls_cert,
                  "PEM client certificate, for a daemon started with --tls-client-ca")
      ->type_name("FILE");
  app->add_option("--tls-key", s.g.tls_key, "PEM private key of --tls-cert")->type_name("FILE");
  app->add_flag("--allow-plaintext-tokens", s.g.allow_plaintext_tokens,
                "send the token over plain TCP to another host (readable on the network)");
  // Not CLI11's version flag: that prints before --server and --token are read.
  app->add_flag("--version", s.version,
                "print the client's version and, when a daemon answers, its version, active "
                "model and plugin ABI");

  add_info_commands(*app, s);
  add_job_commands(*app, s);
  add_submit_commands(*app, s);
  add_run_commands(*app, s);

  auto* completion =
      app->add_subcommand("completion", "print the shell completion script (bash or zsh)");
  completion->add_option("SHELL", s.shell, "bash | zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  CLI::App* root = app.get();
  completion->callback([&s, root] {
    s.action = [&s, root] {
      std::cout << (s.shell == "zsh" ? zsh_completion(*root) : bash_completion(*root));
      return static_cast<int>(kExitOk);
    };
  });
  app->callback([&s] {
    if (s.version)
      s.action = [&s] { return cmd_version(s.g); };
    else if (!s.action)
      throw CLI::RequiredError("A subcommand");
  });
  return app;
}

}  // namespace fcc
