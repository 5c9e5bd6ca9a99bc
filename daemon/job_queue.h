// The durable job queue: jobs, their items and their events in SQLite.
//
// Every state change is one transaction, so a kill -9 at any moment leaves a consistent queue:
// items that were running go back to queued at the next start (recover()), finished items stay
// finished. Jobs run in priority order (higher first), FIFO within a priority.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crash_note.h"
#include "database.h"

namespace fcd {

// Job and item states as stored: queued | running | succeeded | failed | cancelled.
bool is_terminal_state(const std::string& state);

constexpr int kMinPriority = -100;
constexpr int kMaxPriority = 100;

struct JobRecord {
  int64_t id = 0;
  std::string kind;  // transform | train
  std::string state;
  std::string owner;
  int priority = 0;
  std::string request_json;
  std::string output_dir;
  std::string result_json;
  std::string error;
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  int items_total = 0, items_done = 0, items_failed = 0, items_cancelled = 0;
  int items_running = 0, items_queued = 0;
};

struct ItemRecord {
  int64_t job_id = 0;
  int idx = 0;
  std::string input, output, state;
  int attempts = 0;
  std::string error, report_json;
  int crashes = 0;  // crashes this item plausibly caused (see crash_note.h)
};

struct EventRecord {
  int64_t id = 0, job_id = 0, time_ms = 0;
  std::string type;  // state | progress | log | metric | item
  nlohmann::json payload;
};

struct NewItem {
  std::string input, output;
};

struct Claim {
  JobRecord job;
  ItemRecord item;
};

enum class ItemOutcome { kSucceeded, kFailed, kCancelled };

nlohmann::json job_to_json(const JobRecord& j);  // snapshot stored with state events

class JobQueue {
 public:
  explicit JobQueue(Database& db);

  int64_t submit(const std::string& kind, const std::string& owner, int priority,
                 const std::string& request_json, const std::string& output_dir,
                 const std::vector<NewItem>& items);

  // Takes the next queued item (and starts its job). Train items only when allow_train.
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
  // owner empty = every owner; state empty = every state; newest first.
  std::vector<JobRecord> list_jobs(const std::string& owner, const std::string& state, int limit);
  void set_result(int64_t job_id, const std::string& result_json);
  int count_running(const std::string& kind);
  // The report_json of every succeeded transform item of `owner`'s jobs that wrote `output`
  // (what --overwrite checks a file against before replacing it).
  std::vector<std::string> output_reports(const std::string& owner, const std::string& output);

  int64_t add_event(int64_t job_id, const std::string& type, const nlohmann::json& payload);
  std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit);
  // Blocks until an event newer than after_id exists (any job) or the timeout passes.
  void wait_for_event(int64_t after_id, std::chrono::milliseconds timeout);
  int64_t last_event_id();
  int64_t published_event_id();  // the newest id watchers have been told about

  void notify_work();
  void wait_for_work(std::chrono::milliseconds timeout);

 private:
  std::optional<JobRecord> job_locked(int64_t id);
  int64_t event_locked(int64_t job_id, const std::string& type, const nlohmann::json& payload);
  void state_event_locked(int64_t job_id, const std::string& message);
  void published();  // wakes watchers after a commit
  void blame_crash_locked(const std::optional<CrashedItem>& note);

  Database& db_;
  std::mutex mu_;  // one writer at a time on the shared connection
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  int64_t last_event_ = 0;
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  uint64_t work_seq_ = 0;
};

}  // namespace fcd
