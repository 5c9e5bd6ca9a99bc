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
  void validate(const fc::TrainRequest& req) override { fc::train::load_request_config(req); }
  void run(const fc::TrainRequest& req, fc::HostContext& ctx, fc::TrainHooks& hooks) override {
    fc::train::run_training(req, ctx, hooks);
  }
};

}  // namespace

FACECYCLE_TRAINER_PLUGIN("train",
                         "CycleGAN training of the conditional generator (all tasks in one run, "
                         "progressive sizes, resumable)",
                         TrainPlugin)
