#include "progressive_schedule.h"

#include <algorithm>
#include <stdexcept>

namespace fc::train {

ProgressiveSchedule::ProgressiveSchedule(std::vector<StageConfig> stages)
    : stages_(std::move(stages)) {
  if (stages_.empty()) throw std::invalid_argument("stages: at least one stage is needed");
  for (const auto& s : stages_) total_ += s.steps;
}

StagePosition ProgressiveSchedule::at(long step) const {
  long start = 0;
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (step < start + stages_[i].steps || i + 1 == stages_.size())
      return {static_cast<int>(i), step - start, stages_[i].size, stages_[i].batch};
    start += stages_[i].steps;
  }
  return {};
}

bool ProgressiveSchedule::ends_stage(long steps_done) const {
  long end = 0;
  for (const auto& s : stages_) {
    end += s.steps;
    if (steps_done == end) return true;
  }
  return false;
}

double ProgressiveSchedule::lr_factor(long step, double decay_fraction) const {
  const double decay_steps = decay_fraction * total_;
  const double decay_start = total_ - decay_steps;
  if (decay_steps <= 0 || step < decay_start) return 1.0;
  return std::max(0.0, 1.0 - (step - decay_start) / decay_steps);
}

std::string ProgressiveSchedule::describe(long step) const {
  StagePosition p = at(step);
  return "stage " + std::to_string(p.stage + 1) + "/" + std::to_string(stages_.size()) + " " +
         std::to_string(p.size) + "px step " + std::to_string(p.stage_step) + "/" +
         std::to_string(stages_[p.stage].steps);
}

}  // namespace fc::train
