// Retention: finished jobs older than N days lose their events and their job folder
// (<jobs_dir>/ID: training samples, checkpoints, a hard link to the model), so a busy
// daemon's database and disk stop growing without bound. Each job's summary row (state, counts,
// result with the manifest's path) and the manifest beside its outputs are kept, and so are its
// items, which `show` pages and `retry` needs. It reads the job store: on a shared (PostgreSQL)
// store the first daemon's pass deletes the events of every daemon's old jobs, and each daemon's
// pass removes the job folders in its jobs_dir (the store still lists the ended job; with one
// shared jobs_dir, whichever daemon passes first removes it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/job_store.h"

namespace fcd {

struct PruneCounts {
  int jobs = 0;        // jobs that lost events or a folder in this pass
  int64_t events = 0;  // event rows deleted
  int folders = 0;     // job folders removed
};

// Prunes every job that ended (succeeded, failed or cancelled) before now_ms - days. Jobs that
// are queued or running, or ended since, are untouched. Never throws for one job: a folder that
// cannot be removed is logged and left for the next pass.
PruneCounts prune_finished_jobs(JobStore& jobs, const std::string& jobs_dir, int days,
                                int64_t now_ms);

// Runs prune_finished_jobs at start and then every `period` on its own thread, until destroyed.
// Does nothing when days is 0. `jobs` must outlive it.
class RetentionTask {
 public:
  RetentionTask(JobStore& jobs, std::string jobs_dir, int days,
                std::chrono::seconds period = std::chrono::hours(1));
  ~RetentionTask();
  RetentionTask(const RetentionTask&) = delete;
  RetentionTask& operator=(const RetentionTask&) = delete;

 private:
  void run();
  JobStore& jobs_;
  std::string jobs_dir_;
  int days_;
  std::chrono::seconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fcd
