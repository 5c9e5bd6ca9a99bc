// PostgresJobStore: the counts the dashboard and /metrics show, and retention's reads and
// deletes, over the queue every daemon on the database shares.
#include <pqxx/pqxx>

#include "store/postgres_job_store.h"
#include "store/postgres_rows.h"
#include "store/sql_literals.h"

namespace fcd {

using namespace pg;  // NOLINT: this file is the store's own

QueueCounts PostgresJobStore::queue_counts() {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "queue_counts", [&](pqxx::work& tx) {
    // One snapshot for the three reads: the gauges agree with each other.
    tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    QueueCounts n;
    for (const auto& r : tx.exec(sql::kJobCounts))
      n.jobs[{parse_stored<JobKind>(r[0].as<std::string>()),
              parse_stored<JobState>(r[1].as<std::string>())}] = r[2].as<int64_t>();
    for (const auto& r : tx.exec(sql::kItemCounts))
      n.items[parse_stored<ItemState>(r[0].as<std::string>())] = r[1].as<int64_t>();
    for (const auto& r : tx.exec(sql::active_items_by_owner()))
      n.add_active(r[0].as<std::string>(), parse_stored<ItemState>(r[1].as<std::string>()),
                   r[2].as<int64_t>());
    return n;
  });
}

std::map<JobState, int64_t> PostgresJobStore::job_state_counts(const std::string& owner) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "job_state_counts", [&](pqxx::work& tx) {
    std::map<JobState, int64_t> n;
    for (const auto& r : tx.exec_params(
             "SELECT state, COUNT(*) FROM jobs WHERE ($1 = '' OR owner = $1) GROUP BY state",
             owner))
      n[parse_stored<JobState>(r[0].as<std::string>())] = r[1].as<int64_t>();
    return n;
  });
}

std::vector<int64_t> PostgresJobStore::jobs_ended_before(int64_t cutoff_ms) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "jobs_ended_before", [&](pqxx::work& tx) {
    std::vector<int64_t> ids;
    for (const auto& r :
         tx.exec_params("SELECT id FROM jobs WHERE state IN " + sql::ended_job_states() +
                            " AND finished_ms > 0 AND finished_ms < $1 ORDER BY id",
                        cutoff_ms))
      ids.push_back(r[0].as<int64_t>());
    return ids;
  });
}

int64_t PostgresJobStore::delete_ended_job_events(int64_t job_id) {
  std::lock_guard<FairMutex> lk(mu_);
  // A replay after a commit in doubt deletes what is left, if anything
  return in_tx(conn_->c, "delete_ended_job_events", Replay::kHarmless, [&](pqxx::work& tx) {
    // The job row's lock: a retry that reopens the job waits for this delete, or this one sees
    // the job open and deletes nothing.
    auto job = tx.exec_params(
        "SELECT 1 FROM jobs WHERE id = $1 AND state IN " + sql::ended_job_states() + " FOR UPDATE",
        job_id);
    if (job.empty()) return int64_t{0};
    const auto deleted = tx.exec_params("DELETE FROM events WHERE job_id = $1", job_id);
    tx.commit();
    return static_cast<int64_t>(deleted.affected_rows());
  });
}

}  // namespace fcd
