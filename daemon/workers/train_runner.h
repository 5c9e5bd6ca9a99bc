// Runs a train job's single item through the "train" trainer plugin.
#pragma once

#include <string>

#include "models/model_registry.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "store/job_store.h"

namespace fcd {

inline const char* kTrainerPlugin = "train";

// Builds the TrainRequest for a job: job_dir = <jobs_dir>/<id>, and models_dir, the staging
// folder, which must lie inside jobs_dir. Touches no disk.
fc::TrainRequest train_request_for(const JobRecord& job, const std::string& jobs_dir,
                                   const std::string& models_dir);

// Creates the request's job_dir and models_dir (and jobs_dir itself) 0700, whatever the umask.
// Called once the job's paths have passed their run-time check.
void make_job_folders(const fc::TrainRequest& req, const std::string& jobs_dir);

// Checks a config before queueing: throws std::invalid_argument with the trainer's message.
void validate_train_config(const PluginHost& plugins, const fc::TrainRequest& req);

// Where a training job reads and writes.
struct TrainPlaces {
  std::string jobs_dir;       // the job runs in <jobs_dir>/<id>
  std::string models_dir;     // finished models are installed here
  const AllowedRoots& roots;  // what the config may read (checked again before running)
};

// Runs (or resumes) the training. Metrics become events; the finished model is installed into
// the models dir when its name is the job owner's (or an admin's job), else the item fails
// saying why; the trainer's result JSON is stored with the job. Throws on failure; returns when
// done or cancelled (the caller checks the flag).
void run_train_item(const Claim& claim, fc::Trainer& trainer, const TrainPlaces& places,
                    JobStore& queue, ModelRegistry& models, fc::HostContext& ctx);

}  // namespace fcd
