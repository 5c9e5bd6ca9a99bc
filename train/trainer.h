// The conditional CycleGAN training job behind the `train` plugin. No torch types here.
#pragma once

#include <string>

#include "facecycle/train_api.h"
#include "train_config.h"
#include "worker_placement.h"

namespace fc::train {

// What a config is loaded for. Evaluating a finished model (fc-eval) never reads warm_start, so
// a config whose warm start has left models/ (v11's names v7) must still evaluate.
enum class ConfigUse { kTrain, kEvaluate };

// Parses the request's config and checks what can be checked before training: the data
// folder exists, warm_start (kTrain only) and eval.judge_path name files. Throws
// std::invalid_argument naming the key.
TrainConfig load_request_config(const TrainRequest& req, ConfigUse use = ConfigUse::kTrain);

// Trains every task of the config in one run, resuming from the newest checkpoint in
// req.job_dir when there is one. Returns when done or cancelled (after a checkpoint); throws
// on failure. Sets torch's intra-op threads to config.threads.
void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks);

// One worker of a data-parallel job (distributed.workers = placement.world_size; fc-train starts
// them): rank 0 writes the checkpoints, pictures, metrics and the model, and reports through the
// hooks; the other ranks only train. world_size 1 is run_training above. The plain overload
// refuses distributed.workers > 1, since it is one process.
void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks,
                  const WorkerPlacement& placement);

// The held-out evaluation of a finished model, without training: the config's data, split,
// tasks and judge (eval.judge_path, else a judge trained in req.job_dir with the config's seed,
// which is deterministic), at the model's resolution. Returns the table that a train job
// stores (evaluate_translation's JSON). This is how a model card's numbers are re-derived.
std::string evaluate_model(const TrainRequest& req, const std::string& model_path, HostContext& ctx,
                           TrainHooks& hooks);

}  // namespace fc::train
