#include "store/retention.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "data_dir_zones.h"
#include "store/database.h"  // now_ms

namespace fcd {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// The job's folder, removed; false when there was none or it could not be removed.
bool remove_job_folder(const std::string& jobs_dir, int64_t id) {
  const fs::path dir = fs::path(jobs_dir) / std::to_string(id);
  std::error_code ec;
  // symlink_status: a link in its place is removed itself, never followed.
  if (!fs::exists(fs::symlink_status(dir, ec))) return false;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("retention: job {}: cannot remove {}: {}", id, dir.string(), ec.message());
  return !ec;
}

}  // namespace

PruneCounts prune_finished_jobs(JobStore& jobs, const std::string& jobs_dir, int days,
                                int64_t now_ms) {
  PruneCounts n;
  if (days <= 0) return n;
  for (int64_t id : jobs.jobs_ended_before(now_ms - days * kDayMs)) {
    const int64_t events = jobs.delete_ended_job_events(id);
    const bool folder = remove_job_folder(jobs_dir, id);
    n.events += events;
    n.folders += folder ? 1 : 0;
    n.jobs += (events > 0 || folder) ? 1 : 0;
  }
  return n;
}

RetentionTask::RetentionTask(JobStore& jobs, std::string jobs_dir, int days,
                             std::chrono::seconds period)
    : jobs_(jobs), jobs_dir_(std::move(jobs_dir)), days_(days), period_(period) {
  if (days_ > 0) thread_ = std::thread([this] { run(); });
}

RetentionTask::~RetentionTask() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionTask::run() {
  spdlog::info("retention: finished jobs' events and folders are pruned after {} day(s)", days_);
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    lk.unlock();
    try {
      auto n = prune_finished_jobs(jobs_, jobs_dir_, days_, now_ms());
      if (n.jobs)
        spdlog::info("retention: pruned {} job(s): {} event(s), {} folder(s)", n.jobs, n.events,
                     n.folders);
    } catch (const std::exception& e) {
      spdlog::error("retention: pass failed, retried in {} s: {}", period_.count(), e.what());
    }
    lk.lock();
    cv_.wait_for(lk, period_, [this] { return stop_; });
  }
}

}  // namespace fcd
