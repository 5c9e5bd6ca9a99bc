// Turning a SubmitTransform request into items, and the stage list a transform item runs.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "store/job_store.h"

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
  double strength = 1.0;  // scales the model's change: 1 as shipped (FaceTranslator::translate)
  // Existing outputs: replace the owner's own earlier ones (--overwrite); keep those made by the
  // same model, task and direction (--skip-existing). Neither: an existing output refuses the job.
  bool overwrite = false, skip_existing = false;
  bool recursive = false;  // walk sub-folders, mirroring them under the output folder
  // Edit faces the model's domain gate reads as already the target too (PhotoItem::all_faces).
  bool all_faces = false;

  nlohmann::json to_json() const;
  static TransformSpec from_json(const nlohmann::json& j);
};

// The strength as metadata and messages spell it: "1", "1.5".
std::string strength_text(double strength);

struct TransformPlan {
  std::string output_dir;  // canonical where it exists; create_output_dir makes it
  std::vector<NewItem> items;
  std::vector<std::string> warnings;  // inputs dropped, with reasons
};

struct Pipeline {
  std::vector<std::string> stages;
  bool translates = false;  // a stage serves the task: the item needs a model that knows it
};

// The stages for a request: the configured pipeline with "{task}" replaced. Throws
// InvalidRequest for an unknown task (no stage of that name, or one that does not declare the
// task through the plugin ABI) or a missing stage.
Pipeline pipeline_for(const Config& config, const PluginHost& plugins, const std::string& task,
                      bool whole_image);

// Validates everything and expands folders; throws InvalidRequest when no item remains.
// Creates nothing: a refused request must not leave an empty output folder behind.
TransformPlan plan_transform(const TransformSpec& spec, const Config& config,
                             const PluginHost& plugins, const AllowedRoots& roots);

// Creates the plan's output folder once the request is accepted. Throws InvalidRequest when it
// now resolves elsewhere (a symlink swapped in since planning).
void create_output_dir(TransformPlan& plan, const AllowedRoots& roots);

}  // namespace fcd
