// What both job-store back ends share: the decisions that are not SQL, and in-process wake-ups.
#include "store/job_store.h"

namespace fcd {

using nlohmann::json;

json job_to_json(const JobRecord& j) {
  return {{"id", j.id},
          {"kind", enum_name(j.kind)},
          {"state", enum_name(j.state)},
          {"owner", j.owner},
          {"priority", j.priority},
          {"output_dir", j.output_dir},
          {"error", j.error},
          {"created_ms", j.created_ms},
          {"started_ms", j.started_ms},
          {"finished_ms", j.finished_ms},
          {"items_total", j.items_total},
          {"items_done", j.items_done},
          {"items_failed", j.items_failed},
          {"items_cancelled", j.items_cancelled}};
}

RetryVerdict retry_refusal(const JobRecord& job) {
  if (job.kind != JobKind::kTransform) return RetryVerdict::kNotTransform;
  if (!is_terminal(job.state)) return RetryVerdict::kStillOpen;
  if (job.state == JobState::kCancelled) return RetryVerdict::kCancelled;
  if (job.items_failed == 0) return RetryVerdict::kNoneFailed;
  return RetryVerdict::kRequeued;
}

JobEnd job_end(const JobRecord& job, json result, const std::string& first_error) {
  JobEnd end;
  const bool all_failed = job.items_done == 0 && job.items_failed > 0;
  end.state = all_failed ? JobState::kFailed : JobState::kSucceeded;
  if (all_failed)
    end.error = job.items_total == 1 ? first_error
                                     : "all " + std::to_string(job.items_total) +
                                           " items failed; first error: " + first_error;
  // Keep what the job stored while running (e.g. a trainer's evaluation).
  json merged = json::parse(job.result_json.empty() ? "{}" : job.result_json, nullptr, false);
  if (!merged.is_object()) merged = json::object();
  if (result.is_object()) merged.update(result);
  json summary{{"items_total", job.items_total},
               {"items_succeeded", job.items_done},
               {"items_failed", job.items_failed},
               {"items_cancelled", job.items_cancelled}};
  if (!all_failed && job.items_failed > 0)
    summary["note"] = std::to_string(job.items_failed) + " of " + std::to_string(job.items_total) +
                      " items failed; see the items for their errors";
  merged["summary"] = summary;
  end.result = std::move(merged);
  return end;
}

void JobStore::published(int64_t last_id) {
  {
    std::lock_guard<std::mutex> lk(ev_mu_);
    last_event_ = std::max(last_event_, last_id);
  }
  ev_cv_.notify_all();
}

void JobStore::wait_for_event(int64_t after_id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(ev_mu_);
  ev_cv_.wait_for(lk, timeout, [&] { return last_event_ > after_id; });
}

int64_t JobStore::published_event_id() {
  std::lock_guard<std::mutex> lk(ev_mu_);
  return last_event_;
}

void JobStore::notify_work() {
  {
    std::lock_guard<std::mutex> lk(work_mu_);
    ++work_seq_;
  }
  work_cv_.notify_all();
}

void JobStore::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(work_mu_);
  uint64_t seen = work_seq_;
  work_cv_.wait_for(lk, timeout, [&] { return work_seq_ != seen; });
}

}  // namespace fcd
