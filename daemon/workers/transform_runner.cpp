#include "workers/transform_runner.h"

#include <chrono>
#include <filesystem>
#include <opencv2/core.hpp>

#include "facecycle/core/image_io.h"
#include "models/model_registry.h"
#include "service/path_user.h"
#include "workers/face_report.h"
#include "workers/output_guard.h"
#include "workers/publish.h"
#include "workers/transform_plan.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

fc::Stage& StageCache::get(const std::string& name) {
  auto it = stages_.find(name);
  if (it == stages_.end()) it = stages_.emplace(name, host_.create_stage(name)).first;
  return *it->second;
}

void StageCache::run(const std::string& name, fc::PhotoItem& item, fc::HostContext& ctx) {
  fc::Stage& stage = get(name);
  const auto start = std::chrono::steady_clock::now();
  stage.process(item, ctx);
  if (metrics_)
    metrics_->stage_done(
        name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

namespace {

// Encodes with the metadata, then puts the file in place without replacing anything the item
// may not replace. Returns the SHA-256 of what was written.
std::string publish_output(const fc::PhotoItem& item, const std::string& input, const Claim& claim,
                           const TransformSpec& spec, const EditMaker& maker, JobStore& queue) {
  const std::string& output = item.output_path;
  std::string ext = fs::path(output).extension().string();
  std::string fmt = ext == ".jpg" || ext == ".jpeg" ? "jpg" : "png";
  // A photo the pipeline left pixel-identical (e.g. no face found) is not marked as edited.
  const bool unchanged = item.result.size() == item.image.size() &&
                         item.result.type() == item.image.type() &&
                         cv::norm(item.result, item.image, cv::NORM_INF) == 0;
  std::map<std::string, std::string> meta = origin_metadata(claim.job, claim.item.idx);
  meta["facecycle"] = unchanged ? "unchanged" : "machine-edited";
  meta["task"] = spec.task;
  meta["direction"] = fc::enum_name(fc::direction_of(spec.reverse));
  meta["strength"] = strength_text(spec.strength);
  if (!item.model_name.empty()) meta["model"] = item.model_name;
  if (maker.scale != 1.0) meta["scale"] = strength_text(maker.scale);  // the card's calibration
  if (maker.change_blur != 0) meta["change_blur"] = std::to_string(maker.change_blur);
  if (spec.all_faces) meta["all_faces"] = "1";  // faces the gate reads as the target, edited too
  if (!maker.gate.empty()) meta["gate"] = maker.gate;  // it left faces at or above this
  std::string sha;
  publish_file(
      output,
      [&](const std::string& staging) {
        fc::write_image_atomic(staging, item.result, fmt, meta);
        sha = sha256_file(staging);
      },
      [&](const std::string& existing) {  // throws, with the reason, when it may not
        return check_existing_output(existing, input, claim, spec, maker, queue) ==
               ExistingOutput::kReplaceable;
      });
  return sha;
}

// Before decoding: a model that was not trained for the task fails every photo, with or without
// faces, naming the tasks it knows. A card without conditions leaves that to its translator.
void check_model_knows(const fc::FaceTranslator* model, const TransformSpec& spec) {
  if (!model) throw std::runtime_error(kNoModelMessage);
  const fc::ModelCard& card = model->card();
  if (card.conditions.empty()) return;
  try {
    card.condition_id(spec.task, spec.reverse);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace

json run_transform_item(const Claim& claim, const Config& config, const PluginHost& plugins,
                        const AllowedRoots& any_user_roots, StageCache& stages,
                        fc::HostContext& ctx, JobStore& queue) {
  auto spec = TransformSpec::from_json(json::parse(claim.job.request_json));
  // Checked again at run time, as the job's owner: a symlink may have been swapped in since
  // submission.
  const AllowedRoots roots = any_user_roots.for_user(path_user_for(claim.job, queue));
  std::string input, output;
  try {
    input = roots.check_read(claim.item.input);
    // A --recursive job's sub-folders are made when their first item runs.
    roots.check_output_dir(fs::path(claim.item.output).parent_path().string());
    output = roots.check_write(claim.item.output);
  } catch (const PathError& e) {
    throw std::runtime_error(e.what());
  }
  const Pipeline pipeline = pipeline_for(config, plugins, spec.task, spec.whole_image);
  if (pipeline.translates) check_model_knows(ctx.model.get(), spec);
  const EditMaker maker = edit_maker(ctx.model.get(), spec);
  const std::string& model = maker.model;
  // Fails fast, before decoding, when the output is someone else's.
  if (check_existing_output(output, input, claim, spec, maker, queue) == ExistingOutput::kSkip)
    return {{"output", output},
            {"skipped",
             "the output exists, made by " + model + " with the same task, direction and strength"},
            {"sha256", sha256_file(output)},
            {"model", model}};

  fc::PhotoItem item;
  item.input_path = input;
  item.output_path = output;
  item.task = spec.task;
  item.reverse = spec.reverse;
  item.strength = spec.strength;
  item.all_faces = spec.all_faces;
  item.whole_image = spec.whole_image;
  item.format = spec.format.empty() ? "same" : spec.format;
  auto decoded = fc::read_image(input);  // throws fc::ImageError with a clear message
  item.image = decoded.bgr;
  item.model_name = model;

  for (const auto& name : pipeline.stages) {
    if (ctx.is_cancelled()) return {{"cancelled", true}};
    stages.run(name, item, ctx);
  }
  if (ctx.is_cancelled()) return {{"cancelled", true}};
  if (item.result.empty())
    throw std::runtime_error("the pipeline (" + pipeline.stages.front() +
                             " ...) produced no image");

  const std::string sha = publish_output(item, input, claim, spec, maker, queue);

  json report = face_report(item.faces);
  report["output"] = output;
  report["sha256"] = sha;
  report["stages"] = pipeline.stages;
  if (!item.model_name.empty()) report["model"] = item.model_name;
  for (const auto& [k, v] : item.report) report[k] = v;
  return report;
}

}  // namespace fcd
