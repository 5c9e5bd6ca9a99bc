#include "eval/translation_eval.h"

#include <torch/torch.h>

#include <optional>
#include <stdexcept>

#include "eval/change_scale.h"
#include "eval/texture_metrics.h"
#include "facecycle/core/model_card.h"
#include "train_choices.h"

namespace fc::train {
namespace {

struct Translated {
  torch::Tensor out, cycle;  // G(x, there), G(G(x, there), back)
};

Translated run(const TranslateFn& translate, const torch::Tensor& x, int there, int back,
               int batch) {
  std::vector<torch::Tensor> outs, cycles;
  for (int64_t i = 0; i < x.size(0); i += batch) {
    const torch::Tensor xb = x.slice(0, i, std::min<int64_t>(i + batch, x.size(0)));
    torch::Tensor y = translate(xb, there).to(torch::kCPU, torch::kFloat32);
    if (y.sizes() != xb.sizes())
      throw std::runtime_error("evaluate_translation: the translator returned a different shape");
    outs.push_back(y);
    cycles.push_back(translate(y, back).to(torch::kCPU, torch::kFloat32));
  }
  return {torch::cat(outs), torch::cat(cycles)};
}

double avg(const torch::Tensor& t) { return t.to(torch::kFloat64).mean().item<double>(); }

nlohmann::json direction(const TaskHeldout& t, Direction d, const TranslateFn& translate,
                         AttributeJudge& judge, int batch) {
  const bool reverse = d == Direction::kReverse;
  const torch::Tensor& src = reverse ? t.b : t.a;
  const torch::Tensor& target_real = reverse ? t.a : t.b;
  nlohmann::json j = {{"from", reverse ? t.b_name : t.a_name},
                      {"to", reverse ? t.a_name : t.b_name},
                      {"n", src.defined() ? src.size(0) : 0}};
  if (!src.defined() || src.size(0) == 0) return j;
  const Translated tr = run(translate, src, reverse ? t.reverse_cond : t.forward_cond,
                            reverse ? t.forward_cond : t.reverse_cond, batch);
  j["cycle_l1"] = avg((tr.cycle - src).abs());
  if (src.size(2) >= kPatchShareMinSize) j["patch_share"] = patch_share(src, tr.out);
  const bool have_real = target_real.defined() && target_real.size(0) > 0;
  if (have_real) {
    j["texture"] = compare_texture(tr.out, target_real).to_json();
    j["texture_source"] = compare_texture(src, target_real).to_json();  // real vs real
  }
  const std::optional<TaskKind> kind = enum_from_string<TaskKind>(t.attribute);
  if (kind == TaskKind::kAge) {
    j["judged_age_before"] = avg(judge.age(src));
    j["judged_age_after"] = avg(judge.age(tr.out));
    if (have_real) j["judged_age_target_real"] = avg(judge.age(target_real));
  } else if (kind == TaskKind::kRace) {
    const int target = reverse ? t.race_a : t.race_b;
    auto frac = [&](const torch::Tensor& x) {
      return avg(judge.race_logits(x).argmax(1).eq(target));
    };
    j["p_target_before"] = avg(judge.race_prob(src, target));
    j["p_target_after"] = avg(judge.race_prob(tr.out, target));
    j["frac_target_before"] = frac(src);
    j["frac_target_after"] = frac(tr.out);
    if (have_real) j["p_target_real"] = avg(judge.race_prob(target_real, target));
  } else {
    throw std::invalid_argument("evaluate_translation: task " + t.task + " has attribute '" +
                                t.attribute + "'; expected one of " + enum_choices<TaskKind>());
  }
  return j;
}

}  // namespace

nlohmann::json evaluate_translation(const TranslateFn& translate,
                                    const std::vector<TaskHeldout>& tasks, AttributeJudge& judge,
                                    int batch) {
  torch::NoGradGuard no_grad;
  nlohmann::json out = {{"tasks", nlohmann::json::object()}, {"judge", judge.metrics}};
  for (const auto& t : tasks) {
    nlohmann::json& task = out["tasks"][t.task];
    task = {{"attribute", t.attribute}, {"a_name", t.a_name}, {"b_name", t.b_name}};
    for (const auto& [d, name] : EnumNames<Direction>::table)
      task[name] = direction(t, d, translate, judge, std::max(1, batch));
  }
  return out;
}

}  // namespace fc::train
