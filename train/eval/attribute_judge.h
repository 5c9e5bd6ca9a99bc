// The project's own attribute classifiers, trained on the training split: a small CNN age
// regressor and a 5-way race classifier. They judge whether a translation moved the attribute.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/utkface.h"

namespace fc::train {

struct JudgeOptions {
  int size = 64;    // input side; inputs of other sizes are resized
  int width = 16;   // channels of the first conv layer
  int steps = 400;  // Adam steps for each of the two networks
  int batch = 32;
  double lr = 1e-3;
  uint64_t seed = 1;
  int threads = 2;        // decoding threads; torch runs at the caller's count (use_torch_threads)
  int max_images = 6000;  // cap on the training images decoded into memory (0: all)
  int race_classes = 5;   // UTKFace: 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others
};

struct AttributeJudge {
  JudgeOptions options;
  nlohmann::json metrics = nlohmann::json::object();  // heldout age_mae, race_accuracy, counts
  // x: [N,3,H,W] float RGB in [-1,1] (any H, W; resized to options.size). Eval mode, no grad.
  torch::Tensor age(const torch::Tensor& x);                  // [N] years
  torch::Tensor race_prob(const torch::Tensor& x, int race);  // [N] P(race)
  torch::Tensor race_logits(const torch::Tensor& x);          // [N, race_classes]

  struct Nets;
  std::shared_ptr<Nets> nets;
};

// metric(name, value, step) receives "judge/age_l1", "judge/race_ce" while training and
// "judge/heldout_age_mae", "judge/heldout_race_accuracy" at the end. Throws
// std::invalid_argument when train is empty.
AttributeJudge train_judge(const std::vector<FaceRecord>& train,
                           const std::vector<FaceRecord>& heldout, const JudgeOptions& options,
                           std::function<void(std::string, double, long)> metric = nullptr);

// PATH.pt (torch::save archive of both networks) and PATH.json beside it (options + metrics).
void save_judge(const AttributeJudge& judge, const std::string& path);
AttributeJudge load_judge(const std::string& path);    // throws std::runtime_error naming the file
std::string judge_json_path(const std::string& path);  // NAME.pt -> NAME.json

// Face images as a [N,3,size,size] float RGB tensor in [-1,1] (for held-out evaluation sets).
torch::Tensor load_face_tensor(const std::vector<FaceRecord>& records, int size, int threads = 2);

}  // namespace fc::train
