// The held-out evaluation a training job runs after checkpoints and fc-eval re-runs on a model.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "eval/attribute_judge.h"
#include "facecycle/core/networks.h"
#include "task_data.h"

namespace fc::train {

struct EvalSettings {
  int size = 64;              // the generator's input size
  int faces_per_domain = 64;  // the first held-out faces of each domain
  int threads = 2;            // decoding threads
  // The card's conditions by id, so that a calibrated model is judged as it ships (its scale
  // and change_blur); empty (a model in training) judges the generator's raw change.
  std::vector<Condition> shipped;
};

// evaluate_translation's table for every task with held-out faces on both sides, each judged by
// its declared kind; an empty object when there are none. G is left in the mode it had.
nlohmann::json evaluate_generator(ResnetGenerator G, const std::vector<TaskData>& tasks,
                                  AttributeJudge& judge, const EvalSettings& settings);

}  // namespace fc::train
