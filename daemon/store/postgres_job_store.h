// The PostgreSQL job store (store/job_store.h), chosen by `database = "postgresql://..."`: the
// queue several daemons share (docs/SCALE.md). Built only when CMake finds libpqxx
// (FC_HAVE_POSTGRES). Its schema is schema/postgresql/NNNN_*.sql, applied at open.
//
// One connection for submits and one shared by the daemon's other threads under a mutex; when
// the server drops one, it is replaced and the transaction run again where that is safe
// (store/postgres_link.h). Claims lock the items they take with FOR UPDATE SKIP LOCKED, so
// concurrent claimers never wait on each other's items; ends and cancels lock the job row, so
// exactly one finisher sees "last item". Every event NOTIFYs the other daemons
// (postgres_listener.h). Claims are leases
// (job_store.h): recover() and requeue_expired() take back only the items of this node's earlier
// runs and of daemons whose lease ran out.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "store/fair_mutex.h"
#include "store/fair_share.h"
#include "store/job_store.h"
#include "store/migrations.h"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace fcd {

class PostgresEventListener;  // postgres_listener.h

// The migrations for PostgreSQL compiled into this binary (generated from schema/postgresql/).
const std::vector<Migration>& embedded_postgres_migrations();

struct PostgresOptions {
  FairShareLimits limits;
};

class PostgresJobStore : public JobStore {
 public:
  // Connects, applies the migrations not yet applied (under an advisory lock, so daemons that
  // start together apply each once). Throws DbError.
  explicit PostgresJobStore(const std::string& url, PostgresOptions options = {});
  ~PostgresJobStore() override;

  int migrations_applied() const { return migrations_applied_; }
  int schema_version();

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
  RetryResult retry_failed(int64_t job_id, const std::string& by) override;
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

  // The counts and retention's reads (store/postgres_queue_reads.cpp).
  QueueCounts queue_counts() override;
  std::map<JobState, int64_t> job_state_counts(const std::string& owner) override;
  std::vector<int64_t> jobs_ended_before(int64_t cutoff_ms) override;
  int64_t delete_ended_job_events(int64_t job_id) override;

  int64_t add_event(int64_t job_id, EventType type, const nlohmann::json& payload) override;
  std::vector<EventRecord> events_after(int64_t job_id, int64_t after_id, int limit) override;
  std::optional<EventRecord> last_event(int64_t job_id, EventType type) override;
  int64_t last_event_id() override;

 private:
  using Tx = pqxx::transaction_base;
  int apply_migrations();
  std::optional<JobRecord> job_tx(Tx& tx, int64_t id, bool lock = false);
  struct Picked {  // one job's queued items that a claim takes, locked
    int64_t job_id;
    std::vector<int> idxs;
  };
  std::optional<Picked> pick_items_tx(Tx& tx, bool allow_train, bool allow_transform,
                                      int max_items);
  std::vector<Claim> take_items_tx(Tx& tx, const Picked& p, const std::string& worker,
                                   int64_t& started_event);
  bool job_closed_tx(Tx& tx, int64_t job_id);
  // Ends those of `ends` this holder still runs, each with its item event, and adds their jobs
  // to `touched`: the newest event's id; 0 when none was ours.
  int64_t end_items_tx(Tx& tx, const std::vector<ItemEnd>& ends, std::set<int64_t>& touched);
  int64_t insert_job_tx(Tx& tx, JobKind kind, const std::string& owner, int priority,
                        const std::string& request_json, const std::string& output_dir);
  void insert_items_tx(Tx& tx, int64_t job_id, const std::vector<NewItem>& items);
  bool job_recorded(int64_t id);  // whether job `id` is in the table, on the submit connection
  int64_t event_tx(Tx& tx, int64_t job_id, EventType type, const nlohmann::json& payload);
  int64_t state_event_tx(Tx& tx, int64_t job_id, const std::string& message);
  // Running items matching `where` (an SQL condition on items i), locked, with their holders.
  std::vector<HeldItem> held_items_tx(Tx& tx, const std::string& where);
  int apply_requeue_tx(Tx& tx, const RequeuePlan& plan);
  // Takes the lease on a job's end for this holder (job_store.h, take_abandoned_jobs).
  void hold_job_end_tx(Tx& tx, int64_t job_id);
  // Takes it only when job_end_abandoned says nobody holds it; true when taken.
  bool take_job_end_tx(Tx& tx, int64_t job_id);
  void reopen_jobs_tx(Tx& tx, Recovery& r);
  int64_t last_event_id_locked();

  struct Connection;  // a pqxx::connection (postgres_rows.h), whose name libpqxx 6 won't forward
  std::unique_ptr<Connection> conn_;
  // Submits have their own connection: on conn_ a submit waited for the claim or end in progress
  // and its fsynced commit (bench_queue's submit p99). They touch only rows they insert, so the
  // server runs them beside the claims.
  std::unique_ptr<Connection> submit_conn_;
  std::unique_ptr<PostgresEventListener> listener_;  // LISTEN/NOTIFY wake-ups
  const PostgresOptions options_;
  OwnerTurns turns_;     // guarded by mu_
  FairMutex mu_;         // one transaction at a time on the shared connection, in arrival order
  FairMutex submit_mu_;  // the same for submit_conn_
  int migrations_applied_ = 0;
};

}  // namespace fcd
