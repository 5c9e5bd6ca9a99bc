// The conditional CycleGAN training job behind the `train` plugin. No torch types here.
#pragma once

#include <string>

#include "facecycle/plugin.h"
#include "train_config.h"

namespace fc::train {

// Parses the request's config and checks what can be checked before training: the data
// folder exists, warm_start and eval.judge_path name files. Throws std::invalid_argument
// naming the key.
TrainConfig load_request_config(const TrainRequest& req);

// Trains every task of the config in one run, resuming from the newest checkpoint in
// req.job_dir when there is one. Returns when done or cancelled (after a checkpoint); throws
// on failure. Sets torch's intra-op threads to config.threads.
void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks);

}  // namespace fc::train
