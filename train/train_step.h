// One optimisation step of one task, in the order of pytorch-CycleGAN's optimize_parameters:
// G_A and G_B first, then D_A and D_B on pooled fakes.
#pragma once

#include <vector>

#include "cycle_losses.h"
#include "data_parallel.h"
#include "loss_recorder.h"
#include "task_data.h"
#include "train_state.h"

namespace fc::train {

// A task whose edit is held (TaskConfig::hold): where the pull on G finds its faces and weight.
struct HeldEdit {
  TaskState* state = nullptr;      // its loaders
  const TaskData* task = nullptr;  // its conditions and TaskConfig::hold
};

// What a step reads from the config.
struct StepSettings {
  LossWeights weights;
  ClassifierInput cls_input = ClassifierInput::kColour;
  int cls_downsample = 1;
  int cls_steps = 1;                   // classifier updates per step (TaskConfig::cls_steps)
  bool bf16 = false;                   // forward passes under autocast (CPU or CUDA, as the device)
  double g_ema = 0;                    // decay of the EMA generator (0: none)
  bool update_G = true;                // false in the discriminator warm-up: G and G_ema stay
  double local_gan = 0;                // weight of the local discriminators' term (lambda_gan x
                                       // discriminator.local_weight; 0 without them)
  torch::Device device = torch::kCPU;  // the networks'; batches are moved there
  // The other tasks' held edits: each adds its pull toward the warm start to this step's G
  // objective, so the shared weights learn this task at a price for moving a held edit.
  std::vector<HeldEdit> held;
  // With data-parallel workers: averages the gradients before every optimiser step.
  DataParallel* data_parallel = nullptr;
};

// Where the networks live: cfg.device, the CPU or CUDA GPU 0.
torch::Device training_device(const TrainConfig& cfg);

// The run's settings with `task`'s own loss weights (TaskConfig::lambda_cycle, lambda_cls).
StepSettings step_settings(const TrainConfig& cfg, const TaskConfig& task);

// Draws a batch from each of the task's loaders and updates G (and G_ema), then the task's
// discriminators and classifier; a held task (TaskConfig::hold) updates G alone, toward the warm
// start's edit. The learning rates are the caller's.
StepLosses optimize_parameters(TrainState& s, TaskState& t, const TaskData& task,
                               const StepSettings& settings);

}  // namespace fc::train
