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
// Leases (issue 18): a claim is a lease held by this store's LeaseHolder (one per daemon
// process) until lease_until; the holder's heartbeat renews it (store/lease_keeper.h) and any
// daemon sharing the store re-queues items whose lease ran out (requeue_expired). Only the
// holder can end or hand back its items, so a daemon that lost a lease cannot record a second
// end for an item another daemon now runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
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

// What a daemon's recovery does with a job it finds queued or running: finalize it (every item
// ended), keep it, or queue it again (running, yet nothing of it ran or runs anywhere).
enum class ReopenAction { kFinalize, kKeep, kRequeue };
ReopenAction reopen_action(const JobRecord& job);

// Whether an open job's end was abandoned: every item ended (reopen_action's kFinalize), yet no
// daemon holds a live lease on it. The daemon that ends a job's last item keeps a lease on the
// job's end (on one of its items) until finalize_job; if that lease runs out, the daemon died
// between the two, and nothing else would ever end the job. Shared by both back ends.
bool job_end_abandoned(const JobRecord& job, int64_t newest_lease_until_ms, int64_t now_ms);
// The log event's data when daemon `holder` takes such a job's end (both back ends write it).
nlohmann::json job_end_taken_event(const std::string& holder);

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

// Who holds a store's claims. `node` stays the same over restarts (host and data dir): at start,
// recover() takes back at once what earlier runs of this node held, without waiting for their
// leases to run out. `id` names this process.
struct LeaseHolder {
  std::string node = "local";
  std::string id;
  std::chrono::milliseconds ttl{30000};
};
// A holder for this process on `node`: id "<node>/<pid>.<random>", unique per call.
LeaseHolder make_lease_holder(const std::string& node, std::chrono::milliseconds ttl);

// An item's end as a worker reports it (finish_items records several in one transaction).
struct ItemEnd {
  int64_t job_id = 0;
  int idx = 0;
  ItemOutcome outcome = ItemOutcome::kSucceeded;
  std::string error, report_json;
};

// A running item whose holder is gone (recover) or whose lease ran out (requeue_expired).
struct HeldItem {
  int64_t job_id = 0;
  int idx = 0;
  std::string holder;
  int64_t lease_until_ms = 0;
  bool job_ended = false;  // its job ended while it ran: it ends too, as cancelled
};
// What both back ends do with such items: which end, which are queued again, which get a crash
// counted (the noted one, else one that was its holder's only item), and one log event per job
// naming each item's last holder and lease, so that the event log shows who ran what when.
struct RequeuePlan {
  std::vector<HeldItem> cancel, requeue;
  std::vector<std::pair<int64_t, int>> blame;
  std::vector<std::pair<int64_t, nlohmann::json>> events;  // job id, log payload
};
// The reasons plan_requeue's events give.
inline const std::string kDaemonStopped = "the daemon stopped while they ran";
inline const std::string kLeaseRanOut =
    "their daemon's lease ran out (it stopped, or lost the database for longer than the lease)";
RequeuePlan plan_requeue(const std::vector<HeldItem>& dead, const std::optional<CrashedItem>& note,
                         const std::string& why);

// The queue as the dashboard and /metrics count it. Through the store, so that every daemon on a
// shared (PostgreSQL) store counts the same jobs; only kinds and states that have some appear.
struct QueueCounts {
  std::map<std::pair<JobKind, JobState>, int64_t> jobs;
  std::map<ItemState, int64_t> items;
  std::map<std::string, int64_t> running_by_owner, queued_by_owner;  // items, by their job's owner
  // One row of sql::active_items_by_owner().
  void add_active(const std::string& owner, ItemState state, int64_t n) {
    (state == ItemState::kRunning ? running_by_owner : queued_by_owner)[owner] = n;
  }
};

class JobStore {
 public:
  JobStore();
  virtual ~JobStore() = default;

  // Before the first claim (the daemon sets it from its host and data dir).
  void set_lease_holder(LeaseHolder holder) { holder_ = std::move(holder); }
  const LeaseHolder& lease_holder() const { return holder_; }

  virtual int64_t submit(JobKind kind, const std::string& owner, int priority,
                         const std::string& request_json, const std::string& output_dir,
                         const std::vector<NewItem>& items) = 0;

  // Takes the next queued item (and starts its job), leased to lease_holder(). Train items only
  // when allow_train. None when nothing is queued, or every owner with queued work is at
  // max_running_per_user.
  std::optional<Claim> claim(const std::string& worker, bool allow_train, bool allow_transform);
  // Up to max_items queued items of the job claim() would serve, in one transaction (SKIP LOCKED
  // on PostgreSQL). A train item comes alone; max_running_per_user caps the batch too.
  virtual std::vector<Claim> claim_batch(const std::string& worker, bool allow_train,
                                         bool allow_transform, int max_items) = 0;

  // Records an item's end. Returns true when it closed the job's last open item of a job that
  // is still running: the caller then writes job-level outputs and calls finalize_job; until
  // then this holder's heartbeat keeps a lease on the job's end (take_abandoned_jobs). An item
  // this holder no longer holds (its lease ran out and it was re-queued) is left alone.
  bool finish_item(int64_t job_id, int idx, ItemOutcome outcome, const std::string& error,
                   const std::string& report_json);
  // Several ends in one transaction (one commit, one fsync). Returns the jobs whose last open
  // item this closed, each once.
  virtual std::vector<int64_t> finish_items(const std::vector<ItemEnd>& ends) = 0;
  // Hands a running item back (daemon shutdown): queued again, attempt not counted as failed.
  virtual void release_item(int64_t job_id, int idx, const std::string& why) = 0;

  // Pushes the leases of the items this holder runs to now + ttl (the heartbeat). Returns how
  // many it holds.
  virtual int renew_leases() = 0;
  // Items whose lease ran out go back to queued (or cancelled, for ended jobs), as recover()
  // does after a crash: a crash is counted against an item only when it was its holder's only
  // item. Safe to run from every daemon at once: each item is re-queued once. Returns how many.
  virtual int requeue_expired() = 0;
  // Open jobs whose end was abandoned (job_end_abandoned: the daemon that ended their last item
  // died before finalize_job). Takes the lease on each one's end for this holder, so that one
  // sweeping daemon gets it, and returns their ids: the caller ends them as a finisher does
  // (job files, then finalize_job). If it dies too, its lease runs out and another takes over.
  virtual std::vector<int64_t> take_abandoned_jobs() = 0;
  // Sets the terminal state from the item counts: all failed -> failed, else succeeded (with
  // items_failed in the summary). `result` (a JSON object) is stored with a "summary" added.
  // Once: a job that already ended is left alone. Drops the lease on the job's end.
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
  // the crash note names, else against an item only when it was the only one running. On
  // SQLite that is every running item (one daemon owns the file); on PostgreSQL the items of
  // earlier runs of this holder's node and those whose lease ran out, never a live daemon's.
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

  // The jobs and items by state, and each owner's running and queued items, read in one
  // transaction: the numbers agree with each other (the /metrics gauges).
  virtual QueueCounts queue_counts() = 0;
  // Jobs per state of `owner` (empty: every owner): the dashboard's totals.
  virtual std::map<JobState, int64_t> job_state_counts(const std::string& owner) = 0;

  // Retention (store/retention.h): the jobs that ended before cutoff_ms, lowest id first.
  virtual std::vector<int64_t> jobs_ended_before(int64_t cutoff_ms) = 0;
  // Deletes the events of a job that has ended; none when it is open again (a retry may have
  // reopened it since jobs_ended_before). Returns how many it deleted.
  virtual int64_t delete_ended_job_events(int64_t job_id) = 0;

  virtual int64_t add_event(int64_t job_id, EventType type, const nlohmann::json& payload) = 0;
  virtual std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit) = 0;
  // The job's newest event of `type` (the dashboard's training progress).
  virtual std::optional<EventRecord> last_event(int64_t job_id, EventType type) = 0;
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
  // When a lease taken or renewed now runs out.
  int64_t lease_until_ms() const;

 private:
  LeaseHolder holder_;
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  int64_t last_event_ = 0;
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  uint64_t work_seq_ = 0;
};

}  // namespace fcd
