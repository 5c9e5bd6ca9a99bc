// Helpers for the trainer tests: temporary job folders and a recording run of the trainer.
#pragma once

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "facecycle/plugin.h"
#include "synthetic_tasks.h"
#include "trainer.h"

namespace fc::train::testing {

inline std::string make_temp_dir(const std::string& tag) {
  static std::mt19937_64 rng(std::random_device{}());
  auto dir = std::filesystem::temp_directory_path() /
             ("fc_" + tag + "_" + std::to_string(rng() % 1000000000ULL));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// A run of run_training that records everything the hooks and context report.
struct RecordedRun {
  std::map<std::string, std::map<long, double>> metrics;  // name -> step -> value
  std::vector<std::string> models;
  std::vector<std::string> results;
  std::vector<std::string> logs;
  double last_progress = -1;
};

// cancel_at_step > 0: the job is cancelled once that step's metrics have been reported.
inline RecordedRun run_trainer(const std::string& config, const std::string& job_dir,
                               const std::string& models_dir, long cancel_at_step = 0,
                               bool verbose = false) {
  RecordedRun rec;
  std::atomic<bool> cancelled{false};
  HostContext ctx;
  ctx.cancelled = &cancelled;
  ctx.log = [&](LogLevel, const std::string& m) { rec.logs.push_back(m); };
  ctx.progress = [&](double f, const std::string& m) {
    if (verbose && int(f * 10) != int(rec.last_progress * 10)) {
      std::printf("  %s\n", m.c_str());
      std::fflush(stdout);
    }
    rec.last_progress = f;
  };
  TrainHooks hooks;
  hooks.metric = [&](const std::string& name, double v, long step) {
    rec.metrics[name][step] = v;
    if (cancel_at_step > 0 && step >= cancel_at_step) cancelled = true;
  };
  hooks.model_ready = [&](const std::string& p) { rec.models.push_back(p); };
  hooks.result = [&](const std::string& j) { rec.results.push_back(j); };
  TrainRequest req;
  req.config_toml = config;
  req.config_path = job_dir + "/config.toml";
  req.job_dir = job_dir;
  req.models_dir = models_dir;
  run_training(req, ctx, hooks);
  return rec;
}

// A small two-task synthetic config; `extra` is appended (stages, checkpoint, ...).
// `generator_extra` adds keys to the [generator] table (a TOML table cannot be reopened later).
inline std::string tiny_config(const std::string& stages, const std::string& extra = "",
                               const std::string& generator_extra = "",
                               const std::string& discriminator_extra = "") {
  return R"(
seed = 3
threads = 1
model_name = "tiny"
)" + fcd_test::synthetic_two_tasks() +
         R"(
[generator]
width = 8
blocks = 2
)" + generator_extra +
         R"(
[discriminator]
width = 8
)" + discriminator_extra +
         R"(
[eval]
enabled = false
)" + stages +
         extra;
}

// `config` (from tiny_config) with `keys` added to its [tasks.age] table.
inline std::string with_age_task_keys(std::string config, const std::string& keys) {
  const std::string last_line = "b = {age = [50, 59]}\n";  // [tasks.age]'s, synthetic_tasks.h
  config.insert(config.find(last_line) + last_line.size(), keys);
  return config;
}

}  // namespace fc::train::testing
