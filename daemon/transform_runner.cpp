#include "transform_runner.h"

#include <filesystem>
#include <opencv2/core.hpp>

#include "facecycle/core/image_io.h"
#include "model_registry.h"
#include "transform_plan.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

fc::Stage& StageCache::get(const std::string& name) {
  auto it = stages_.find(name);
  if (it == stages_.end()) it = stages_.emplace(name, host_.create_stage(name)).first;
  return *it->second;
}

namespace {

json face_report(const std::vector<fc::Face>& faces) {
  json skipped = json::array();
  int edited = 0;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (!faces[i].skipped.empty())
      skipped.push_back({{"face", i}, {"reason", faces[i].skipped}});
    else if (!faces[i].generated.empty())
      ++edited;
  }
  return {{"faces_found", faces.size()}, {"faces_edited", edited}, {"faces_skipped", skipped}};
}

}  // namespace

json run_transform_item(const Claim& claim, const Config& config, const PluginHost& plugins,
                        const AllowedRoots& roots, StageCache& stages, fc::HostContext& ctx) {
  auto spec = TransformSpec::from_json(json::parse(claim.job.request_json));
  // Checked again at run time: a symlink may have been swapped in since submission.
  std::string input, output;
  try {
    input = roots.check_read(claim.item.input);
    output = roots.check_write(claim.item.output);
  } catch (const PathError& e) {
    throw std::runtime_error(e.what());
  }
  auto pipeline = pipeline_for(config, plugins, spec.task, spec.whole_image);

  for (const auto& name : pipeline)
    if (name.rfind("generate-", 0) == 0 && !ctx.model) throw std::runtime_error(kNoModelMessage);

  fc::PhotoItem item;
  item.input_path = input;
  item.output_path = output;
  item.task = spec.task;
  item.reverse = spec.reverse;
  item.whole_image = spec.whole_image;
  item.format = spec.format.empty() ? "same" : spec.format;
  auto decoded = fc::read_image(input);  // throws fc::ImageError with a clear message
  item.image = decoded.bgr;
  if (ctx.model) item.model_name = ctx.model->card().name;

  for (const auto& name : pipeline) {
    if (ctx.is_cancelled()) return {{"cancelled", true}};
    stages.get(name).process(item, ctx);
  }
  if (ctx.is_cancelled()) return {{"cancelled", true}};
  if (item.result.empty())
    throw std::runtime_error("the pipeline (" + pipeline.front() + " ...) produced no image");

  std::string ext = fs::path(output).extension().string();
  std::string fmt = ext == ".jpg" || ext == ".jpeg" ? "jpg" : "png";
  // A photo the pipeline left pixel-identical (e.g. no face found) is not marked as edited.
  const bool unchanged = item.result.size() == item.image.size() &&
                         item.result.type() == item.image.type() &&
                         cv::norm(item.result, item.image, cv::NORM_INF) == 0;
  std::map<std::string, std::string> meta{{"facecycle", unchanged ? "unchanged" : "machine-edited"},
                                          {"task", spec.task},
                                          {"direction", spec.reverse ? "reverse" : "forward"}};
  if (!item.model_name.empty()) meta["model"] = item.model_name;
  fc::write_image_atomic(output, item.result, fmt, meta);

  json report = face_report(item.faces);
  report["output"] = output;
  report["stages"] = pipeline;
  if (!item.model_name.empty()) report["model"] = item.model_name;
  for (const auto& [k, v] : item.report) report[k] = v;
  return report;
}

std::string write_contact_sheet(const std::string& output_dir,
                                const std::vector<ItemRecord>& items) {
  std::vector<std::pair<cv::Mat, cv::Mat>> pairs;
  for (const auto& it : items) {
    if (pairs.size() >= 16) break;
    if (it.state != "succeeded") continue;
    try {
      pairs.emplace_back(fc::read_image(it.input).bgr, fc::read_image(it.output).bgr);
    } catch (const std::exception&) {
      // An input changed since; the sheet shows the others.
    }
  }
  if (pairs.empty()) return {};
  std::string path = (fs::path(output_dir) / "contact_sheet.png").string();
  fc::write_image_atomic(path, fc::make_before_after_sheet(pairs), "png",
                         {{"facecycle", "machine-edited"}, {"content", "before/after sheet"}});
  return path;
}

}  // namespace fcd
