// jobs, show, watch, cancel, and following a job to its end.
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "item_pages.h"
#include "json_view.h"
#include "progress.h"
#include "text_view.h"
#include "watch.h"

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

namespace {

// "failed" -> JOB_STATE_FAILED; "" -> UNSPECIFIED (any state).
v1::JobState parse_state(const std::string& word) {
  if (word.empty()) return v1::JOB_STATE_UNSPECIFIED;
  v1::JobState s;
  std::string upper = "JOB_STATE_";
  for (char c : word) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!v1::JobState_Parse(upper, &s) || s == v1::JOB_STATE_UNSPECIFIED) {
    std::string words;
    for (const auto& w : state_words()) words += (words.empty() ? "" : ", ") + w;
    throw CliError("unknown state '" + word + "': use one of " + words, kExitUsage);
  }
  return s;
}

nlohmann::json page_json(const ItemPage& page, const ItemQuery& q) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& it : page.items) items.push_back(to_json(it));
  return {{"items", items},
          {"page",
           {{"page", q.page},
            {"page_size", q.page_size},
            {"state", q.state == v1::JOB_STATE_UNSPECIFIED ? "any" : state_word(q.state)},
            {"total", page.total}}}};
}

}  // namespace

int follow_job(Connection& conn, const GlobalOptions& g, const v1::Job& job,
               int64_t after_event_id) {
  auto view = make_event_view(job, g.json);
  v1::Job final_job =
      watch_job(conn, job.id(), after_event_id, [&](const v1::Event& e) { view->on_event(e); });
  view->finish(final_job);
  // The failed items a page at a time, as `show` gives them: never the whole job.
  if (!g.json && final_job.items_failed() > 0)
    print_failed_after_follow(std::cout, conn, final_job);
  bool ok = final_job.state() == v1::JOB_STATE_SUCCEEDED && final_job.items_failed() == 0 &&
            final_job.items_cancelled() == 0;
  return ok ? kExitOk : kExitJobNotOk;
}

int cmd_jobs(const GlobalOptions& g, const std::string& state, int limit, bool all_users) {
  Connection conn(g);
  v1::ListJobsRequest req;
  req.set_state(parse_state(state));
  req.set_limit(limit);
  req.set_all_users(all_users);
  v1::ListJobsResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListJobs(ctx.get(), req, &resp), "list jobs");
  if (g.json) {
    json out = json::array();
    for (const auto& j : resp.jobs()) {
      json job = to_json(j);
      // Summaries only, also from a daemon that still sends each job's per-item list.
      if (job["result"].is_object()) job["result"].erase("items");
      out.push_back(std::move(job));
    }
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

int cmd_show(const GlobalOptions& g, const ShowOptions& o) {
  const int64_t job_id = o.job_id;
  Connection conn(g);
  v1::Job job = get_job_summary(conn, job_id);
  const ItemQuery q{o.page, o.page_size, o.failed ? v1::JOB_STATE_FAILED : parse_state(o.state)};
  const ItemPage page = fetch_item_page(conn, job_id, q.state, q.offset(), q.page_size);
  if (page.items.empty() && q.page > 1 && page.total > 0)
    throw CliError("page " + std::to_string(q.page) + " is past the end: job " +
                       std::to_string(job_id) + " has " + std::to_string(page.total) +
                       " such item(s), " + std::to_string(q.page_size) + " a page",
                   kExitUsage);
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
    json paged = page_json(page, q);
    out["items"] = paged["items"];
    out["items_page"] = paged["page"];
    if (files) {
      out["job_dir"] = files->job_dir();
      out["files"] = json::array();
      for (const auto& f : files->files())
        out["files"].push_back({{"path", f.path()}, {"size", f.size()}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    print_job_header(std::cout, job);
    print_item_page(std::cout, page, q);
    // A page that does not hold them all is followed by the failed items: what needs a look.
    const bool partial = static_cast<int>(page.items.size()) < page.total;
    if (q.state == v1::JOB_STATE_UNSPECIFIED && q.page == 1 && partial && job.items_failed() > 0) {
      const ItemQuery failed{1, q.page_size, v1::JOB_STATE_FAILED};
      print_item_page(std::cout, fetch_item_page(conn, job_id, failed.state, 0, failed.page_size),
                      failed);
    }
    print_item_hints(std::cout, job, page, q);
    print_job_result(std::cout, job);
    if (files) print_job_files(std::cout, *files, job_id);
  }
  return kExitOk;
}

int cmd_watch(const GlobalOptions& g, int64_t job_id, int64_t after_event_id) {
  Connection conn(g);
  v1::Job job = get_job_summary(conn, job_id);
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
