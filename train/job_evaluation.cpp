#include "job_evaluation.h"

#include <algorithm>

#include "eval/translation_eval.h"
#include "facecycle/core/change_shaping.h"

namespace fc::train {
namespace {

std::vector<FaceRecord> first(const std::vector<FaceRecord>& r, int n) {
  return std::vector<FaceRecord>(r.begin(), r.begin() + std::min<size_t>(r.size(), n));
}

TaskHeldout heldout_of(const TaskData& t, const EvalSettings& st) {
  TaskHeldout h;
  h.task = t.cfg.name;
  h.attribute = enum_name(t.cfg.kind);
  h.a_name = t.cfg.domains.a_name;
  h.b_name = t.cfg.domains.b_name;
  h.forward_cond = t.cond_AB;
  h.reverse_cond = t.cond_BA;
  if (t.cfg.kind == TaskKind::kRace) {
    h.race_a = t.cfg.race_a();
    h.race_b = t.cfg.race_b();
  }
  h.a = load_face_tensor(first(t.held_a, st.faces_per_domain), st.size, st.threads);
  h.b = load_face_tensor(first(t.held_b, st.faces_per_domain), st.size, st.threads);
  return h;
}

}  // namespace

nlohmann::json evaluate_generator(ResnetGenerator G, const std::vector<TaskData>& tasks,
                                  AttributeJudge& judge, const EvalSettings& settings) {
  torch::NoGradGuard no_grad;
  std::vector<TaskHeldout> held;
  for (const auto& t : tasks)
    if (!t.held_a.empty() && !t.held_b.empty()) held.push_back(heldout_of(t, settings));
  if (held.empty()) return nlohmann::json::object();
  const bool was_training = G->is_training();
  G->eval();
  TranslateFn fn = [G, &settings](const torch::Tensor& x, int cond) mutable {
    const torch::Device device = G->parameters().front().device();  // the judge's x is on the CPU
    const torch::Tensor xd = x.to(device);
    torch::Tensor y = G->forward(
        xd,
        torch::full({x.size(0)}, int64_t(cond), torch::TensorOptions(torch::kLong).device(device)));
    if (cond >= int(settings.shipped.size())) return y;
    const Condition& c = settings.shipped[cond];
    return shape_change(xd, y, c.scale, c.change_blur);  // as FaceTranslator::translate does
  };
  nlohmann::json r = evaluate_translation(fn, held, judge);
  if (was_training) G->train();
  return r;
}

}  // namespace fc::train
