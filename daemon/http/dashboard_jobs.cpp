// The queue and one job, as the dashboard shows them.
#include <algorithm>

#include "http/dashboard_api.h"
#include "service/job_files.h"
#include "store/database.h"  // now_ms
#include "text_limits.h"

namespace fcd::http {

using nlohmann::json;

namespace {

// The open jobs are listed whole (up to this many per state), then the newest ended ones: a
// queue with 10,000 finished jobs still shows every job that is running.
constexpr int kMaxOpenJobs = 500;
constexpr int kDefaultEnded = 100;
constexpr int kMaxEnded = 1000;
constexpr int kDefaultItems = 24;
constexpr int kMaxItems = 200;
constexpr size_t kMaxConfigBytes = 256 * 1024;

json parse_object(const std::string& text) {
  json j = json::parse(text.empty() ? "{}" : text, nullptr, false);
  return j.is_object() ? j : json::object();
}

// A transform's items per second: items ended since it started, over the time it has run.
double items_per_second(const JobRecord& j) {
  if (j.kind != JobKind::kTransform || j.started_ms <= 0) return 0;
  const int64_t end = j.finished_ms > 0 ? j.finished_ms : now_ms();
  const double seconds = (end - j.started_ms) / 1000.0;
  return seconds >= 0.5 ? (j.items_done + j.items_failed) / seconds : 0;
}

// A run's final evaluation, cut to the numbers the runs table shows per task and direction
// (the full one, with its texture statistics, is a few KB: /api/jobs/ID has it).
json evaluation_headline(const JobRecord& j) {
  const json result = parse_object(j.result_json);
  json out = json::object();
  auto eval = result.find("evaluation");
  if (eval == result.end() || !eval->is_object() || !eval->contains("tasks")) return out;
  const json& tasks = (*eval)["tasks"];
  if (!tasks.is_object()) return out;
  for (const auto& [task, t] : tasks.items())
    for (const char* dir : {"forward", "reverse"}) {
      if (!t.is_object() || !t.contains(dir) || !t[dir].is_object()) continue;
      for (const char* key : {"judged_age_after", "frac_target_after"})
        if (t[dir].contains(key) && t[dir][key].is_number()) out[task][dir][key] = t[dir][key];
    }
  return out;
}

template <class E>
std::optional<E> enum_query(const Query& q, const std::string& key) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return std::nullopt;
  if (auto v = fc::enum_from_string<E>(it->second)) return v;
  throw ApiError(bhttp::status::bad_request, key + " must be one of " + fc::enum_choices<E>() +
                                                 ", not '" + clip(it->second, 40) + "'");
}

}  // namespace

JobRecord DashboardApi::accessible_job(const User& u, int64_t id) {
  auto j = queue().get_job(id);
  if (!j || !can_access(u, j->owner))
    throw ApiError(bhttp::status::not_found, "no job " + std::to_string(id) + " of yours");
  return *j;
}

json DashboardApi::last_progress(int64_t job_id) {
  auto e = queue().last_event(job_id, EventType::kProgress);
  return e && e->payload.is_object() ? e->payload : json::object();
}

json DashboardApi::job_json(const JobRecord& j) {
  const json req = parse_object(j.request_json);
  json tags = json::array();
  if (auto t = req.find("tags"); t != req.end() && t->is_array())
    for (const auto& tag : *t)
      if (tag.is_string()) tags.push_back(tag);
  auto text = [&](const char* key) {
    auto it = req.find(key);
    return it != req.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  json out = job_to_json(j);  // the fields a state event carries, plus the dashboard's own
  out.update({{"error", clip(j.error, 2000)},
              {"items_running", j.items_running},
              {"items_queued", j.items_queued},
              {"run_name", text("run_name")},
              {"tags", tags},
              {"task", text("task")},
              {"reverse", req.value("reverse", false)},
              {"items_per_s", items_per_second(j)}});
  const int ended = j.items_done + j.items_failed + j.items_cancelled;
  double progress = j.items_total > 0 ? double(ended) / j.items_total : 0;
  // A training job is one item: its progress is the trainer's own, from its events.
  if (j.kind == JobKind::kTrain && j.state == JobState::kRunning) {
    const json p = last_progress(j.id);
    progress = p.value("fraction", 0.0);
    out["progress_message"] = clip(p.value("message", ""), 300);
  }
  out["progress"] = std::clamp(progress, 0.0, 1.0);
  if (j.kind == JobKind::kTrain) out["evaluation"] = evaluation_headline(j);
  return out;
}

json DashboardApi::jobs(const User& u, const Query& q) {
  const int ended_limit = static_cast<int>(query_int(q, "limit", kDefaultEnded, 1, kMaxEnded));
  const auto kind = enum_query<JobKind>(q, "kind");
  // Admins see everyone's jobs here: the dashboard is the team's view of the queue.
  const std::string owner = u.is_admin ? "" : u.name;
  json list = json::array();
  if (const auto state = enum_query<JobState>(q, "state")) {
    for (const auto& j : queue().list_jobs(owner, *state, ended_limit, kind))
      list.push_back(job_json(j));
  } else {
    for (auto s : {JobState::kRunning, JobState::kQueued})
      for (const auto& j : queue().list_jobs(owner, s, kMaxOpenJobs, kind))
        list.push_back(job_json(j));
    int ended = 0;
    for (const auto& j :
         queue().list_jobs(owner, std::nullopt, ended_limit + 2 * kMaxOpenJobs, kind))
      if (is_terminal(j.state) && ended++ < ended_limit) list.push_back(job_json(j));
  }
  json counts = json::object();
  for (const auto& [state, n] : queue().job_state_counts(owner)) counts[enum_name(state)] = n;
  return {{"user", {{"name", u.name}, {"admin", u.is_admin}}},
          {"now_ms", now_ms()},
          {"counts", counts},
          {"jobs", list}};
}

json DashboardApi::job(const User& u, int64_t id) {
  const JobRecord j = accessible_job(u, id);
  json result = parse_object(j.result_json);
  result.erase("items");  // as long as the job: /items pages it
  json out{{"job", job_json(j)}, {"result", result}};
  if (j.kind == JobKind::kTrain) {
    out["train"] = train_json(j);
  } else {
    out["transform"] = {{"contact_sheet", result.contains("contact_sheet")},
                        {"manifest", result.value("manifest", json::object())}};
  }
  return out;
}

json DashboardApi::items(const User& u, int64_t id, const Query& q) {
  const JobRecord j = accessible_job(u, id);
  const int offset = static_cast<int>(query_int(q, "offset", 0, 0, 1 << 30));
  const int limit = static_cast<int>(query_int(q, "limit", kDefaultItems, 1, kMaxItems));
  auto page = queue().item_page(j.id, enum_query<ItemState>(q, "state"), offset, limit);
  json items = json::array();
  for (const auto& it : page.items) {
    const json report = parse_object(it.report_json);
    items.push_back({{"idx", it.idx},
                     {"input", it.input},
                     {"output", it.output},
                     {"state", enum_name(it.state)},
                     {"attempts", it.attempts},
                     {"error", clip(it.error, 2000)},
                     {"faces_found", report.value("faces_found", json())},
                     {"faces_edited", report.value("faces_edited", json())}});
  }
  return {{"total", page.total}, {"offset", offset}, {"limit", limit}, {"items", items}};
}

json DashboardApi::train_json(const JobRecord& j) {
  const json req = parse_object(j.request_json);
  const json result = parse_object(j.result_json);
  std::string config = req.value("config_toml", "");
  json files = json::array();
  const std::string dir = job_folder(d_.jobs_dir, j.id);
  for (const auto& f : list_job_files(dir))
    files.push_back({{"path", f.path}, {"size", f.size}, {"modified_ms", f.modified_ms}});
  return {{"config_toml", clip(config, kMaxConfigBytes)},
          {"config_path", req.value("config_path", "")},
          {"stages", stages_of(config)},
          {"evaluation", result.value("evaluation", json::object())},
          {"files", files},
          {"elsewhere", folder_elsewhere(j.result_json, d_.node, dir, j.id)}};
}

}  // namespace fcd::http
