// fc-train: a training job from the command line, with no daemon: the same fc_train library
// (run_training) as the daemon's train plugin, so the two cannot drift. It is what the
// LibTorch-only build (FACECYCLE_TORCH_ONLY) offers for training on a GPU host (docs/GPU.md).
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

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
  app.footer(
      "Writes JOB_DIR/metrics.jsonl (one {name, value, step, t: seconds} per line) and "
      "JOB_DIR/result.json.\n"
      "SIGINT/SIGTERM stop after a checkpoint; running it again resumes.");
  CLI11_PARSE(app, argc, argv);
  if (models_dir.empty()) models_dir = job_dir;

  fc::TrainRequest req;
  std::ifstream in(config);
  req.config_toml.assign(std::istreambuf_iterator<char>(in), {});
  req.config_path = fs::absolute(config).string();
  req.job_dir = fs::absolute(job_dir).string();
  req.models_dir = fs::absolute(models_dir).string();
  try {
    fc::train::load_request_config(req);
    if (check_only) return 0;
    fs::create_directories(req.job_dir);
    fs::create_directories(req.models_dir);
  } catch (const std::exception& e) {
    std::cerr << "fc-train: " << e.what() << "\n";
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::ofstream metrics(fs::path(req.job_dir) / "metrics.jsonl", std::ios::app);
  fc::HostContext ctx;
  ctx.cancelled = &g_cancel;
  ctx.log = [](fc::LogLevel l, const std::string& m) {
    std::cerr << "[" << level_name(l) << "] " << m << std::endl;
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
    fc::train::run_training(req, ctx, hooks);
  } catch (const std::exception& e) {
    std::cerr << "fc-train: " << e.what() << "\n";
    return 1;
  }
  if (g_cancel.load()) {
    std::cerr << "fc-train: stopped after a checkpoint; run again to resume\n";
    return 3;
  }
  return 0;
}
