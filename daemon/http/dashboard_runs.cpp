// Training runs as the dashboard compares them (their metrics.csv, thinned for a plot; their
// stages and evaluations) and the models with their cards.
#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

#include "facecycle/core/text_fields.h"
#include "http/dashboard_api.h"
#include "service/job_files.h"
#include "text_limits.h"

namespace fcd::http {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxCsvBytes = 64 << 20;  // ~100,000 steps of 60 metrics
constexpr int kDefaultPoints = 500;
constexpr int kMaxPoints = 4000;
constexpr int64_t kMaxCardBytes = 1 << 20;

// metrics.csv in at most `points` rows: each row the mean of a run of consecutive steps (at the
// last of them), so a 100,000-step run is drawn from a few hundred points and keeps its shape.
json thin_csv(std::string_view text, int points) {
  auto lines = fc::split_fields(text, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return {{"columns", json::array()}, {"steps", json::array()}, {"rows", 0}};
  const auto header = fc::split_fields(lines[0], ',');
  const size_t rows = lines.size() - 1, cols = header.size();
  const size_t bucket = std::max<size_t>(1, (rows + points - 1) / points);
  json steps = json::array();
  std::vector<json> series(cols, json::array());
  std::vector<double> sum(cols);
  std::vector<int> n(cols);
  for (size_t r = 0; r < rows; ++r) {
    const auto cells = fc::split_fields(lines[r + 1], ',');
    for (size_t c = 1; c < cols && c < cells.size(); ++c) {
      if (cells[c].empty()) continue;
      const double v = std::strtod(std::string(cells[c]).c_str(), nullptr);
      if (!std::isfinite(v)) continue;
      sum[c] += v;
      ++n[c];
    }
    if ((r + 1) % bucket != 0 && r + 1 != rows) continue;
    steps.push_back(cells.empty() ? 0.0 : std::strtod(std::string(cells[0]).c_str(), nullptr));
    for (size_t c = 1; c < cols; ++c) {
      series[c].push_back(n[c] ? json(sum[c] / n[c]) : json());
      sum[c] = 0;
      n[c] = 0;
    }
  }
  json columns = json::array(), by_name = json::object();
  for (size_t c = 1; c < cols; ++c) {
    const std::string name(header[c]);
    columns.push_back(name);
    by_name[name] = std::move(series[c]);
  }
  return {{"columns", columns}, {"steps", steps}, {"series", by_name}, {"rows", rows}};
}

std::string read_capped(const fs::path& path, int64_t cap) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || static_cast<int64_t>(size) > cap) return {};
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

json stages_of(const std::string& config_toml) {
  json out = json::array();
  try {
    const toml::table t = toml::parse(config_toml);
    const toml::array* stages = t["stages"].as_array();
    if (!stages) return out;
    int64_t start = 0;
    for (const auto& node : *stages) {
      const toml::table* s = node.as_table();
      if (!s) continue;
      const int64_t steps = (*s)["steps"].value_or(int64_t{1000});
      out.push_back({{"size", (*s)["size"].value_or(int64_t{64})},
                     {"steps", steps},
                     {"batch", (*s)["batch"].value_or(int64_t{4})},
                     {"start", start}});
      start += steps;
    }
  } catch (const std::exception&) {
    // The trainer accepted the config; a text this parser refuses just has no stage marks.
  }
  return out;
}

json DashboardApi::metrics(const User& u, int64_t id, const Query& q) {
  const JobRecord j = accessible_job(u, id);
  const int points = static_cast<int>(query_int(q, "points", kDefaultPoints, 2, kMaxPoints));
  if (j.kind != JobKind::kTrain)
    throw ApiError(bhttp::status::not_found,
                   "job " + std::to_string(id) + " is not a training run");
  int64_t size = 0;
  int fd = -1;
  try {
    fd = open_job_file(job_folder(d_.jobs_dir, j.id), "metrics.csv", kMaxCsvBytes, size);
  } catch (const JobFileError& e) {
    // No metrics yet (queued, or the first step not logged): an empty plot, not an error.
    if (e.kind == JobFileError::kMissing) return thin_csv("", points);
    throw ApiError(e.kind == JobFileError::kTooLarge ? bhttp::status::payload_too_large
                                                     : bhttp::status::forbidden,
                   e.what());
  }
  return thin_csv(read_and_close(fd, size), points);
}

json DashboardApi::compare(const User& u, const Query& q) {
  auto it = q.find("ids");
  const std::string ids = it == q.end() ? "" : it->second;
  std::vector<int64_t> list;
  for (auto part : fc::split_fields(ids, ',')) {
    const int64_t id = parse_job_id(std::string(part));
    if (std::find(list.begin(), list.end(), id) == list.end()) list.push_back(id);
    if (list.size() > 4) break;
  }
  if (list.size() < 2 || list.size() > 4)
    throw ApiError(bhttp::status::bad_request, "ids must name 2 to 4 different training runs");
  json runs = json::array();
  for (int64_t id : list) {
    const JobRecord j = accessible_job(u, id);
    if (j.kind != JobKind::kTrain)
      throw ApiError(bhttp::status::bad_request,
                     "job " + std::to_string(id) + " is a transform job, not a training run");
    json t = train_json(j);
    runs.push_back(
        {{"job", job_json(j)}, {"evaluation", t["evaluation"]}, {"stages", t["stages"]}});
  }
  return {{"runs", runs}};
}

json DashboardApi::models() {
  // Through the registry's catalogue, not the data dir's SQLite file: with a PostgreSQL store the
  // catalogue is in the shared database (docs/SCALE.md). The card is read again, capped.
  const std::string active = d_.models.active_name();
  auto current = d_.models.current();
  json list = json::array();
  for (const auto& info : d_.models.list()) {
    const std::string& name = info.name;
    json card =
        json::parse(read_capped(fs::path(info.path).replace_extension(".card.json"), kMaxCardBytes),
                    nullptr, false);
    json m{{"name", name},
           {"registered_ms", info.registered_ms},
           {"active", name == active},
           {"card", card.is_object() ? card : json()}};
    if (name == active && current) {
      m["device"] = current->device();
      m["precision"] = current->precision();
    }
    list.push_back(std::move(m));
  }
  return {{"active", active}, {"models", list}};
}

}  // namespace fcd::http
