#include "workers/transform_plan.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "facecycle/core/image_io.h"
#include "facecycle/core/translator.h"
#include "text_limits.h"
#include "workers/input_walk.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

json TransformSpec::to_json() const {
  return {{"inputs", inputs},       {"output_dir", output_dir},
          {"task", task},           {"format", format},
          {"reverse", reverse},     {"whole_image", whole_image},
          {"overwrite", overwrite}, {"skip_existing", skip_existing},
          {"recursive", recursive}, {"strength", strength},
          {"all_faces", all_faces}};
}

TransformSpec TransformSpec::from_json(const json& j) {
  TransformSpec s;
  s.inputs = j.value("inputs", std::vector<std::string>{});
  s.output_dir = j.value("output_dir", "");
  s.task = j.value("task", "");
  s.format = j.value("format", "same");
  s.reverse = j.value("reverse", false);
  s.whole_image = j.value("whole_image", false);
  s.overwrite = j.value("overwrite", false);
  s.skip_existing = j.value("skip_existing", false);
  s.recursive = j.value("recursive", false);
  s.strength = j.value("strength", 1.0);
  s.all_faces = j.value("all_faces", false);
  return s;
}

std::string strength_text(double strength) {
  char s[32];
  std::snprintf(s, sizeof s, "%g", strength);
  return s;
}

namespace {

// The tasks the loaded stages declare, in load order, for messages.
std::string known_tasks(const PluginHost& plugins) {
  std::vector<std::string> tasks;
  for (const auto& p : plugins.plugins())
    if (!p.task.empty() && std::find(tasks.begin(), tasks.end(), p.task) == tasks.end())
      tasks.push_back(p.task);
  std::string out;
  for (const auto& t : tasks) out += (out.empty() ? "" : ", ") + t;
  return out.empty() ? "none loaded" : out;
}

}  // namespace

Pipeline pipeline_for(const Config& config, const PluginHost& plugins, const std::string& task,
                      bool whole_image) {
  const std::string key = whole_image ? "whole_image" : "transform";
  auto it = config.pipelines.find(key);
  if (it == config.pipelines.end() || it->second.empty())
    throw InvalidRequest("no pipeline '" + key + "' is configured ([pipelines] " + key + ")");
  Pipeline out;
  for (auto name : it->second) {
    bool templated = false;
    if (auto pos = name.find("{task}"); pos != std::string::npos) {
      name.replace(pos, 6, task);
      templated = true;
    }
    const auto* p = plugins.find(name);
    if (!p || p->kind != fc::PluginKind::kStage) {
      if (templated)
        throw InvalidRequest("unknown task '" + clip(task) + "' (no stage plugin '" + clip(name) +
                             "'); known tasks: " + known_tasks(plugins));
      throw InvalidRequest("the '" + key + "' pipeline needs stage '" + name +
                           "', which is not loaded (see `facecycle plugins`)");
    }
    // What a stage serves is what it declares, whatever its name says.
    if (templated && p->task != task)
      throw InvalidRequest("unknown task '" + clip(task) + "' (stage plugin '" + clip(name) +
                           "' declares " +
                           (p->task.empty() ? std::string("no task") : "task '" + p->task + "'") +
                           "); known tasks: " + known_tasks(plugins));
    if (!p->task.empty() && p->task != task)
      throw InvalidRequest("the '" + key + "' pipeline's stage '" + name + "' serves task '" +
                           p->task + "', not '" + clip(task) + "' ([pipelines] " + key + ")");
    out.translates = out.translates || !p->task.empty();
    out.stages.push_back(name);
  }
  return out;
}

namespace {

// Reasons listed in a refusal; the rest are counted.
constexpr size_t kMaxListedReasons = 20;

// Output names that do not collide: two inputs with the same stem (a.jpg, a.png, or a.png in
// two folders) must not overwrite each other's output. Each base name remembers the next
// suffix to try, so n inputs named alike cost O(n), not O(n^2).
class OutputNames {
 public:
  std::string unique(const std::string& name) {
    if (taken_.insert(name).second) return name;
    // The sub-folder stays: a/x.png becomes a/x-2.png, not x-2.png.
    const std::string stem = (fs::path(name).parent_path() / fs::path(name).stem()).string();
    const std::string ext = fs::path(name).extension().string();
    int& n = next_[name];
    if (n < 2) n = 2;
    std::string candidate;
    do candidate = stem + "-" + std::to_string(n++) + ext;
    while (!taken_.insert(candidate).second);
    return candidate;
  }

 private:
  std::unordered_set<std::string> taken_;
  std::unordered_map<std::string, int> next_;
};

// The output folder's canonical path without creating it (check_output_dir creates).
std::string resolve_output_dir(const AllowedRoots& roots, const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return roots.check_output_dir(path);  // nothing to create
  auto w = fs::weakly_canonical(fs::absolute(path), ec);
  // Outside the roots: check_output_dir refuses before creating, with the full message.
  if (ec || !roots.contains(w.string())) return roots.check_output_dir(path);
  return w.string();
}

}  // namespace

void create_output_dir(TransformPlan& plan, const AllowedRoots& roots) {
  std::string made;
  try {
    made = roots.check_output_dir(plan.output_dir);
  } catch (const PathError& e) {
    throw InvalidRequest(e.what());
  }
  if (made != plan.output_dir)
    throw InvalidRequest(clip(plan.output_dir) +
                         ": the output folder changed while the request "
                         "was checked (now " +
                         clip(made) + "); submit again");
}

TransformPlan plan_transform(const TransformSpec& spec, const Config& config,
                             const PluginHost& plugins, const AllowedRoots& roots) {
  if (spec.inputs.empty())
    throw InvalidRequest("no inputs: give one or more image files or folders");
  if (spec.inputs.size() > kMaxTransformItems)
    throw InvalidRequest("the request names " + std::to_string(spec.inputs.size()) +
                         " inputs, more than the limit of " + std::to_string(kMaxTransformItems) +
                         " per job: split it into several");
  if (spec.task.empty())
    throw InvalidRequest("no task: choose one, e.g. --task age or --task race");
  static const std::set<std::string> formats{"", "same", "png", "jpg", "jpeg"};
  if (!formats.count(spec.format))
    throw InvalidRequest("unknown output format '" + clip(spec.format) + "': use png, jpg or same");
  if (!(spec.strength > 0 && spec.strength <= fc::kMaxEditStrength))  // NaN fails too
    throw InvalidRequest("--strength " + strength_text(spec.strength) +
                         " is out of range: give a number above 0 and at most " +
                         strength_text(fc::kMaxEditStrength) +
                         " (1 = the model as shipped, 1.5 = half as far again)");
  pipeline_for(config, plugins, spec.task, spec.whole_image);
  if (spec.output_dir.empty()) throw InvalidRequest("no output folder: give one with --output DIR");

  TransformPlan plan;
  try {
    plan.output_dir = resolve_output_dir(roots, spec.output_dir);
  } catch (const PathError& e) {
    throw InvalidRequest(e.what());
  }

  // Every named file becomes an item (a bad one fails with its reason); folders are expanded.
  std::vector<InputFile> files;
  for (const auto& in : spec.inputs) {
    std::error_code ec;
    // Outside the roots a folder is refused as any path is: a text of its own ("folder
    // outside ...") told a client which server folders exist.
    auto c = fs::canonical(in, ec);
    if (!ec && roots.contains(c.string()) && fs::is_directory(c, ec))
      expand_folder(in, c.string(), spec.recursive, roots, files, plan.warnings);
    else
      files.push_back({in, ""});
  }

  if (files.size() > kMaxTransformItems)
    throw InvalidRequest("the request names " + std::to_string(files.size()) +
                         " images (folders expanded), more than the limit of " +
                         std::to_string(kMaxTransformItems) + " per job: split it into several");
  int valid = 0;
  OutputNames names;
  for (const auto& [f, rel_dir] : files) {
    std::string fmt = "png";
    try {
      roots.check_read(f);
      ++valid;
      std::string ext = fs::path(f).extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      fmt = fc::output_format(spec.format.empty() ? "same" : spec.format,
                              ext.empty() ? "" : ext.substr(1));
    } catch (const PathError& e) {
      plan.warnings.push_back(e.what());
      fmt = fc::output_format(spec.format.empty() ? "same" : spec.format, "png");
    }
    // Sub-folders keep their names apart: a/x.jpg and b/x.jpg go to a/ and b/ under the output.
    std::string name = names.unique((fs::path(rel_dir) / fc::output_file_name(f, fmt)).string());
    plan.items.push_back({f, (fs::path(plan.output_dir) / name).string()});
  }
  if (valid == 0) {
    std::string why;
    for (size_t i = 0; i < plan.warnings.size() && i < kMaxListedReasons; ++i)
      why += "\n  " + plan.warnings[i];
    if (plan.warnings.size() > kMaxListedReasons)
      why += "\n  ... and " + std::to_string(plan.warnings.size() - kMaxListedReasons) + " more";
    throw InvalidRequest("no usable input image" + (why.empty() ? std::string() : ":" + why));
  }
  return plan;
}

}  // namespace fcd
