#include "workers/train_runner.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "service/path_user.h"
#include "service/train_policy.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

fc::TrainRequest train_request_for(const JobRecord& job, const std::string& jobs_dir,
                                   const std::string& models_dir) {
  auto j = json::parse(job.request_json, nullptr, false);
  fc::TrainRequest req;
  if (j.is_object()) {
    req.config_toml = j.value("config_toml", "");
    req.config_path = j.value("config_path", "");
  }
  if (jobs_dir.empty()) throw std::logic_error("no jobs_dir: finalize_config fills it");
  req.job_dir = (fs::path(jobs_dir) / std::to_string(job.id)).string();
  req.models_dir = models_dir;
  return req;
}

void make_job_folders(const fc::TrainRequest& req, const std::string& jobs_dir) {
  // The job's folder holds its owner's samples and model: 0700 like the data dir, whatever the
  // umask, so that no other local account lists or reads it.
  make_private_dir(jobs_dir);
  make_private_dirs_below(jobs_dir, req.job_dir);
  make_private_dirs_below(jobs_dir, req.models_dir);
}

void validate_train_config(const PluginHost& plugins, const fc::TrainRequest& req) {
  std::unique_ptr<fc::Trainer> trainer;
  try {
    trainer = plugins.create_trainer(kTrainerPlugin);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what());  // a daemon problem, not the user's config
  }
  trainer->validate(req);
}

namespace {

// What the daemon decided at submit time, stored in the job's request.
bool may_replace_models(const JobRecord& job) {
  auto j = json::parse(job.request_json, nullptr, false);
  return j.is_object() && j.value("may_replace_models", false);
}

// The installed model (and its card) again under the job's own folder, where `show` names it and
// FetchJobFile serves it. A hard link costs no space, and when a later job replaces the model
// by rename, this job's folder still holds the model this job made.
void keep_in_job_folder(const std::string& installed, const std::string& staged) {
  auto card = [](const std::string& p) { return fs::path(p).replace_extension(".card.json"); };
  for (const auto& [from, to] : {std::pair{fs::path(installed), fs::path(staged)},
                                 std::pair{card(installed), card(staged)}}) {
    std::error_code ec;
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);  // another fs
    if (ec) spdlog::warn("cannot keep {} in the job's folder: {}", to.string(), ec.message());
  }
}

}  // namespace

void run_train_item(const Claim& claim, fc::Trainer& trainer, const TrainPlaces& places,
                    JobStore& queue, ModelRegistry& models, fc::HostContext& ctx) {
  const JobRecord& job = claim.job;
  // The trainer writes its model into the job's own folder; the daemon moves it into the shared
  // models folder only if the name is the owner's, so another owner's file is never overwritten.
  const std::string staging =
      (fs::path(places.jobs_dir) / std::to_string(job.id) / "model").string();
  auto req = train_request_for(job, places.jobs_dir, staging);
  // Again at run time: the job may predate these checks, or a folder may have been swapped.
  check_train_paths(read_train_config_facts(req.config_toml, req.config_path),
                    places.roots.for_user(path_user_for(job, queue)), models.dirs());
  // Only now: a job refused here leaves no folders behind it.
  make_job_folders(req, places.jobs_dir);
  const int64_t job_id = job.id;
  // Another daemon on a shared queue looks here to say where the job's folder is.
  const std::string node = queue.lease_holder().node;
  queue.set_result(job_id, json{{"ran_on", node}, {"job_dir", req.job_dir}}.dump());
  std::string staged, installed, refused;
  fc::TrainHooks hooks;
  hooks.metric = [&](const std::string& name, double value, long step) {
    queue.add_event(job_id, EventType::kMetric,
                    {{"metric_name", name}, {"metric_value", value}, {"metric_step", step}});
  };
  hooks.model_ready = [&](const std::string& path) {
    staged = path;
    try {
      installed = models.install_model(path, places.models_dir, job.owner, may_replace_models(job));
      keep_in_job_folder(installed, staged);
      auto name = fs::path(installed).stem().string();
      queue.add_event(
          job_id, EventType::kLog,
          {{"level", "info"},
           {"message", "model " + name + " is ready: facecycle models activate " + name}});
    } catch (const std::exception& e) {
      refused = e.what();
      queue.add_event(job_id, EventType::kLog, {{"level", "error"}, {"message", refused}});
    }
  };
  hooks.result = [&](const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded()) j = json{{"text", text}};
    if (j.is_object() && !installed.empty() && j.value("model", "") == staged)
      j["model"] = installed;
    if (j.is_object()) j.update({{"ran_on", node}, {"job_dir", req.job_dir}});
    queue.set_result(job_id, j.dump());
  };
  trainer.run(req, ctx, hooks);
  if (!refused.empty()) throw std::runtime_error(refused);
}

}  // namespace fcd
