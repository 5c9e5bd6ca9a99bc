#include "store/retention.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "data_dir_zones.h"
#include "store/sql_literals.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
const std::string kEnded =
    sql::lits({JobState::kSucceeded, JobState::kFailed, JobState::kCancelled});

std::vector<int64_t> jobs_ended_before(Database& db, int64_t cutoff_ms) {
  auto st = db.prepare("SELECT id FROM jobs WHERE state IN " + kEnded +
                       " AND finished_ms > 0 AND finished_ms < ?1 ORDER BY id");
  st.bind(1, cutoff_ms);
  std::vector<int64_t> ids;
  while (st.step()) ids.push_back(st.int64(0));
  return ids;
}

// The job's folder, removed; false when there was none or it could not be removed.
bool remove_job_folder(const std::string& data_dir, int64_t id) {
  const fs::path dir = fs::path(data_dir) / kJobsFolder / std::to_string(id);
  std::error_code ec;
  // symlink_status: a link in its place is removed itself, never followed.
  if (!fs::exists(fs::symlink_status(dir, ec))) return false;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("retention: job {}: cannot remove {}: {}", id, dir.string(), ec.message());
  return !ec;
}

}  // namespace

PruneCounts prune_finished_jobs(Database& db, const std::string& data_dir, int days,
                                int64_t now_ms) {
  PruneCounts n;
  if (days <= 0) return n;
  for (int64_t id : jobs_ended_before(db, now_ms - days * kDayMs)) {
    // The state is checked again in the DELETE: a retry may have reopened the job since.
    auto del = db.prepare(
        "DELETE FROM events WHERE job_id = ?1 AND EXISTS (SELECT 1 FROM jobs WHERE id = ?1 "
        "AND state IN " +
        kEnded + ")");
    del.bind(1, id).run();
    const int events = db.changes();
    const bool folder = remove_job_folder(data_dir, id);
    n.events += events;
    n.folders += folder ? 1 : 0;
    n.jobs += (events > 0 || folder) ? 1 : 0;
  }
  return n;
}

RetentionTask::RetentionTask(const std::string& db_path, std::string data_dir, int days,
                             std::chrono::seconds period)
    : data_dir_(std::move(data_dir)), days_(days), period_(period) {
  if (days_ > 0) thread_ = std::thread([this, db_path] { run(db_path); });
}

RetentionTask::~RetentionTask() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionTask::run(const std::string& db_path) {
  spdlog::info("retention: finished jobs' events and folders are pruned after {} day(s)", days_);
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    lk.unlock();
    try {
      Database db(db_path);  // its own connection: the queue's is not shared across threads
      auto n = prune_finished_jobs(db, data_dir_, days_, now_ms());
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
