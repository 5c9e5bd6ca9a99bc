#include "loss_recorder.h"

#include <algorithm>
#include <vector>

namespace fc::train {

LossRecorder::LossRecorder(long total_steps, int log_every)
    : total_steps_(total_steps), log_every_(log_every) {}

bool LossRecorder::logs(long done) const { return done % log_every_ == 0 || done == total_steps_; }

void LossRecorder::record(const std::string& task, long done, const StepLosses& l,
                          const MetricFn& metric) {
  const std::string p = task + "/";
  if (metric && logs(done)) {
    std::vector<std::pair<std::string, double>> points = {
        {"loss_G", l.loss_G},
        {"loss_G_A", l.loss_G_A},
        {"loss_G_B", l.loss_G_B},
        {"loss_cycle_A", l.loss_cycle_A},
        {"loss_cycle_B", l.loss_cycle_B},
        {"loss_idt_A", l.loss_idt_A},
        {"loss_idt_B", l.loss_idt_B},
        {"loss_D_A", l.loss_D_A},
        {"loss_D_B", l.loss_D_B},
        {"loss_D", l.loss_D()},
    };
    if (l.loss_colour) points.push_back({"loss_colour", *l.loss_colour});
    if (l.loss_smooth) points.push_back({"loss_smooth", *l.loss_smooth});
    if (l.loss_local_tint) points.push_back({"loss_local_tint", *l.loss_local_tint});
    if (l.loss_shape) points.push_back({"loss_shape", *l.loss_shape});
    if (l.loss_cls_fake) points.push_back({"loss_cls_fake", *l.loss_cls_fake});
    if (l.loss_cls_real) points.push_back({"loss_cls_real", *l.loss_cls_real});
    if (l.loss_G_local) points.push_back({"loss_G_local", *l.loss_G_local});
    if (l.loss_D_local) points.push_back({"loss_D_local", *l.loss_D_local});
    if (l.loss_hold) points.push_back({"loss_hold", *l.loss_hold});
    for (auto& [n, v] : points) metric(p + n, v, done);
  }
  auto add = [&](const std::string& k, double v) {
    auto& acc = means_[p + k];
    acc.first += v;
    acc.second += 1;
  };
  add("loss_G", l.loss_G);
  add("loss_D", l.loss_D());
  add("loss_cycle", l.loss_cycle_A + l.loss_cycle_B);
  if (l.loss_cls_fake) add("loss_cls_fake", *l.loss_cls_fake);
  const long every = std::max<long>(1, total_steps_ / 400);
  if (done % every == 0)
    for (auto& [n, acc] : means_)
      if (acc.second) {
        history_[n].push_back({done, acc.first / acc.second});
        acc = {0.0, 0};
      }
}

nlohmann::json LossRecorder::history_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [n, pts] : history_) j[n] = pts;
  return j;
}

// A missing entry (null) leaves the recorder empty.
void LossRecorder::load_history(const nlohmann::json& j) {
  for (auto& [n, pts] : j.items()) history_[n] = pts.get<std::vector<std::pair<long, double>>>();
}

nlohmann::json LossRecorder::means_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [n, a] : means_) j[n] = {a.first, a.second};
  return j;
}

void LossRecorder::load_means(const nlohmann::json& j) {
  for (auto& [n, v] : j.items()) means_[n] = {v[0].get<double>(), v[1].get<int>()};
}

}  // namespace fc::train
