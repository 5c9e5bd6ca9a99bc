// Held-out evaluation of a translator: did the judged attribute move, and does the cycle
// A->B->A come back?
#pragma once

#include <torch/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/attribute_judge.h"

namespace fc::train {

// Held-out images of one task's two domains.
struct TaskHeldout {
  std::string task;       // key in the output JSON, e.g. "age"
  std::string attribute;  // what the judge reads: a TaskKind's name, "age" | "race"
  std::string a_name, b_name;
  int forward_cond = 0;        // condition id A->B
  int reverse_cond = 1;        // condition id B->A
  int race_a = 0, race_b = 1;  // for attribute "race": the race ids of A and B
  torch::Tensor a, b;          // [N,3,S,S] float RGB in [-1,1]
};

using TranslateFn = std::function<torch::Tensor(const torch::Tensor&, int cond)>;

// Returns {"tasks": {TASK: {"a_name", "b_name", "attribute", "forward": {...}, "reverse": {...}}},
// "judge": judge.metrics}. Each direction ("forward" A->B, "reverse" B->A) holds:
//   n, from, to, cycle_l1 (mean |x - G(G(x, fwd), rev)|, on the [-1,1] scale), and
//   attribute "age":  judged_age_before, judged_age_after, judged_age_target_real
//   attribute "race": p_target_before, p_target_after, frac_target_before, frac_target_after,
//                     p_target_real (the judge on real target-domain images)
//   and, when the target domain has images, "texture": compare_texture(outputs, real target)
//   and "texture_source": the same for the real source images, the level real photos reach.
// Runs in batches of `batch` under NoGradGuard.
nlohmann::json evaluate_translation(const TranslateFn& translate,
                                    const std::vector<TaskHeldout>& tasks, AttributeJudge& judge,
                                    int batch = 16);

}  // namespace fc::train
