// Everything a training checkpoint holds: the networks, their optimisers, the EMA generator,
// the pools, the loaders' positions, the balancer, the step, the losses so far and torch's RNG.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "facecycle/core/networks.h"
#include "image_pool.h"
#include "loss_recorder.h"
#include "task_balancer.h"

namespace fc::train {

// One task's part: its discriminators, domain classifier, their optimisers, the pools of past
// fakes and the loaders.
struct TaskState {
  std::string name;                       // names the task's checkpoint entries
  PatchDiscriminator D_A{nullptr};        // judges domain B (fake_B vs real_B)
  PatchDiscriminator D_B{nullptr};        // judges domain A
  PatchDiscriminator D_A_local{nullptr};  // discriminator.local_layers > 0: small-field D_A
  PatchDiscriminator D_B_local{nullptr};  // and D_B; optD steps them with D_A and D_B
  std::unique_ptr<torch::optim::Adam> optD;
  PatchDiscriminator C{nullptr};  // domain classifier (losses.lambda_cls > 0): logit of "B"
  std::unique_ptr<torch::optim::Adam> optC;
  std::unique_ptr<ImagePool> pool_fake_A, pool_fake_B;
  std::unique_ptr<BatchLoader> loader_A, loader_B;
  int d_layers = 0;  // depth of D_A, D_B and C, which follows the stage's image size
  // Milliseconds the steps waited on loader_A and loader_B since the trainer last took it
  // (train_step.cpp: next_real): a step that waits is bound by its data, not by its device.
  double data_wait_ms = 0;
};

struct TrainState {
  using Clock = std::chrono::steady_clock;

  ResnetGenerator G{nullptr};
  ResnetGenerator G_ema{nullptr};  // generator.ema > 0
  // The warm start as it was, frozen, when a task holds its edit (TaskConfig::hold). Rebuilt from
  // warm_start on resume, so checkpoints do not keep it.
  ResnetGenerator G_hold{nullptr};
  std::unique_ptr<torch::optim::Adam> optG;
  std::vector<TaskState> tasks;
  std::unique_ptr<TaskBalancer> balancer;
  int stage = -1;
  long steps_done = 0;
  double wall_before_s = 0;  // wall time of earlier runs of this job
  Clock::time_point started = Clock::now();
  LossRecorder losses;
  nlohmann::json last_eval = nlohmann::json::object();

  double wall_s() const;  // of the whole job, this run included
  // The generator that samples, evaluations and the model file use: the EMA when it is on.
  ResnetGenerator served() const { return G_ema ? G_ema : G; }

  // Save and load walk one list of entries (train_state.cpp), so their keys cannot disagree;
  // the keys are those of checkpoints already written ("G", "D_A/<task>", "optC/<task>", ...).
  void save(torch::serialize::OutputArchive& archive) const;
  // Loads into networks, pools and loaders that already exist at the saved stage.
  void load(torch::serialize::InputArchive& archive);
  // The stage a checkpoint was written in: build its networks before load().
  static int saved_stage(torch::serialize::InputArchive& archive);
};

// torch's CPU generator: what checkpoints keep of the training stream. The setter takes the
// state from whatever device a checkpoint was read onto.
at::Tensor get_cpu_rng_state();
void set_cpu_rng_state(const at::Tensor& s);

}  // namespace fc::train
