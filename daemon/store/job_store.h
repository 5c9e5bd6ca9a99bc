// The durable job store: jobs, their items and their events, behind one interface with two back
// ends: SQLite (store/sqlite_job_store.h, the embedded default) and PostgreSQL
// (store/postgres_job_store.h, chosen by `database = "postgresql://..."`). The daemon's service,
// workers and start-up talk to JobStore only, so both back ends run the same test suite.
//
// Every state change is one transaction, so a kill -9 at any moment leaves a consistent queue:
// items that were running go back to queued at the next start (recover()), finished items stay
// finished. Jobs run in priority order (higher first); within a priority, owners take turns
// (store/fair_share.h) and each owner's jobs run FIFO.
//
// Leases (issue 18): claim() already names its holder (`worker`), which is what a lease needs; a
// later renew/expire pair can requeue only an expired holder's items, where recover() today
// requeues every running item because one daemon owns the store.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/job_records.h"

namespace fcd {

// retry_failed's answer: the items re-queued, or why none were.
enum class RetryVerdict {
  kRequeued,
  kNoSuchJob,
  kStillOpen,
  kCancelled,
  kNotTransform,
  kNoneFailed
};
struct RetryResult {
  RetryVerdict verdict = RetryVerdict::kNoSuchJob;
  int requeued = 0;
  int64_t event_id = 0;  // the "queued" state event that starts the retry
  JobRecord job;         // after the retry (or as it stands when refused)
};

// Why a job may not be retried now; kRequeued when it may. Shared by both back ends.
RetryVerdict retry_refusal(const JobRecord& job);

// One page of a job's items and how many match the filter in all.
struct ItemPage {
  std::vector<ItemRecord> items;
  int total = 0;
};

// The snapshot stored with state events: kind and state spelled by their name tables.
nlohmann::json job_to_json(const JobRecord& j);

// What finalize_job stores: `result` merged over what the job stored while running, with the
// item counts as "summary"; and the job's end state and error. Shared by both back ends.
struct JobEnd {
  JobState state = JobState::kSucceeded;
  std::string error;
  nlohmann::json result;
};
JobEnd job_end(const JobRecord& job, nlohmann::json result, const std::string& first_error);

class JobStore {
 public:
  virtual ~JobStore() = default;

  virtual int64_t submit(JobKind kind, const std::string& owner, int priority,
                         const std::string& request_json, const std::string& output_dir,
                         const std::vector<NewItem>& items) = 0;

  // Takes the next queued item (and starts its job). Train items only when allow_train. None
  // when nothing is queued, or every owner with queued work is at max_running_per_user.
  virtual std::optional<Claim> claim(const std::string& worker, bool allow_train,
                                     bool allow_transform) = 0;

  // Records an item's end. Returns true when it closed the job's last open item of a job that
  // is still running: the caller then writes job-level outputs and calls finalize_job.
  virtual bool finish_item(int64_t job_id, int idx, ItemOutcome outcome, const std::string& error,
                           const std::string& report_json) = 0;
  // Hands a running item back (daemon shutdown): queued again, attempt not counted as failed.
  virtual void release_item(int64_t job_id, int idx, const std::string& why) = 0;
  // Sets the terminal state from the item counts: all failed -> failed, else succeeded (with
  // items_failed in the summary). `result` (a JSON object) is stored with a "summary" added.
  virtual void finalize_job(int64_t job_id, nlohmann::json result = nlohmann::json::object()) = 0;
  // Cancels a queued or running job: unclaimed items become cancelled. False when it had
  // already ended.
  virtual bool cancel_job(int64_t job_id, const std::string& by) = 0;

  // Re-queues the failed items of a transform job that ended succeeded or failed. Succeeded and
  // skipped items never run again; a cancelled job is refused (its cancelled items never ran:
  // re-submitting with --skip-existing finishes it). Ownership is the caller's check.
  virtual RetryResult retry_failed(int64_t job_id, const std::string& by) = 0;
  // Whether the job has a state event newer than `event_id`: a watch replaying an old terminal
  // state keeps going when a retry re-opened the job.
  virtual bool state_event_after(int64_t job_id, int64_t event_id) = 0;

  struct Recovery {
    int items_requeued = 0;
    std::vector<int64_t> jobs_to_finalize;  // all items ended, job still open
    std::vector<int64_t> open_jobs;         // queued/running after recovery
  };
  // At start-up: items left running by a crash go back to queued (or cancelled, for cancelled
  // jobs); jobs with nothing started go back to queued. The crash is counted against the item
  // the crash note names, else against an item only when it was the only one running.
  virtual Recovery recover(const std::optional<CrashedItem>& note = std::nullopt) = 0;

  virtual std::optional<JobRecord> get_job(int64_t id) = 0;
  virtual std::vector<ItemRecord> items(int64_t job_id) = 0;
  // Items in index order from `offset`, at most `limit`; only those in `state` when given.
  virtual ItemPage item_page(int64_t job_id, std::optional<ItemState> state, int offset,
                             int limit) = 0;
  // owner empty = every owner; no state = every state; no kind = both; newest first.
  virtual std::vector<JobRecord> list_jobs(const std::string& owner, std::optional<JobState> state,
                                           int limit,
                                           std::optional<JobKind> kind = std::nullopt) = 0;
  virtual void set_result(int64_t job_id, const std::string& result_json) = 0;
  virtual int count_running(JobKind kind) = 0;
  // The report_json of every succeeded transform item of `owner`'s jobs that wrote `output`
  // (what --overwrite checks a file against before replacing it).
  virtual std::vector<std::string> output_reports(const std::string& owner,
                                                  const std::string& output) = 0;

  virtual int64_t add_event(int64_t job_id, EventType type, const nlohmann::json& payload) = 0;
  virtual std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit) = 0;
  virtual int64_t last_event_id() = 0;

  // Wake-ups within this process. Virtual so that a shared store can add a cross-host signal
  // (PostgreSQL LISTEN/NOTIFY, not built yet) without changing the callers.
  // Blocks until an event newer than after_id exists (any job) or the timeout passes.
  virtual void wait_for_event(int64_t after_id, std::chrono::milliseconds timeout);
  virtual int64_t published_event_id();  // the newest id watchers have been told about
  virtual void notify_work();
  virtual void wait_for_work(std::chrono::milliseconds timeout);

 protected:
  // Wakes watchers after a commit that wrote events up to `last_id`.
  void published(int64_t last_id);

 private:
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  int64_t last_event_ = 0;
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  uint64_t work_seq_ = 0;
};

}  // namespace fcd
