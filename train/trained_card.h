// The model card a training run writes beside its model file.
#pragma once

#include <string>
#include <vector>

#include "facecycle/core/model_card.h"
#include "progressive_schedule.h"
#include "task_data.h"
#include "train_config.h"
#include "train_state.h"

namespace fc::train {

// What the card describes: the config, where it came from, the data and the state at the end.
struct TrainedRun {
  const TrainConfig& cfg;
  const std::string& config_path;
  const std::string& data_dir;
  const std::vector<TaskData>& tasks;
  const TrainState& state;
  const ProgressiveSchedule& schedule;
};

ModelCard make_trained_card(const TrainedRun& run);

}  // namespace fc::train
