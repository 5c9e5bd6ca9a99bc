// Stages "generate-age" and "generate-race": one source, compiled with FC_TASK set. Each declares
// its task through the plugin ABI, so the daemon never reads a task out of a plugin's name.
#include <cstdio>

#include "stage_config.h"

#ifndef FC_TASK
#error "compile with -DFC_TASK=\"age\" or \"race\""
#endif

namespace fc::stages {

constexpr const char* kTask = FC_TASK;
constexpr const char* kName = "generate-" FC_TASK;

class GenerateStage : public Stage {
 public:
  // No settings: a key in [plugins.generate-TASK] is refused rather than ignored.
  explicit GenerateStage(const PluginConfig& c) { PluginSettings(c).finish(); }

  void process(PhotoItem& item, HostContext& ctx) override {
    if (!ctx.model)
      throw std::runtime_error(
          std::string(kName) +
          ": no model is loaded — activate one with `facecycle models activate NAME`");
    if (ctx.is_cancelled()) throw std::runtime_error("cancelled");
    check_task(item, ctx.model->card());
    std::vector<Face*> todo;
    std::vector<cv::Mat> crops;
    for (auto& f : item.faces)
      if (f.skipped.empty() && !f.crop.empty()) {
        todo.push_back(&f);
        crops.push_back(f.crop);
      }
    item.model_name = ctx.model->card().name;
    if (!item.all_faces && !item.whole_image) leave_targets_alone(item, *ctx.model, todo, crops);
    if (crops.empty()) return;
    // One call for the whole photo: the shared translator batches across items and jobs.
    std::vector<cv::Mat> out = ctx.model->translate(crops, kTask, item.reverse, item.strength);
    if (out.size() != crops.size())
      throw std::runtime_error("the model returned " + std::to_string(out.size()) + " faces for " +
                               std::to_string(crops.size()));
    for (size_t i = 0; i < todo.size(); ++i) todo[i]->generated = out[i];
    if (ctx.progress) ctx.progress(1.0, std::to_string(crops.size()) + " faces translated");
  }

 private:
  // Faces the model's domain gate reads as the direction's target already (a Black face in a
  // White -> Black batch) are marked skipped and taken out of todo/crops. A --whole-image item
  // is one face the user chose, so it is always edited.
  static void leave_targets_alone(PhotoItem& item, FaceTranslator& model, std::vector<Face*>& todo,
                                  std::vector<cv::Mat>& crops) {
    if (crops.empty()) return;
    const TargetReading r = model.read_target(crops, kTask, item.reverse);
    if (r.p_target.empty()) return;  // no gate for this task
    if (r.p_target.size() != crops.size())
      throw std::runtime_error("the model's gate read " + std::to_string(r.p_target.size()) +
                               " faces of " + std::to_string(crops.size()));
    std::vector<Face*> kept;
    std::vector<cv::Mat> kept_crops;
    for (size_t i = 0; i < todo.size(); ++i) {
      todo[i]->p_target = r.p_target[i];
      if (r.p_target[i] < r.skip_at) {
        kept.push_back(todo[i]);
        kept_crops.push_back(crops[i]);
        continue;
      }
      char p[16];
      std::snprintf(p, sizeof p, "%.2f", r.p_target[i]);
      todo[i]->skipped = "already reads as " + r.target + " (the model's gate: " + p +
                         "); --all-faces edits it too";
    }
    todo.swap(kept);
    crops.swap(kept_crops);
  }

  // Checked before any work, so a photo without faces fails the same way as one with faces:
  // a pipeline that picked the wrong stage, or a model that was not trained for this task.
  static void check_task(const PhotoItem& item, const ModelCard& card) {
    if (!item.task.empty() && item.task != kTask)
      throw std::runtime_error(std::string(kName) + " serves task '" + kTask +
                               "', but the item asks for '" + item.task + "'");
    // A card without conditions (a test double) leaves the choice to its translator.
    if (!card.conditions.empty()) card.condition_id(kTask, item.reverse);  // throws, naming tasks
  }
};

}  // namespace fc::stages

FACECYCLE_TASK_STAGE_PLUGIN("generate-" FC_TASK, FC_TASK,
                            "Translates every face crop with the resident model (task " FC_TASK ")",
                            fc::stages::GenerateStage)
