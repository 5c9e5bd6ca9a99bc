// The pictures a training job leaves in its job dir after each checkpoint: loss_curves.png and
// samples.png (the newest sheet), plus samples_stepNNNNNN.png for each checkpoint.
#pragma once

#include <string>
#include <vector>

#include "facecycle/core/networks.h"
#include "task_data.h"
#include "train_plots.h"

namespace fc::train {

void write_loss_curves(const std::string& job_dir, const LossHistory& history, long step);

struct SampleSettings {
  int faces = 4;    // held-out faces of the first task, half from each domain
  int size = 64;    // the generator's input size
  int threads = 2;  // decoding threads
};

// One row per input face: the input, its edit by every task, and the first task's cycle. G is
// left in the mode it had. Writes nothing when the first task has no held-out faces.
void write_sample_sheet(const std::string& job_dir, ResnetGenerator G,
                        const std::vector<TaskData>& tasks, const SampleSettings& settings,
                        long step);

}  // namespace fc::train
