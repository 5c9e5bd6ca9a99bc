#include "trained_card.h"

#include <torch/cuda.h>

#include <thread>

namespace fc::train {
namespace {

using nlohmann::json;

std::string hardware_description(const TrainConfig& cfg) {
  const std::string cores = std::to_string(std::thread::hardware_concurrency()) + " cores";
  if (cfg.device == fc::DeviceChoice::kCuda)
    return "cuda, " + std::to_string(torch::cuda::device_count()) + " GPU(s) visible, " + cores;
  return "cpu, " + std::to_string(cfg.threads) + " torch threads, " + cores;
}

json tasks_json(const TrainedRun& r) {
  json tasks = json::object();
  for (size_t i = 0; i < r.tasks.size(); ++i) {
    const auto& t = r.tasks[i];
    tasks[t.cfg.name] = {{"a", t.cfg.domains.a_name},
                         {"b", t.cfg.domains.b_name},
                         {"train_a", t.train_a.size()},
                         {"train_b", t.train_b.size()},
                         {"heldout_a", t.held_a.size()},
                         {"heldout_b", t.held_b.size()},
                         {"steps", r.state.balancer->steps()[i]},
                         {"keep_colour", t.cfg.keep_colour},
                         {"smooth_change", t.cfg.smooth_change},
                         {"smooth_radius", t.cfg.smooth_radius},
                         {"keep_local_colour", t.cfg.keep_local_colour},
                         {"keep_shape", t.cfg.keep_shape},
                         {"keep_shape_on", enum_name(t.cfg.keep_shape_on)},
                         {"hold", t.cfg.hold},
                         {"lambda_cycle", t.cfg.lambda_cycle},
                         {"lambda_cls", t.cfg.lambda_cls},
                         {"cls_input", enum_name(t.cfg.cls_input)},
                         {"cls_downsample", t.cfg.cls_downsample},
                         {"cls_width", t.cfg.classifier_width(r.cfg.d_width)},
                         {"cls_lr_scale", t.cfg.cls_lr_scale},
                         {"cls_steps", t.cfg.cls_steps}};
  }
  return tasks;
}

json stages_json(const ProgressiveSchedule& schedule) {
  json stages = json::array();
  for (int i = 0; i < schedule.num_stages(); ++i)
    stages.push_back({{"size", schedule.stage(i).size},
                      {"steps", schedule.stage(i).steps},
                      {"batch", schedule.stage(i).batch}});
  return stages;
}

json losses_json(const TrainConfig& cfg) {
  return {{"preset", enum_name(cfg.loss_preset)},   {"lambda_cycle", cfg.lambda_cycle},
          {"lambda_identity", cfg.lambda_identity}, {"lambda_gan", cfg.lambda_gan},
          {"cycle_noise", cfg.cycle_noise},         {"d_source_negatives", cfg.d_source_negatives},
          {"lambda_cls", cfg.lambda_cls},           {"cls_input", enum_name(cfg.cls_input)}};
}

json training_json(const TrainedRun& r) {
  const TrainConfig& cfg = r.cfg;
  return {{"data", cfg.synthetic ? "synthetic faces (n=" + std::to_string(cfg.synthetic_n) + ")"
                                 : r.data_dir},
          {"heldout_fraction", cfg.heldout_fraction},
          {"seed", cfg.seed},
          {"tasks", tasks_json(r)},
          {"stages", stages_json(r.schedule)},
          {"steps", r.state.steps_done},
          {"losses", losses_json(cfg)},
          {"generator_ema", cfg.g_ema},
          {"optimizer",
           {{"lr", cfg.lr},
            {"beta1", cfg.beta1},
            {"decay_fraction", cfg.decay_fraction},
            {"pool_size", cfg.pool_size}}},
          {"balance", enum_name(cfg.balance_mode)},
          {"warm_start", cfg.warm_start},
          {"precision", enum_name(cfg.precision)},
          {"wall_time_s", r.state.wall_s()},
          {"hardware", hardware_description(cfg)},
          {"config", r.config_path}};
}

}  // namespace

ModelCard make_trained_card(const TrainedRun& r) {
  ModelCard card;
  card.name = r.cfg.model_name;
  card.set_generator(r.state.G->options());
  for (auto& t : r.tasks) {
    card.conditions.push_back(
        {t.cond_AB, t.cfg.name, Direction::kForward, t.cfg.domains.a_name, t.cfg.domains.b_name});
    card.conditions.push_back(
        {t.cond_BA, t.cfg.name, Direction::kReverse, t.cfg.domains.b_name, t.cfg.domains.a_name});
  }
  card.resolution = r.schedule.stage(r.schedule.num_stages() - 1).size;
  card.training = training_json(r);
  card.metrics = r.state.last_eval;
  card.licence = r.cfg.synthetic ? "synthetic training data"
                                 : "trained on UTKFace: non-commercial research only";
  return card;
}

}  // namespace fc::train
