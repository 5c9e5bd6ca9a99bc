// jobs, show, watch, cancel, and following a job to its end.
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "json_view.h"
#include "progress.h"
#include "text_view.h"
#include "watch.h"

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

int follow_job(Connection& conn, const GlobalOptions& g, const v1::Job& job,
               int64_t after_event_id) {
  auto view = make_event_view(job, g.json);
  v1::Job final_job =
      watch_job(conn, job.id(), after_event_id, [&](const v1::Event& e) { view->on_event(e); });
  view->finish(final_job);
  bool ok = final_job.state() == v1::JOB_STATE_SUCCEEDED && final_job.items_failed() == 0 &&
            final_job.items_cancelled() == 0;
  return ok ? kExitOk : kExitJobNotOk;
}

int cmd_jobs(const GlobalOptions& g, const std::string& state, int limit, bool all_users) {
  Connection conn(g);
  v1::ListJobsRequest req;
  if (!state.empty()) {
    v1::JobState s;
    std::string upper = "JOB_STATE_";
    for (char c : state) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::JobState_Parse(upper, &s))
      throw CliError(
          "unknown state '" + state + "': use queued, running, succeeded, failed or cancelled",
          kExitUsage);
    req.set_state(s);
  }
  req.set_limit(limit);
  req.set_all_users(all_users);
  v1::ListJobsResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListJobs(ctx.get(), req, &resp), "list jobs");
  if (g.json) {
    json out = json::array();
    for (const auto& j : resp.jobs()) out.push_back(to_json(j));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (resp.jobs_size() == 0) {
    std::cout << "no jobs\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "KIND", "STATE", "PRIO", "DONE", "FAILED", "OWNER", "CREATED", "WHAT"}};
  for (const auto& j : resp.jobs()) {
    std::string what = j.kind() == v1::JOB_KIND_TRAIN ? j.config_path()
                                                      : j.task() + (j.reverse() ? " reverse" : "");
    rows.push_back({std::to_string(j.id()), kind_word(j.kind()), state_word(j.state()),
                    std::to_string(j.priority()),
                    std::to_string(j.items_done()) + "/" + std::to_string(j.items_total()),
                    std::to_string(j.items_failed()), j.owner(), format_time_ms(j.created_ms()),
                    what});
  }
  print_table(std::cout, rows);
  return kExitOk;
}

int cmd_show(const GlobalOptions& g, int64_t job_id) {
  Connection conn(g);
  v1::Job job = get_job(conn, job_id, true);
  // A training job's results are files in its folder; an older daemon without the call, or a
  // job that has not made its folder yet, shows none.
  std::optional<v1::ListJobFilesResponse> files;
  if (job.kind() == v1::JOB_KIND_TRAIN) {
    try {
      files = list_job_files(conn, job_id);
    } catch (const CliError&) {
    }
  }
  if (g.json) {
    json out = to_json(job);
    if (files) {
      out["job_dir"] = files->job_dir();
      out["files"] = json::array();
      for (const auto& f : files->files())
        out["files"].push_back({{"path", f.path()}, {"size", f.size()}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    print_job_details(std::cout, job);
    if (files) print_job_files(std::cout, *files, job_id);
  }
  return kExitOk;
}

int cmd_watch(const GlobalOptions& g, int64_t job_id, int64_t after_event_id) {
  Connection conn(g);
  v1::Job job = get_job(conn, job_id, false);
  return follow_job(conn, g, job, after_event_id);
}

int cmd_cancel(const GlobalOptions& g, int64_t job_id) {
  Connection conn(g);
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  v1::CancelJobResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().CancelJob(ctx.get(), req, &resp), "cancel job " + std::to_string(job_id));
  if (g.json)
    std::cout << to_json(resp.job()).dump(2) << "\n";
  else
    std::cout << "job " << job_id << ": " << state_word(resp.job().state()) << "\n";
  return kExitOk;
}

}  // namespace fcc
