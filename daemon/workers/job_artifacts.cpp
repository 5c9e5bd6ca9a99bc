#include "workers/job_artifacts.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "facecycle/core/image_io.h"
#include "workers/face_report.h"
#include "workers/output_guard.h"
#include "workers/publish.h"
#include "workers/transform_plan.h"

namespace fcd {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kSheetPairs = 16;
constexpr int kSheetCell = 256;

// Serialises appends and name choices: two workers finishing at once must not both create
// the manifest, or interleave rows.
std::mutex manifest_mu;

// <output_dir>/<stem>_job<N><ext>, or with -2, -3, ... when another file holds the name.
std::string artifact_path(const JobRecord& job, const std::string& stem, const std::string& ext,
                          const std::function<bool(const std::string&)>& ours) {
  const std::string base = stem + "_job" + std::to_string(job.id);
  for (int n = 1; n <= 100; ++n) {
    std::string p =
        (fs::path(job.output_dir) / (base + (n == 1 ? "" : "-" + std::to_string(n)) + ext))
            .string();
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(p, ec)) || ours(p)) return p;
  }
  throw std::runtime_error("no free name for " + base + ext + " in " + job.output_dir);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A JSONL manifest is this job's when its first row names it.
bool jsonl_is_ours(const JobRecord& job, const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(path, ec))) return false;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  json j = json::parse(first, nullptr, false);
  return j.is_object() && j.value("job", -1LL) == job.id &&
         j.value("job_created_ms", -1LL) == job.created_ms;
}

// The CSV this job wrote when it last ended, as its result recorded it: a retry rewrites that
// file. Its header must still be ours, so a file someone put there instead is kept.
bool csv_was_ours(const JobRecord& job, const std::string& path, const std::string& header) {
  json result = json::parse(job.result_json.empty() ? "{}" : job.result_json, nullptr, false);
  if (!result.is_object() || !result.contains("manifest") || !result["manifest"].is_object())
    return false;
  if (result["manifest"].value("csv", "") != path) return false;
  std::ifstream in(path);
  std::string first;
  return std::getline(in, first) && first + "\n" == header;
}

std::string csv_field(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

json manifest_row(const JobRecord& job, const ItemRecord& item) {
  json report = json::parse(item.report_json.empty() ? "{}" : item.report_json, nullptr, false);
  if (!report.is_object()) report = json::object();
  const bool skipped = report.contains("skipped");
  json row{{"job", job.id},
           {"job_created_ms", job.created_ms},
           {"index", item.idx},
           {"input", item.input},
           {"output", item.state == ItemState::kSucceeded ? item.output : ""},
           {"state", skipped ? "skipped" : enum_name(item.state)},
           {"error", skipped ? report.value("skipped", "") : item.error},
           {"faces_found", report.contains("faces_found") ? report["faces_found"] : json()},
           {"faces_edited", report.contains("faces_edited") ? report["faces_edited"] : json()},
           {"sha256", report.value("sha256", "")},
           {"model", report.value("model", "")}};
  if (report.contains("faces")) row["faces"] = report["faces"];  // JSON Lines only, not the CSV
  return row;
}

json models_used(const std::vector<ItemRecord>& items) {
  json used = json::object();
  for (const auto& it : items) {
    if (it.state != ItemState::kSucceeded) continue;
    json report = json::parse(it.report_json.empty() ? "{}" : it.report_json, nullptr, false);
    const std::string model = report.is_object() ? report.value("model", "") : "";
    if (!model.empty()) used[model] = used.value(model, 0) + 1;
  }
  return used;
}

void append_manifest_row(const JobRecord& job, ItemRecord item, ItemOutcome outcome,
                         const std::string& error, const std::string& report_json) {
  item.state = item_state(outcome);
  item.error = error;
  item.report_json = report_json;
  try {
    const std::string line = manifest_row(job, item).dump() + "\n";
    std::lock_guard<std::mutex> lk(manifest_mu);
    std::string path = artifact_path(job, "manifest", ".jsonl",
                                     [&](const std::string& p) { return jsonl_is_ours(job, p); });
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)  // first row: create it, and only if still nobody has
      fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, line.data(), line.size());  // one write: rows never interleave
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size())) throw std::runtime_error("short write to " + path);
  } catch (const std::exception& e) {
    spdlog::warn("job {} item {}: manifest row not written: {}", job.id, item.idx, e.what());
  }
}

std::pair<std::string, std::string> write_manifests(const JobRecord& job,
                                                    const std::vector<ItemRecord>& items) {
  static const std::vector<std::string> cols{"index",        "input",  "output",
                                             "state",        "error",  "faces_found",
                                             "faces_edited", "sha256", "model"};
  std::string jsonl, csv;
  for (size_t c = 0; c < cols.size(); ++c) csv += (c ? "," : "") + cols[c];
  csv += "\n";
  const std::string header = csv;
  for (const auto& it : items) {
    json row = manifest_row(job, it);
    jsonl += row.dump() + "\n";
    for (size_t c = 0; c < cols.size(); ++c) csv += (c ? "," : "") + csv_field(row[cols[c]]);
    csv += "\n";
  }
  std::lock_guard<std::mutex> lk(manifest_mu);
  // Rows appended as items ran may repeat an item that ran again after a crash: the complete
  // file replaces them, and only a file this job wrote is replaced.
  auto jsonl_ours = [&](const std::string& p) { return jsonl_is_ours(job, p); };
  std::string jsonl_path = artifact_path(job, "manifest", ".jsonl", jsonl_ours);
  publish_text(jsonl_path, jsonl, jsonl_ours);
  // A CSV with exactly this text is this job's (written before a crash); replacing it loses
  // nothing. So is the one it wrote before a retry.
  auto csv_same = [&](const std::string& p) {
    return read_text(p) == csv || csv_was_ours(job, p, header);
  };
  std::string csv_path = artifact_path(job, "manifest", ".csv", csv_same);
  publish_text(csv_path, csv, csv_same);
  return {jsonl_path, csv_path};
}

namespace {

// Indices of up to `k` entries spread evenly over `n`, first and last included.
std::vector<size_t> spread(size_t n, size_t k) {
  std::vector<size_t> out;
  if (n == 0) return out;
  k = std::min(n, k);
  for (size_t i = 0; i < k; ++i) out.push_back(k == 1 ? 0 : i * (n - 1) / (k - 1));
  return out;
}

// One sheet row: the label over the before/after pair.
cv::Mat labelled_pair(const cv::Mat& before, const cv::Mat& after, const std::string& label) {
  cv::Mat pair = fc::make_before_after_sheet({{before, after}}, kSheetCell);
  cv::Mat strip(26, pair.cols, CV_8UC3, cv::Scalar(40, 40, 40));
  std::string text = label;
  int base = 0;
  while (text.size() > 4 &&
         cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.55, 1, &base).width > pair.cols - 12)
    text = text.substr(0, text.size() - 4) + "...";
  cv::putText(strip, text, {8, 19}, cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(120, 220, 255), 1,
              cv::LINE_AA);
  cv::Mat row;
  cv::vconcat(strip, pair, row);
  return row;
}

bool sheet_is_ours(const JobRecord& job, const std::string& path) {
  try {
    auto m = fc::read_image_metadata(path);
    auto want = origin_metadata(job, -1);
    return m["job"] == want["job"] && m["job_created_ms"] == want["job_created_ms"] &&
           m["content"] == "before/after sheet";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string write_contact_sheet(const JobRecord& job, const std::vector<ItemRecord>& items) {
  auto spec = TransformSpec::from_json(json::parse(job.request_json, nullptr, false));
  const std::string how = spec.task + (spec.reverse ? " reverse" : " forward");
  std::vector<const ItemRecord*> done;
  for (const auto& it : items)
    if (it.state == ItemState::kSucceeded) done.push_back(&it);
  std::vector<cv::Mat> rows;
  int width = 0;
  for (size_t i : spread(done.size(), kSheetPairs)) {
    try {
      const auto& it = *done[i];
      const json report =
          json::parse(it.report_json.empty() ? "{}" : it.report_json, nullptr, false);
      const json faces = report.is_object() ? report.value("faces", json()) : json();
      // The faces are marked on the "before" side, so the edit itself is seen unobstructed.
      rows.push_back(labelled_pair(mark_faces(fc::read_image(it.input).bgr, faces),
                                   fc::read_image(it.output).bgr,
                                   fs::path(it.output).filename().string() + "  " + how));
      width = std::max(width, rows.back().cols);
    } catch (const std::exception&) {
      // An input changed since; the sheet shows the others.
    }
  }
  if (rows.empty()) return {};
  for (auto& r : rows)  // pad to one width so the rows stack
    if (r.cols < width)
      cv::copyMakeBorder(r, r, 0, 0, 0, width - r.cols, cv::BORDER_CONSTANT,
                         cv::Scalar(40, 40, 40));
  cv::Mat sheet;
  cv::vconcat(rows, sheet);
  auto ours = [&](const std::string& p) { return sheet_is_ours(job, p); };
  std::string path = artifact_path(job, "contact_sheet", ".png", ours);
  auto meta = origin_metadata(job, -1);
  meta["facecycle"] = "machine-edited";
  meta["content"] = "before/after sheet";
  publish_image(path, sheet, "png", meta, ours);
  return path;
}

}  // namespace fcd
