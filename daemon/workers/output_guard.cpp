#include "workers/output_guard.h"

#include <filesystem>
#include <unordered_set>

#include "facecycle/core/image_io.h"
#include "facecycle/core/model_card.h"
#include "text_limits.h"
#include "workers/publish.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kListedConflicts = 5;

std::map<std::string, std::string> metadata_of(const std::string& path) {
  try {
    return fc::read_image_metadata(path);
  } catch (const std::exception&) {
    return {};  // not an image of ours (or unreadable): owns nothing
  }
}

std::string get(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? "" : it->second;
}

bool exists_no_follow(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

bool regular_no_follow(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(path, ec));
}

const char* kFlagsHint =
    "--skip-existing keeps outputs made by the same model (and calibration), task, direction, "
    "strength and choice of faces (the model's gate, or --all-faces); --overwrite replaces outputs "
    "your own earlier jobs wrote; or choose another output folder";

}  // namespace

std::map<std::string, std::string> origin_metadata(const JobRecord& job, int idx) {
  return {{"job", std::to_string(job.id)},
          {"job_created_ms", std::to_string(job.created_ms)},
          {"item", std::to_string(idx)}};
}

bool written_by_item(const std::string& path, const JobRecord& job, int idx) {
  if (!regular_no_follow(path)) return false;
  auto m = metadata_of(path);
  return get(m, "job") == std::to_string(job.id) &&
         get(m, "job_created_ms") == std::to_string(job.created_ms) &&
         get(m, "item") == std::to_string(idx);
}

bool written_by_owner(JobStore& queue, const std::string& owner, const std::string& path) {
  if (!regular_no_follow(path)) return false;
  auto reports = queue.output_reports(owner, path);
  if (reports.empty()) return false;
  std::string sha;
  try {
    sha = sha256_file(path);
  } catch (const std::exception&) {
    return false;
  }
  for (const auto& r : reports) {
    json j = json::parse(r, nullptr, false);
    if (j.is_object() && j.value("sha256", "") == sha) return true;
  }
  return false;
}

EditMaker edit_maker(fc::FaceTranslator* model, const TransformSpec& spec) {
  if (!model) return {};
  const fc::Condition* c = model->card().find_condition(spec.task, spec.reverse);
  if (!c) return {model->card().name, 1.0, 0, {}};
  EditMaker maker{model->card().name, c->scale, c->change_blur, {}};
  if (!spec.all_faces && !spec.whole_image) {
    const fc::TargetReading gate = model->read_target({}, spec.task, spec.reverse);
    if (gate.gated()) maker.gate = strength_text(gate.skip_at);
  }
  return maker;
}

bool same_edit(const std::string& path, const EditMaker& maker, const TransformSpec& spec) {
  if (!regular_no_follow(path)) return false;
  auto m = metadata_of(path);
  const std::string kind = get(m, "facecycle");
  const auto or_one = [](const std::string& v) { return v.empty() ? std::string("1") : v; };
  return (kind == "machine-edited" || kind == "unchanged") && get(m, "model") == maker.model &&
         get(m, "task") == spec.task &&
         get(m, "direction") == fc::enum_name(fc::direction_of(spec.reverse)) &&
         or_one(get(m, "strength")) == strength_text(spec.strength) &&
         or_one(get(m, "scale")) == strength_text(maker.scale) &&
         get(m, "change_blur") == (maker.change_blur ? std::to_string(maker.change_blur) : "") &&
         get(m, "gate") == maker.gate;
}

void check_existing_outputs(const TransformPlan& plan, const TransformSpec& spec,
                            const std::string& owner, const EditMaker& maker, JobStore& queue) {
  std::unordered_set<std::string> inputs;
  for (const auto& it : plan.items) {
    std::error_code ec;
    auto c = fs::canonical(it.input, ec);
    if (!ec) inputs.insert(c.string());
  }
  std::vector<std::string> conflicts;
  size_t n = 0;
  for (const auto& it : plan.items) {
    if (!exists_no_follow(it.output)) continue;
    std::string why;
    if (inputs.count(it.output))
      why = " (an input of this job: choose another output folder)";
    else if (spec.skip_existing && same_edit(it.output, maker, spec))
      continue;
    else if (spec.overwrite && written_by_owner(queue, owner, it.output))
      continue;
    if (++n <= kListedConflicts) conflicts.push_back(clip(it.output) + why);
  }
  if (n == 0) return;
  std::string msg = std::to_string(n) +
                    " output(s) already exist and this job may not replace "
                    "them (no job replaces a file it did not write):";
  for (const auto& c : conflicts) msg += "\n  " + c;
  if (n > conflicts.size()) msg += "\n  ... and " + std::to_string(n - conflicts.size()) + " more";
  throw InvalidRequest(msg + "\n" + kFlagsHint);
}

ExistingOutput check_existing_output(const std::string& output, const std::string& input,
                                     const Claim& claim, const TransformSpec& spec,
                                     const EditMaker& maker, JobStore& queue) {
  if (!exists_no_follow(output)) return ExistingOutput::kAbsent;
  if (output == input)
    throw std::runtime_error(output + " is this item's input; it is never replaced");
  if (written_by_item(output, claim.job, claim.item.idx)) return ExistingOutput::kReplaceable;
  if (spec.skip_existing && same_edit(output, maker, spec)) return ExistingOutput::kSkip;
  if (spec.overwrite && written_by_owner(queue, claim.job.owner, output))
    return ExistingOutput::kReplaceable;
  throw std::runtime_error(output +
                           " already exists and was not written by this job; it was "
                           "left as it is (" +
                           kFlagsHint + ")");
}

}  // namespace fcd
