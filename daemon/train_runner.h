// Runs a train job's single item through the "train" trainer plugin.
#pragma once

#include <string>

#include "job_queue.h"
#include "model_registry.h"
#include "plugin_host.h"

namespace fcd {

inline const char* kTrainerPlugin = "train";

// Builds the TrainRequest for a job (job_dir = <data-dir>/jobs/<id>, created).
fc::TrainRequest train_request_for(const JobRecord& job, const std::string& data_dir,
                                   const std::string& models_dir);

// Checks a config before queueing: throws std::invalid_argument with the trainer's message.
void validate_train_config(const PluginHost& plugins, const fc::TrainRequest& req);

// Runs (or resumes) the training. Metrics become events, finished models are registered, the
// trainer's result JSON is stored with the job. Throws on failure; returns when done or
// cancelled (the caller checks the flag).
void run_train_item(const Claim& claim, fc::Trainer& trainer, const std::string& data_dir,
                    const std::string& models_dir, JobQueue& queue, ModelRegistry& models,
                    fc::HostContext& ctx);

}  // namespace fcd
