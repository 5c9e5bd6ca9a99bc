// SqliteJobStore::retry_failed: a finished job's failed items run again, nothing else does.
#include "store/sqlite_job_store.h"

namespace fcd {

using nlohmann::json;

RetryResult SqliteJobStore::retry_failed(int64_t job_id, const std::string& by) {
  RetryResult r;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    auto job = job_locked(job_id);
    if (!job) return r;
    r.job = *job;
    r.verdict = retry_refusal(*job);
    if (r.verdict != RetryVerdict::kRequeued) return r;
    // The report goes too: it described the failed attempt. Attempts keep counting, and so do
    // crashes, so an item that keeps killing the daemon is still given up on.
    db_.prepare(
           "UPDATE items SET state = ?, error = '', report_json = '', finished_ms = 0, "
           "claimed_by = '' WHERE job_id = ? AND state = ?")
        .bind(1, enum_name(ItemState::kQueued))
        .bind(2, job_id)
        .bind(3, enum_name(ItemState::kFailed))
        .run();
    r.requeued = db_.changes();
    // started_ms stays: the job's first start. result_json stays until finalize_job merges the
    // new summary into it; it also names the manifest files this job owns and rewrites.
    db_.prepare("UPDATE jobs SET state = ?, error = '', finished_ms = 0 WHERE id = ?")
        .bind(1, enum_name(JobState::kQueued))
        .bind(2, job_id)
        .run();
    r.job = *job_locked(job_id);
    const std::string message =
        "queued again: " + std::to_string(r.requeued) + " failed item(s) retried by " + by;
    r.event_id = event_locked(job_id, EventType::kState,
                              {{"message", message}, {"job", job_to_json(r.job)}});
    tx.commit();
  }
  published();
  notify_work();
  return r;
}

bool SqliteJobStore::state_event_after(int64_t job_id, int64_t event_id) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare("SELECT 1 FROM events WHERE job_id = ? AND id > ? AND type = ? LIMIT 1");
  st.bind(1, job_id).bind(2, event_id).bind(3, enum_name(EventType::kState));
  return st.step();
}

}  // namespace fcd
