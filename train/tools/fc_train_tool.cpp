// fc-train: a training job from the command line, with no daemon: the same fc_train library
// (run_training) as the daemon's train plugin, so the two cannot drift. It is what the
// LibTorch-only build (FACECYCLE_TORCH_ONLY) offers for training on a GPU host (docs/GPU.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "local_workers.h"
#include "trainer.h"

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel.store(true); }

const char* level_name(fc::LogLevel l) {
  switch (l) {
    case fc::LogLevel::kDebug:
      return "debug";
    case fc::LogLevel::kInfo:
      return "info";
    case fc::LogLevel::kWarn:
      return "warn";
    default:
      return "error";
  }
}

// Writes `line` and a newline to stderr in one write(2), which other workers' lines cannot split.
void say(const std::string& line) {
  const std::string out = line + "\n";
  std::cerr.flush();
  for (size_t done = 0; done < out.size();) {
    const ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Runs this process's worker of the job; returns fc-train's exit status. Only rank 0 writes
// metrics.jsonl and result.json; the other workers' log lines name them.
int train(const fc::TrainRequest& req, const fc::train::WorkerPlacement& place) {
  const bool leads = place.rank == 0;
  std::ofstream metrics;
  if (leads) metrics.open(fs::path(req.job_dir) / "metrics.jsonl", std::ios::app);
  const std::string who = leads ? "" : "worker " + std::to_string(place.rank) + ": ";
  fc::HostContext ctx;
  ctx.cancelled = &g_cancel;
  // One write a line: the workers share rank 0's stderr, and cerr is unbuffered, so a line
  // written piece by piece interleaves with another worker's.
  ctx.log = [who](fc::LogLevel l, const std::string& m) {
    say("[" + std::string(level_name(l)) + "] " + who + m);
  };
  ctx.progress = [](double, const std::string&) {};
  fc::TrainHooks hooks;
  const auto start = std::chrono::steady_clock::now();
  hooks.metric = [&](const std::string& name, double value, long step) {
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics << nlohmann::json{{"name", name}, {"value", value}, {"step", step}, {"t", t}}.dump()
            << "\n";
  };
  hooks.model_ready = [](const std::string& path) { std::cout << "model: " << path << std::endl; };
  hooks.result = [&](const std::string& json) {
    std::ofstream(fs::path(req.job_dir) / "result.json") << json << "\n";
  };
  try {
    fc::train::run_training(req, ctx, hooks, place);
  } catch (const std::exception& e) {
    say("fc-train: " + who + e.what());
    return 1;
  }
  if (g_cancel.load()) {
    say("fc-train: " + who + "stopped after a checkpoint; run again to resume");
    return 3;
  }
  return 0;
}

// Data-parallel workers (docs/SCALE.md). Without --world-size, distributed.workers = N starts
// ranks 1..N-1 on this host; with it, this process is one worker of a job across hosts.
void add_worker_options(CLI::App& app, fc::train::WorkerPlacement& place) {
  place.world_size = 0;  // not given
  app.add_option("--rank", place.rank, "this worker's rank (0 writes the files)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--world-size", place.world_size,
                 "workers in the job; must equal distributed.workers")
      ->check(CLI::PositiveNumber);
  app.add_option("--master-addr", place.master_addr, "host of rank 0's rendezvous store");
  app.add_option("--master-port", place.master_port, "port of rank 0's rendezvous store")
      ->check(CLI::Range(1, 65535));
  app.add_option("--gloo-iface", place.interface,
                 "network interface Gloo uses (default: loopback for a local master, else the "
                 "host name's address)");
  app.add_option("--rendezvous-timeout", place.rendezvous_timeout_s,
                 "seconds workers wait for each other to start")
      ->check(CLI::PositiveNumber);
}

// One command, N workers: rank 0 starts the others on this host (they inherit its stderr).
int train_with_local_workers(const fc::TrainRequest& req, fc::train::WorkerPlacement place) {
  std::unique_ptr<fc::train::LocalWorkers> local;
  if (place.world_size > 1) {
    try {
      place.master_port = fc::train::free_local_port();
      local = std::make_unique<fc::train::LocalWorkers>(
          fs::read_symlink("/proc/self/exe").string(),
          std::vector<std::string>{"--config", req.config_path, "--job-dir", req.job_dir,
                                   "--models-dir", req.models_dir},
          place.world_size, place.master_port);
      for (size_t i = 0; i < local->pids().size(); ++i)
        say("[info] started worker " + std::to_string(i + 1) + " (pid " +
            std::to_string(local->pids()[i]) + ")");
    } catch (const std::exception& e) {
      say(std::string("fc-train: ") + e.what());
      return 1;
    }
  }
  int rc = train(req, place);
  if (local) {
    // After a failure the workers are stopped; their fate is what the user needs to know.
    const std::string workers_said = rc == 0 ? local->wait() : local->stop();
    if (!workers_said.empty()) {
      say("fc-train: " + workers_said);
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fc-train: run a facecycle training config without the daemon"};
  std::string config, job_dir, models_dir;
  bool check_only = false;
  app.add_option("--config", config, "training config (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--job-dir", job_dir,
                 "the job's folder: checkpoints, metrics.jsonl, pictures; a rerun resumes there")
      ->required();
  app.add_option("--models-dir", models_dir, "where the finished model goes (default: job dir)");
  app.add_flag("--check", check_only, "only validate the config, then exit");
  fc::train::WorkerPlacement place;
  add_worker_options(app, place);
  app.footer(
      "Writes JOB_DIR/metrics.jsonl (one {name, value, step, t: seconds} per line) and "
      "JOB_DIR/result.json.\n"
      "SIGINT/SIGTERM stop after a checkpoint; running it again resumes.");
  CLI11_PARSE(app, argc, argv);
  if (!fc::train::end_with_parent()) return 1;
  if (models_dir.empty()) models_dir = job_dir;

  fc::TrainRequest req;
  std::ifstream in(config);
  req.config_toml.assign(std::istreambuf_iterator<char>(in), {});
  req.config_path = fs::absolute(config).string();
  req.job_dir = fs::absolute(job_dir).string();
  req.models_dir = fs::absolute(models_dir).string();
  const bool spawn_local = place.world_size == 0;
  try {
    const int workers = fc::train::load_request_config(req).workers;
    if (spawn_local) {
      if (place.rank != 0) throw std::invalid_argument("--rank needs --world-size");
      place.world_size = workers;
    } else if (place.rank >= place.world_size) {
      throw std::invalid_argument("--rank must be below --world-size");
    }
    if (check_only) return 0;
    fs::create_directories(req.job_dir);
    fs::create_directories(req.models_dir);
  } catch (const std::exception& e) {
    std::cerr << "fc-train: " << e.what() << "\n";
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  return spawn_local ? train_with_local_workers(req, place) : train(req, place);
}
