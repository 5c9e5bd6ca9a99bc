// The SQLite job store (store/job_store.h): one file in the daemon's data dir, one connection
// shared by the daemon's threads under a mutex. The embedded default for one machine.
#pragma once

#include <mutex>

#include "store/database.h"
#include "store/fair_mutex.h"
#include "store/fair_share.h"
#include "store/job_store.h"

namespace fcd {

class SqliteJobStore : public JobStore {
 public:
  explicit SqliteJobStore(Database& db, FairShareLimits limits = {});

  int64_t submit(JobKind kind, const std::string& owner, int priority,
                 const std::string& request_json, const std::string& output_dir,
                 const std::vector<NewItem>& items) override;
  std::vector<Claim> claim_batch(const std::string& worker, bool allow_train, bool allow_transform,
                                 int max_items) override;
  std::vector<int64_t> finish_items(const std::vector<ItemEnd>& ends) override;
  void release_item(int64_t job_id, int idx, const std::string& why) override;
  int renew_leases() override;
  int requeue_expired() override;
  std::vector<int64_t> take_abandoned_jobs() override;
  void finalize_job(int64_t job_id, nlohmann::json result = nlohmann::json::object()) override;
  bool cancel_job(int64_t job_id, const std::string& by) override;
  RetryResult retry_failed(int64_t job_id, const std::string& by) override;  // job_retry.cpp
  bool state_event_after(int64_t job_id, int64_t event_id) override;
  Recovery recover(const std::optional<CrashedItem>& note = std::nullopt) override;

  std::optional<JobRecord> get_job(int64_t id) override;
  std::vector<ItemRecord> items(int64_t job_id) override;
  ItemPage item_page(int64_t job_id, std::optional<ItemState> state, int offset,
                     int limit) override;
  std::vector<JobRecord> list_jobs(const std::string& owner, std::optional<JobState> state,
                                   int limit, std::optional<JobKind> kind = std::nullopt) override;
  void set_result(int64_t job_id, const std::string& result_json) override;
  int count_running(JobKind kind) override;
  std::vector<std::string> output_reports(const std::string& owner,
                                          const std::string& output) override;

  // The counts and retention's reads (store/sqlite_queue_reads.cpp).
  QueueCounts queue_counts() override;
  std::map<JobState, int64_t> job_state_counts(const std::string& owner) override;
  std::vector<int64_t> jobs_ended_before(int64_t cutoff_ms) override;
  int64_t delete_ended_job_events(int64_t job_id) override;

  int64_t add_event(int64_t job_id, EventType type, const nlohmann::json& payload) override;
  std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit) override;
  std::optional<EventRecord> last_event(int64_t job_id, EventType type) override;
  int64_t last_event_id() override;

 private:
  std::optional<JobRecord> job_locked(int64_t id);
  // The queued items the next claim takes (fair_share.h): one job's, in index order.
  struct Picked {
    int64_t job_id;
    std::vector<int> idxs;
  };
  std::optional<Picked> pick_items_locked(bool allow_train, bool allow_transform, int max_items);
  // Whether the job is still open with none of its items queued or running.
  bool job_closed_locked(int64_t job_id);
  int64_t event_locked(int64_t job_id, EventType type, const nlohmann::json& payload);
  int64_t state_event_locked(int64_t job_id, const std::string& message);  // its id; 0: no job
  void published();  // wakes watchers after a commit
  // Running items matching `where` (an SQL condition on items i), with their holders.
  std::vector<HeldItem> held_items_locked(const std::string& where);
  int apply_requeue_locked(const RequeuePlan& plan);  // returns how many were queued again
  // Takes the lease on a job's end for this holder (job_store.h, take_abandoned_jobs).
  void hold_job_end_locked(int64_t job_id);
  // Takes it only when job_end_abandoned says nobody holds it; true when taken.
  bool take_job_end_locked(int64_t job_id);
  // recover()'s second half: open jobs are sorted into those to finalize and those to run, a
  // running job with nothing ended re-queued.
  void reopen_jobs_locked(Recovery& r);

  Database& db_;
  const FairShareLimits limits_;
  OwnerTurns turns_;  // guarded by mu_
  FairMutex mu_;      // one writer at a time on the shared connection, in arrival order
};

}  // namespace fcd
