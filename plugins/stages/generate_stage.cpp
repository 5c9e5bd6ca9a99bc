// Stages "generate-age" and "generate-race": one source, compiled with FC_TASK set.
#include "stage_config.h"

#ifndef FC_TASK
#error "compile with -DFC_TASK=\"age\" or \"race\""
#endif

namespace fc::stages {

class GenerateStage : public Stage {
 public:
  explicit GenerateStage(const PluginConfig&) {}

  void process(PhotoItem& item, HostContext& ctx) override {
    if (!ctx.model)
      throw std::runtime_error(
          std::string("generate-") + FC_TASK +
          ": no model is loaded — activate one with `facecycle models activate NAME`");
    if (ctx.is_cancelled()) throw std::runtime_error("cancelled");
    std::vector<Face*> todo;
    std::vector<cv::Mat> crops;
    for (auto& f : item.faces)
      if (f.skipped.empty() && !f.crop.empty()) {
        todo.push_back(&f);
        crops.push_back(f.crop);
      }
    item.model_name = ctx.model->card().name;
    if (crops.empty()) return;
    // One call for the whole photo: the shared translator batches across items and jobs.
    std::vector<cv::Mat> out = ctx.model->translate(crops, FC_TASK, item.reverse);
    if (out.size() != crops.size())
      throw std::runtime_error("the model returned " + std::to_string(out.size()) + " faces for " +
                               std::to_string(crops.size()));
    for (size_t i = 0; i < todo.size(); ++i) todo[i]->generated = out[i];
    if (ctx.progress) ctx.progress(1.0, std::to_string(crops.size()) + " faces translated");
  }
};

}  // namespace fc::stages

FACECYCLE_STAGE_PLUGIN("generate-" FC_TASK,
                       "Translates every face crop with the resident model (task " FC_TASK ")",
                       fc::stages::GenerateStage)
