// Which task trains next. Every task trains in the same run; the balancer decides the mix.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train_choices.h"

namespace fc::train {

// fixed: steps in proportion to the weights, interleaved deterministically (smooth weighted
// round robin, so any window of the run has close to the configured ratio).
// adaptive: weights follow how badly each task's generator is losing to its discriminator:
// the EMA of the generator's adversarial loss over the EMA of the discriminator loss. In LSGAN
// a winning discriminator has a small loss and pushes the generator's loss up, so the task
// that lags gets more steps; `min_share` keeps every task training.
class TaskBalancer {
 public:
  using Mode = BalanceMode;

  TaskBalancer(std::vector<std::string> tasks, std::vector<double> weights, Mode mode,
               double ema = 0.95, double min_share = 0.2);

  int pick();  // index of the task for the next step; counts it
  // Losses of the step just taken for `task` (adaptive mode reads them; fixed ignores them).
  void observe(int task, double loss_D, double loss_G_adv);

  const std::vector<std::string>& tasks() const { return tasks_; }
  const std::vector<long>& steps() const { return steps_; }
  std::vector<double> shares() const;  // the current target share of each task

  nlohmann::json state() const;  // everything needed to continue exactly
  void load_state(const nlohmann::json& s);

 private:
  std::vector<std::string> tasks_;
  std::vector<double> weights_;
  Mode mode_;
  double ema_, min_share_;
  std::vector<double> current_;  // smooth weighted round robin accumulators
  std::vector<long> steps_;
  std::vector<double> ema_d_, ema_g_;
  std::vector<bool> seen_;
};

}  // namespace fc::train
