// Progressive growing of the training size (e.g. 32 -> 48 -> 64 -> 96 -> 128) and the linear
// learning-rate decay over the whole run. No torch types.
#pragma once

#include <string>
#include <vector>

#include "train_config.h"

namespace fc::train {

struct StagePosition {
  int stage = 0;        // index into the stages
  long stage_step = 0;  // steps already done inside this stage
  int size = 0;
  int batch = 0;
};

class ProgressiveSchedule {
 public:
  explicit ProgressiveSchedule(std::vector<StageConfig> stages);

  long total_steps() const { return total_; }
  int num_stages() const { return static_cast<int>(stages_.size()); }
  const StageConfig& stage(int i) const { return stages_.at(i); }
  // Where the step with global index `step` (0-based) falls.
  StagePosition at(long step) const;
  // True when `steps_done` steps complete a stage (its last step was just taken).
  bool ends_stage(long steps_done) const;
  // Constant for the first (1 - decay_fraction) of the run, then linear to 0, as in the
  // CycleGAN paper (100 epochs constant + 100 decaying = decay_fraction 0.5).
  double lr_factor(long step, double decay_fraction) const;
  // "stage 2/3 64px step 120/400"
  std::string describe(long step) const;

 private:
  std::vector<StageConfig> stages_;
  long total_ = 0;
};

}  // namespace fc::train
