// SqliteJobStore: the counts the dashboard and /metrics show, and retention's reads and deletes.
#include "store/sql_literals.h"
#include "store/sqlite_job_store.h"

namespace fcd {

namespace {

// A deferred read transaction: several SELECTs see one snapshot even while another connection
// on the file commits between them (the daemon reads these through a connection of its own).
class ReadTx {
 public:
  explicit ReadTx(Database& db) : db_(db) { db_.exec("BEGIN"); }
  ~ReadTx() {
    try {
      db_.exec(done_ ? "COMMIT" : "ROLLBACK");
    } catch (...) {  // a read has nothing to lose; the next BEGIN reports a broken connection
    }
  }
  void done() { done_ = true; }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace

QueueCounts SqliteJobStore::queue_counts() {
  std::lock_guard<FairMutex> lk(mu_);
  QueueCounts n;
  ReadTx tx(db_);
  auto jobs = db_.prepare(sql::kJobCounts);
  while (jobs.step())
    n.jobs[{parse_stored<JobKind>(jobs.text(0)), parse_stored<JobState>(jobs.text(1))}] =
        jobs.int64(2);
  auto items = db_.prepare(sql::kItemCounts);
  while (items.step()) n.items[parse_stored<ItemState>(items.text(0))] = items.int64(1);
  auto owners = db_.prepare(sql::active_items_by_owner());
  while (owners.step())
    n.add_active(owners.text(0), parse_stored<ItemState>(owners.text(1)), owners.int64(2));
  tx.done();
  return n;
}

std::map<JobState, int64_t> SqliteJobStore::job_state_counts(const std::string& owner) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st =
      db_.prepare("SELECT state, COUNT(*) FROM jobs WHERE (?1 = '' OR owner = ?1) GROUP BY state");
  st.bind(1, owner);
  std::map<JobState, int64_t> n;
  while (st.step()) n[parse_stored<JobState>(st.text(0))] = st.int64(1);
  return n;
}

std::vector<int64_t> SqliteJobStore::jobs_ended_before(int64_t cutoff_ms) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare("SELECT id FROM jobs WHERE state IN " + sql::ended_job_states() +
                        " AND finished_ms > 0 AND finished_ms < ?1 ORDER BY id");
  st.bind(1, cutoff_ms);
  std::vector<int64_t> ids;
  while (st.step()) ids.push_back(st.int64(0));
  return ids;
}

int64_t SqliteJobStore::delete_ended_job_events(int64_t job_id) {
  std::lock_guard<FairMutex> lk(mu_);
  // The state is checked in the DELETE itself: one statement, so no retry slips in between.
  db_.prepare(
         "DELETE FROM events WHERE job_id = ?1 AND EXISTS (SELECT 1 FROM jobs WHERE id = ?1 "
         "AND state IN " +
         sql::ended_job_states() + ")")
      .bind(1, job_id)
      .run();
  return db_.changes();
}

}  // namespace fcd
