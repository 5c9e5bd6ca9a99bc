// The `train` trainer plugin: conditional CycleGAN training of the shared generator.
#include "facecycle/plugin.h"
#include "facecycle/plugin_settings.h"
#include "trainer.h"

namespace {

class TrainPlugin : public fc::Trainer {
 public:
  // Runs are configured per request (TrainRequest); a key in [plugins.train] is refused rather
  // than ignored.
  explicit TrainPlugin(const fc::PluginConfig& c) { fc::PluginSettings(c).finish(); }
  // A daemon's train job is one process: refused at submit, not an hour later when it starts.
  void validate(const fc::TrainRequest& req) override {
    const auto cfg = fc::train::load_request_config(req);
    if (cfg.workers > 1)
      throw std::invalid_argument("distributed.workers = " + std::to_string(cfg.workers) +
                                  ": a daemon's train job is one process; run data-parallel "
                                  "training with fc-train, which starts the workers "
                                  "(docs/SCALE.md), or set workers = 1");
  }
  void run(const fc::TrainRequest& req, fc::HostContext& ctx, fc::TrainHooks& hooks) override {
    fc::train::run_training(req, ctx, hooks);
  }
};

}  // namespace

FACECYCLE_TRAINER_PLUGIN("train",
                         "CycleGAN training of the conditional generator (all tasks in one run, "
                         "progressive sizes, resumable)",
                         TrainPlugin)
