// The loss bookkeeping of training: per-step metrics and the running means behind
// loss_curves.png. No torch.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "train_plots.h"

namespace fc::train {

// The losses of one optimisation step of one task, named as in pytorch-CycleGAN (G_A: A -> B,
// D_A judges domain B). Weighted, as they enter the objectives.
struct StepLosses {
  double loss_G = 0;  // the generator's whole objective
  double loss_G_A = 0, loss_G_B = 0;
  double loss_cycle_A = 0, loss_cycle_B = 0;
  double loss_idt_A = 0, loss_idt_B = 0;
  double loss_D_A = 0, loss_D_B = 0;
  std::optional<double> loss_colour;      // when the task's keep_colour is on
  std::optional<double> loss_smooth;      // when the task's smooth_change is on
  std::optional<double> loss_local_tint;  // when the task's keep_local_colour is on
  std::optional<double> loss_shape;       // when the task's keep_shape is on
  std::optional<double> loss_cls_fake;    // when the domain classifier is on: G's term
  std::optional<double> loss_cls_real;    // and the classifier's own, on real faces
  std::optional<double> loss_G_local;     // with local discriminators: G's term against them
  std::optional<double> loss_D_local;     // and theirs
  std::optional<double> loss_hold;        // a held task's pull toward the warm start (weighted)
  double loss_D() const { return 0.5 * (loss_D_A + loss_D_B); }
  double adversarial() const { return 0.5 * (loss_G_A + loss_G_B); }
};

using MetricFn = std::function<void(const std::string& name, double value, long step)>;

class LossRecorder {
 public:
  LossRecorder(long total_steps = 1, int log_every = 1);

  // Whether step `done` (counted from 1) emits metrics: every log_every steps and the last.
  bool logs(long done) const;
  // Emits "<task>/loss_..." metrics when logs(done), and adds to the loss curves' running means:
  // one point per ~1/400 of the run, so the curves stay readable however long it runs.
  void record(const std::string& task, long done, const StepLosses& l, const MetricFn& metric);

  const LossHistory& history() const { return history_; }
  // For checkpoints: the curves so far, and the sums of the point being accumulated.
  nlohmann::json history_json() const;
  void load_history(const nlohmann::json& j);
  nlohmann::json means_json() const;
  void load_means(const nlohmann::json& j);

 private:
  long total_steps_;
  int log_every_;
  LossHistory history_;
  std::map<std::string, std::pair<double, int>>
      means_;  // name -> (sum, count) since the last point
};

}  // namespace fc::train
