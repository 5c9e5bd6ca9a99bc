#include "task_balancer.h"

#include <algorithm>
#include <stdexcept>

namespace fc::train {

TaskBalancer::TaskBalancer(std::vector<std::string> tasks, std::vector<double> weights, Mode mode,
                           double ema, double min_share)
    : tasks_(std::move(tasks)),
      weights_(std::move(weights)),
      mode_(mode),
      ema_(ema),
      min_share_(min_share) {
  if (tasks_.empty() || tasks_.size() != weights_.size())
    throw std::invalid_argument("TaskBalancer: one weight per task is needed");
  const size_t n = tasks_.size();
  current_.assign(n, 0.0);
  steps_.assign(n, 0);
  ema_d_.assign(n, 0.25);  // LSGAN's equilibrium values
  ema_g_.assign(n, 0.25);
  seen_.assign(n, false);
}

std::vector<double> TaskBalancer::shares() const {
  const size_t n = tasks_.size();
  std::vector<double> w(n);
  if (mode_ == Mode::kFixed) {
    w = weights_;
  } else {
    for (size_t i = 0; i < n; ++i) w[i] = ema_g_[i] / std::max(ema_d_[i], 1e-3);
  }
  double sum = 0;
  for (double x : w) sum += x;
  for (auto& x : w) x = sum > 0 ? x / sum : 1.0 / n;
  if (mode_ == Mode::kAdaptive && min_share_ > 0) {
    // Lift the starved tasks to the floor and take the difference from the others.
    double lifted = 0, rest = 0;
    for (double x : w) (x < min_share_ ? lifted : rest) += x < min_share_ ? min_share_ : x;
    if (rest > 0) {
      double scale = (1.0 - lifted) / rest;
      for (auto& x : w) x = x < min_share_ ? min_share_ : x * scale;
    }
  }
  return w;
}

int TaskBalancer::pick() {
  const std::vector<double> w = shares();
  int best = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    current_[i] += w[i];
    if (current_[i] > current_[best]) best = static_cast<int>(i);
  }
  current_[best] -= 1.0;
  ++steps_[best];
  return best;
}

void TaskBalancer::observe(int task, double loss_D, double loss_G_adv) {
  if (!seen_[task]) {
    ema_d_[task] = loss_D;
    ema_g_[task] = loss_G_adv;
    seen_[task] = true;
    return;
  }
  ema_d_[task] = ema_ * ema_d_[task] + (1 - ema_) * loss_D;
  ema_g_[task] = ema_ * ema_g_[task] + (1 - ema_) * loss_G_adv;
}

nlohmann::json TaskBalancer::state() const {
  return {{"current", current_}, {"steps", steps_}, {"ema_d", ema_d_},
          {"ema_g", ema_g_},     {"seen", seen_},   {"tasks", tasks_}};
}

void TaskBalancer::load_state(const nlohmann::json& s) {
  if (s.at("tasks").get<std::vector<std::string>>() != tasks_)
    throw std::runtime_error(
        "checkpoint was written for other tasks; start a new job for a changed task list");
  current_ = s.at("current").get<std::vector<double>>();
  steps_ = s.at("steps").get<std::vector<long>>();
  ema_d_ = s.at("ema_d").get<std::vector<double>>();
  ema_g_ = s.at("ema_g").get<std::vector<double>>();
  seen_ = s.at("seen").get<std::vector<bool>>();
}

}  // namespace fc::train
