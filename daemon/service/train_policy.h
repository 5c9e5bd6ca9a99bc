// What the daemon checks in a training config itself, before the trainer plugin sees it: the
// text's size and shape (toml_limits.h), the files it reads (the allowed roots, as for transform
// inputs) and the model name it writes (names belong to their owner). The trainer cannot be
// trusted with these: it would read any path and replace any model the daemon can.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/model_registry.h"
#include "paths.h"
#include "service/auth.h"

namespace fcd {

// The trainer's model_name when a config names none (fc::train::TrainConfig::model_name).
inline const char* kDefaultTrainedModelName = "facecycle";

struct TrainConfigFacts {
  std::string model_name;
  std::string run_name;           // "" when the config names none
  std::vector<std::string> tags;  // the config's tags
  // (key, path resolved as the trainer resolves it: relative to the config file's folder)
  std::vector<std::pair<std::string, std::string>> read_paths;
};

// Checks the limits, parses, and picks out model_name, run_name, tags, data.dir, warm_start and
// eval.judge_path. Throws std::invalid_argument naming the key or line.
TrainConfigFacts read_train_config_facts(const std::string& toml_text,
                                         const std::string& config_path);

// data.dir must be a folder under `roots`; warm_start and eval.judge_path files under `roots`
// or a models folder (any model a user can list may seed a training run). Throws
// std::invalid_argument naming the key.
void check_train_paths(const TrainConfigFacts& facts, const AllowedRoots& roots,
                       const std::vector<std::string>& model_dirs);

// Empty when `user` may train a model called `name`, else why not: a name that exists belongs
// to its owner, and shipped models to admins.
std::string model_name_refusal(const std::string& name, const User& user, ModelRegistry& models);

}  // namespace fcd
