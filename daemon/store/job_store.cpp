// What both job-store back ends share: the decisions that are not SQL, and in-process wake-ups.
#include "store/job_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>

#include "store/database.h"  // now_ms

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

ReopenAction reopen_action(const JobRecord& j) {
  if (j.items_queued + j.items_running == 0) return ReopenAction::kFinalize;
  if (j.state == JobState::kRunning && j.items_running == 0 &&
      j.items_done + j.items_failed + j.items_cancelled == 0)
    return ReopenAction::kRequeue;
  return ReopenAction::kKeep;
}

bool job_end_abandoned(const JobRecord& job, int64_t newest_lease_until_ms, int64_t now_ms) {
  return !is_terminal(job.state) && reopen_action(job) == ReopenAction::kFinalize &&
         newest_lease_until_ms < now_ms;
}

json job_end_taken_event(const std::string& holder) {
  return {{"item_index", -1},
          {"level", "warn"},
          {"message", "every item ended, but the daemon ending the job stopped first; " + holder +
                          " ends it"}};
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

LeaseHolder make_lease_holder(const std::string& node, std::chrono::milliseconds ttl) {
  // The pid alone repeats after a reboot or in another container; the random part does not.
  static std::atomic<int> serial{0};
  std::random_device rd;
  char tail[32];
  std::snprintf(tail, sizeof tail, "%d.%06x.%d", static_cast<int>(::getpid()), rd() & 0xffffff,
                ++serial);
  return {node, node + "/" + tail, ttl};
}

JobStore::JobStore() : holder_(make_lease_holder("local", std::chrono::seconds(30))) {}

int64_t JobStore::lease_until_ms() const { return now_ms() + holder_.ttl.count(); }

std::optional<Claim> JobStore::claim(const std::string& worker, bool allow_train,
                                     bool allow_transform) {
  auto batch = claim_batch(worker, allow_train, allow_transform, 1);
  if (batch.empty()) return std::nullopt;
  return std::move(batch.front());
}

bool JobStore::finish_item(int64_t job_id, int idx, ItemOutcome outcome, const std::string& error,
                           const std::string& report_json) {
  return !finish_items({{job_id, idx, outcome, error, report_json}}).empty();
}

RequeuePlan plan_requeue(const std::vector<HeldItem>& dead, const std::optional<CrashedItem>& note,
                         const std::string& why) {
  RequeuePlan plan;
  std::map<std::string, int> per_holder;
  for (const auto& h : dead) ++per_holder[h.holder];
  std::map<int64_t, json> items_by_job;
  for (const auto& h : dead) {
    if (h.job_ended) {
      plan.cancel.push_back(h);
      continue;
    }
    plan.requeue.push_back(h);
    // Without a note (kill -9, the OOM killer, a lease that ran out) a crash is blamed on an item
    // only when it was alone in flight on its daemon.
    const bool blamed =
        note ? note->job_id == h.job_id && note->idx == h.idx : per_holder[h.holder] == 1;
    if (blamed) plan.blame.emplace_back(h.job_id, h.idx);
    items_by_job[h.job_id].push_back(
        {{"index", h.idx}, {"holder", h.holder}, {"lease_until_ms", h.lease_until_ms}});
  }
  for (auto& [job_id, items] : items_by_job)
    plan.events.emplace_back(
        job_id, json{{"item_index", -1},
                     {"level", "warn"},
                     {"message", std::to_string(items.size()) + " item(s) re-queued: " + why},
                     {"items", std::move(items)}});
  return plan;
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
