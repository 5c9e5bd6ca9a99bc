// Turning a SubmitTransform request into items, and the stage list a transform item runs.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "job_queue.h"
#include "paths.h"
#include "plugin_host.h"

namespace fcd {

// A request the user must fix; becomes INVALID_ARGUMENT.
struct InvalidRequest : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Items one transform request may hold: the queue inserts them in one transaction, and a job
// that large is better split anyway.
inline constexpr size_t kMaxTransformItems = 100'000;

struct TransformSpec {
  std::vector<std::string> inputs;
  std::string output_dir, task, format = "same";
  bool reverse = false, whole_image = false;

  nlohmann::json to_json() const;
  static TransformSpec from_json(const nlohmann::json& j);
};

struct TransformPlan {
  std::string output_dir;  // canonical, created
  std::vector<NewItem> items;
  std::vector<std::string> warnings;  // inputs dropped, with reasons
};

// The stages for a request: the configured pipeline with "{task}" replaced. Throws
// InvalidRequest for an unknown task (no such generate-TASK plugin) or a missing stage.
std::vector<std::string> pipeline_for(const Config& config, const PluginHost& plugins,
                                      const std::string& task, bool whole_image);

// Validates everything and expands folders; throws InvalidRequest when no item remains.
TransformPlan plan_transform(const TransformSpec& spec, const Config& config,
                             const PluginHost& plugins, const AllowedRoots& roots);

}  // namespace fcd
