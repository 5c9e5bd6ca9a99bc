#include "train_runner.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

fc::TrainRequest train_request_for(const JobRecord& job, const std::string& data_dir,
                                   const std::string& models_dir) {
  auto j = json::parse(job.request_json, nullptr, false);
  fc::TrainRequest req;
  if (j.is_object()) {
    req.config_toml = j.value("config_toml", "");
    req.config_path = j.value("config_path", "");
  }
  req.job_dir = (fs::path(data_dir) / "jobs" / std::to_string(job.id)).string();
  req.models_dir = models_dir;
  fs::create_directories(req.job_dir);
  fs::create_directories(req.models_dir);
  return req;
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

void run_train_item(const Claim& claim, fc::Trainer& trainer, const std::string& data_dir,
                    const std::string& models_dir, JobQueue& queue, ModelRegistry& models,
                    fc::HostContext& ctx) {
  auto req = train_request_for(claim.job, data_dir, models_dir);
  const int64_t job_id = claim.job.id;
  fc::TrainHooks hooks;
  hooks.metric = [&](const std::string& name, double value, long step) {
    queue.add_event(job_id, "metric",
                    {{"metric_name", name}, {"metric_value", value}, {"metric_step", step}});
  };
  hooks.model_ready = [&](const std::string& path) {
    try {
      auto name = models.register_model(path);
      queue.add_event(
          job_id, "log",
          {{"level", "info"},
           {"message", "model " + name + " is ready: facecycle models activate " + name}});
    } catch (const std::exception& e) {
      queue.add_event(job_id, "log", {{"level", "error"}, {"message", e.what()}});
    }
  };
  hooks.result = [&](const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded()) j = json{{"text", text}};
    queue.set_result(job_id, j.dump());
  };
  trainer.run(req, ctx, hooks);
}

}  // namespace fcd
