// The durable job queue: jobs, their items and their events in SQLite.
//
// Every state change is one transaction, so a kill -9 at any moment leaves a consistent queue:
// items that were running go back to queued at the next start (recover()), finished items stay
// finished. Jobs run in priority order (higher first); within a priority, owners take turns
// (store/fair_share.h) and each owner's jobs run FIFO.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/fair_share.h"
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

// One page of a job's items and how many match the filter in all.
struct ItemPage {
  std::vector<ItemRecord> items;
  int total = 0;
};

// The snapshot stored with state events: kind and state spelled by their name tables.
nlohmann::json job_to_json(const JobRecord& j);

class JobQueue {
 public:
  explicit JobQueue(Database& db, FairShareLimits limits = {});

  int64_t submit(JobKind kind, const std::string& owner, int priority,
                 const std::string& request_json, const std::string& output_dir,
                 const std::vector<NewItem>& items);

  // Takes the next queued item (and starts its job). Train items only when allow_train. None
  // when nothing is queued, or every owner with queued work is at max_running_per_user.
  std::optional<Claim> claim(const std::string& worker, bool allow_train, bool allow_transform);

  // Records an item's end. Returns true when it closed the job's last open item of a job that
  // is still running: the caller then writes job-level outputs and calls finalize_job.
  bool finish_item(int64_t job_id, int idx, ItemOutcome outcome, const std::string& error,
                   const std::string& report_json);
  // Hands a running item back (daemon shutdown): queued again, attempt not counted as failed.
  void release_item(int64_t job_id, int idx, const std::string& why);
  // Sets the terminal state from the item counts: all failed -> failed, else succeeded (with
  // items_failed in the summary). `result` (a JSON object) is stored with a "summary" added.
  void finalize_job(int64_t job_id, nlohmann::json result = nlohmann::json::object());
  // Cancels a queued or running job: unclaimed items become cancelled. False when it had
  // already ended.
  bool cancel_job(int64_t job_id, const std::string& by);

  // Re-queues the failed items of a transform job that ended succeeded or failed (job_retry.cpp).
  // Succeeded and skipped items never run again; a cancelled job is refused (its cancelled items
  // never ran: re-submitting with --skip-existing finishes it). Ownership is the caller's check.
  RetryResult retry_failed(int64_t job_id, const std::string& by);
  // Whether the job has a state event newer than `event_id`: a watch replaying an old terminal
  // state keeps going when a retry re-opened the job.
  bool state_event_after(int64_t job_id, int64_t event_id);

  struct Recovery {
    int items_requeued = 0;
    std::vector<int64_t> jobs_to_finalize;  // all items ended, job still open
    std::vector<int64_t> open_jobs;         // queued/running after recovery
  };
  // At start-up: items left running by a crash go back to queued (or cancelled, for cancelled
  // jobs); jobs with nothing started go back to queued. The crash is counted against the item
  // the crash note names, else against an item only when it was the only one running.
  Recovery recover(const std::optional<CrashedItem>& note = std::nullopt);

  std::optional<JobRecord> get_job(int64_t id);
  std::vector<ItemRecord> items(int64_t job_id);
  // Items in index order from `offset`, at most `limit`; only those in `state` when given.
  ItemPage item_page(int64_t job_id, std::optional<ItemState> state, int offset, int limit);
  // owner empty = every owner; no state = every state; no kind = both; newest first.
  std::vector<JobRecord> list_jobs(const std::string& owner, std::optional<JobState> state,
                                   int limit, std::optional<JobKind> kind = std::nullopt);
  void set_result(int64_t job_id, const std::string& result_json);
  int count_running(JobKind kind);
  // The report_json of every succeeded transform item of `owner`'s jobs that wrote `output`
  // (what --overwrite checks a file against before replacing it).
  std::vector<std::string> output_reports(const std::string& owner, const std::string& output);

  int64_t add_event(int64_t job_id, EventType type, const nlohmann::json& payload);
  std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit);
  // Blocks until an event newer than after_id exists (any job) or the timeout passes.
  void wait_for_event(int64_t after_id, std::chrono::milliseconds timeout);
  int64_t last_event_id();
  int64_t published_event_id();  // the newest id watchers have been told about

  void notify_work();
  void wait_for_work(std::chrono::milliseconds timeout);

 private:
  std::optional<JobRecord> job_locked(int64_t id);
  // The queued item the next claim takes (fair_share.h): job id and index.
  std::optional<std::pair<int64_t, int>> pick_item_locked(bool allow_train, bool allow_transform);
  int64_t event_locked(int64_t job_id, EventType type, const nlohmann::json& payload);
  void state_event_locked(int64_t job_id, const std::string& message);
  void published();  // wakes watchers after a commit
  void blame_crash_locked(const std::optional<CrashedItem>& note);
  // recover()'s halves: items left running go back to queued (returns how many); open jobs are
  // sorted into those to finalize and those to run, a running job with nothing ended re-queued.
  int requeue_items_locked(const std::optional<CrashedItem>& note);
  void reopen_jobs_locked(Recovery& r);

  Database& db_;
  const FairShareLimits limits_;
  OwnerTurns turns_;  // guarded by mu_
  std::mutex mu_;     // one writer at a time on the shared connection
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  int64_t last_event_ = 0;
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  uint64_t work_seq_ = 0;
};

}  // namespace fcd
