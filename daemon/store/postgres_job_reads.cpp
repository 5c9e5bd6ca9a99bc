// PostgresJobStore: start-up recovery and the read-only queries (listings, pages, events).
#include <pqxx/pqxx>

#include "store/postgres_job_store.h"
#include "store/postgres_rows.h"

namespace fcd {

using nlohmann::json;

using namespace pg;  // NOLINT: this file is the store's own

namespace {

const std::string kEventSelect = "SELECT id, job_id, time_ms, type, payload_json FROM events ";

// A job's events after event $2, in watch order (schema/postgresql/0005_event_writer.sql): by
// writer transaction, then id, and only those of transactions below the snapshot's xmin, which no
// later commit can land behind. A cursor that is not this job's event (0, or pruned) falls back
// to the ids.
const std::string kEventsInWatchOrder =
    "WITH after AS (SELECT writer, id FROM events WHERE id = $2 AND job_id = $1) "
    "SELECT id, job_id, time_ms, type, payload_json FROM events "
    "WHERE job_id = $1 AND writer < pg_snapshot_xmin(pg_current_snapshot()) AND "
    "CASE WHEN EXISTS (SELECT 1 FROM after) THEN (writer, id) > (SELECT writer, id FROM after) "
    "ELSE id > $2 END ORDER BY writer, id LIMIT $3";

EventRecord read_event(const pqxx::row& row) {
  EventRecord e;
  e.id = row[0].as<int64_t>();
  e.job_id = row[1].as<int64_t>();
  e.time_ms = row[2].as<int64_t>();
  e.type = parse_stored<EventType>(row[3].as<std::string>());
  e.payload = json::parse(row[4].as<std::string>(), nullptr, false);
  return e;
}

}  // namespace

std::vector<HeldItem> PostgresJobStore::held_items_tx(Tx& tx, const std::string& where) {
  // SKIP LOCKED: a daemon sweeping at the same moment takes the other items; each goes once.
  auto rows = tx.exec(
      "SELECT i.job_id, i.idx, i.lease_owner, i.lease_until_ms, j.state FROM items i JOIN jobs j "
      "ON j.id = i.job_id WHERE i.state = " +
      lit(ItemState::kRunning) + " AND (" + where +
      ") ORDER BY i.job_id, i.idx FOR UPDATE OF i SKIP LOCKED");
  std::vector<HeldItem> out;
  for (const auto& r : rows)
    out.push_back({r[0].as<int64_t>(), r[1].as<int>(), r[2].as<std::string>(), r[3].as<int64_t>(),
                   is_terminal(parse_stored<JobState>(r[4].as<std::string>()))});
  return out;
}

int PostgresJobStore::apply_requeue_tx(Tx& tx, const RequeuePlan& plan) {
  const std::string running = enum_name(ItemState::kRunning);
  for (const auto& h : plan.cancel)
    tx.exec_params(
        "UPDATE items SET state = $1, claimed_by = '', finished_ms = $2 WHERE job_id = $3 AND "
        "idx = $4 AND state = $5",
        enum_name(ItemState::kCancelled), now_ms(), h.job_id, h.idx, running);
  for (auto [job_id, idx] : plan.blame)
    tx.exec_params("UPDATE items SET crashes = crashes + 1 WHERE job_id = $1 AND idx = $2", job_id,
                   idx);
  // lease_owner and lease_until_ms stay: the last holder, for whoever looks at the row.
  for (const auto& h : plan.requeue)
    tx.exec_params(
        "UPDATE items SET state = $1, claimed_by = '' WHERE job_id = $2 AND idx = $3 AND "
        "state = $4",
        enum_name(ItemState::kQueued), h.job_id, h.idx, running);
  for (const auto& [job_id, payload] : plan.events) event_tx(tx, job_id, EventType::kLog, payload);
  return static_cast<int>(plan.requeue.size());
}

int PostgresJobStore::renew_leases() {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "renew_leases", Replay::kHarmless, [&](pqxx::work& tx) {
    auto r = tx.exec_params(
        "UPDATE items SET lease_until_ms = $1 WHERE lease_owner = $2 AND " + sql::renewed_leases(),
        lease_until_ms(), lease_holder().id);
    tx.commit();
    return static_cast<int>(r.affected_rows());
  });
}

int PostgresJobStore::requeue_expired() {
  int n = 0;
  {
    std::lock_guard<FairMutex> lk(mu_);
    // A replay finds those items queued already
    n = in_tx(conn_->c, "requeue_expired", Replay::kHarmless, [&](pqxx::work& tx) {
      auto dead = held_items_tx(tx, "i.lease_until_ms < " + std::to_string(now_ms()));
      if (dead.empty()) return 0;
      int n = apply_requeue_tx(tx, plan_requeue(dead, std::nullopt, kLeaseRanOut));
      tx.commit();
      return n;
    });
  }
  if (n == 0) return 0;
  JobStore::published(last_event_id());
  notify_work();
  return n;
}

void PostgresJobStore::hold_job_end_tx(Tx& tx, int64_t job_id) {
  // On the job's last item: a lease like an item's, renewed by the heartbeat until finalize_job.
  tx.exec_params(
      "UPDATE items SET lease_owner = $1, lease_until_ms = $2 WHERE job_id = $3 AND idx = "
      "(SELECT MAX(idx) FROM items WHERE job_id = $3)",
      lease_holder().id, lease_until_ms(), job_id);
}

bool PostgresJobStore::take_job_end_tx(Tx& tx, int64_t job_id) {
  // SKIP LOCKED: a finisher or another sweeper holding the job row is dealing with it now.
  if (tx.exec_params("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE SKIP LOCKED", job_id).empty())
    return false;
  auto job = job_tx(tx, job_id);
  const int64_t newest =
      tx.exec_params1("SELECT COALESCE(MAX(lease_until_ms), 0) FROM items WHERE job_id = $1",
                      job_id)[0]
          .as<int64_t>();
  if (!job || !job_end_abandoned(*job, newest, now_ms())) return false;
  hold_job_end_tx(tx, job_id);
  event_tx(tx, job_id, EventType::kLog, job_end_taken_event(lease_holder().id));
  return true;
}

namespace {

// A sweep whose commit is in doubt may hold the ends of jobs that no thread here will end, and
// that this daemon's heartbeat would keep: their leases end now, so the next sweep (any
// daemon's) takes them again.
void drop_job_ends(Link& link, const std::string& holder, const std::vector<int64_t>& jobs) {
  if (jobs.empty()) return;
  std::string in;  // ids read back from the table: nothing to escape
  for (int64_t id : jobs) in += (in.empty() ? "(" : ", ") + std::to_string(id);
  in_tx(link, "give back unsure job ends", Replay::kHarmless, [&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE items SET lease_until_ms = 0 WHERE lease_owner = $1 AND job_id IN " + in + ")",
        holder);
    tx.commit();
  });
}

}  // namespace

std::vector<int64_t> PostgresJobStore::take_abandoned_jobs() {
  std::vector<int64_t> taken;
  {
    std::lock_guard<FairMutex> lk(mu_);
    try {
      in_tx(conn_->c, "take_abandoned_jobs", [&](pqxx::work& tx) {
        taken.clear();  // a run again after a lost connection starts afresh
        for (const auto& r : tx.exec(sql::abandoned_job_candidates(now_ms())))
          if (take_job_end_tx(tx, r[0].as<int64_t>())) taken.push_back(r[0].as<int64_t>());
        if (!taken.empty()) tx.commit();
      });
    } catch (const CommitInDoubt&) {
      drop_job_ends(conn_->c, lease_holder().id, taken);
      throw;
    }
  }
  if (!taken.empty()) JobStore::published(last_event_id());
  return taken;
}

void PostgresJobStore::reopen_jobs_tx(Tx& tx, Recovery& r) {
  std::vector<JobRecord> open;
  for (const auto& row :
       tx.exec(job_select() + "WHERE j.state IN " + lits({JobState::kQueued, JobState::kRunning}) +
               " GROUP BY j.id ORDER BY j.id"))
    open.push_back(read_job(row));
  for (const auto& j : open) {
    const ReopenAction action = reopen_action(j);
    if (action == ReopenAction::kFinalize) {
      r.jobs_to_finalize.push_back(j.id);
      continue;
    }
    r.open_jobs.push_back(j.id);
    // Nothing of it finished or runs, on this daemon or another.
    if (action == ReopenAction::kRequeue) {
      tx.exec_params("UPDATE jobs SET state = $1 WHERE id = $2", enum_name(JobState::kQueued),
                     j.id);
      state_event_tx(tx, j.id, "queued again after a daemon restart");
    }
  }
}

JobStore::Recovery PostgresJobStore::recover(const std::optional<CrashedItem>& note) {
  Recovery r;
  {
    std::lock_guard<FairMutex> lk(mu_);
    // A replay finds nothing left to take back
    in_tx(conn_->c, "recover", Replay::kHarmless, [&](pqxx::work& tx) {
      r = Recovery{};  // a run again after a lost connection starts afresh
      // This node's earlier runs are gone (the data dir's lock says so): their items go back at
      // once. Other daemons' items only when their lease ran out; '' = claimed before leases.
      const std::string where = "i.lease_owner = '' OR i.lease_until_ms < " +
                                std::to_string(now_ms()) + " OR starts_with(i.lease_owner, " +
                                tx.quote(lease_holder().node + "/") + ")";
      r.items_requeued =
          apply_requeue_tx(tx, plan_requeue(held_items_tx(tx, where), note, kDaemonStopped));
      reopen_jobs_tx(tx, r);
      tx.commit();
      return 0;
    });
  }
  JobStore::published(last_event_id());
  notify_work();
  return r;
}

std::optional<JobRecord> PostgresJobStore::get_job(int64_t id) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "get_job", [&](pqxx::work& tx) { return job_tx(tx, id); });
}

std::vector<ItemRecord> PostgresJobStore::items(int64_t job_id) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "items", [&](pqxx::work& tx) {
    std::vector<ItemRecord> out;
    for (const auto& row : tx.exec_params(item_select() + "WHERE job_id = $1 ORDER BY idx", job_id))
      out.push_back(read_item(row));
    return out;
  });
}

ItemPage PostgresJobStore::item_page(int64_t job_id, std::optional<ItemState> state, int offset,
                                     int limit) {
  std::lock_guard<FairMutex> lk(mu_);
  const std::string name = name_or_empty(state);
  return in_tx(conn_->c, "item_page", [&](pqxx::work& tx) {
    ItemPage page;
    page.total = tx.exec_params1(
                       "SELECT COUNT(*) FROM items WHERE job_id = $1 AND ($2 = '' OR "
                       "state = $2)",
                       job_id, name)[0]
                     .as<int>();
    for (const auto& row :
         tx.exec_params(item_select() + "WHERE job_id = $1 AND ($2 = '' OR state = $2) "
                                        "ORDER BY idx LIMIT $3 OFFSET $4",
                        job_id, name, limit, std::max(0, offset)))
      page.items.push_back(read_item(row));
    return page;
  });
}

std::vector<JobRecord> PostgresJobStore::list_jobs(const std::string& owner,
                                                   std::optional<JobState> state, int limit,
                                                   std::optional<JobKind> kind) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "list_jobs", [&](pqxx::work& tx) {
    std::vector<JobRecord> out;
    for (const auto& row : tx.exec_params(
             job_select() +
                 "WHERE ($1 = '' OR j.owner = $1) AND ($2 = '' OR j.state = $2) AND ($3 = '' OR "
                 "j.kind = $3) GROUP BY j.id ORDER BY j.id DESC LIMIT $4",
             owner, name_or_empty(state), name_or_empty(kind), limit))
      out.push_back(read_job(row));
    return out;
  });
}

void PostgresJobStore::set_result(int64_t job_id, const std::string& result_json) {
  std::lock_guard<FairMutex> lk(mu_);
  in_tx(conn_->c, "set_result", Replay::kHarmless, [&](pqxx::work& tx) {
    tx.exec_params("UPDATE jobs SET result_json = $1 WHERE id = $2", result_json, job_id);
    tx.commit();
    return 0;
  });
}

int PostgresJobStore::count_running(JobKind kind) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "count_running", [&](pqxx::work& tx) {
    return tx
        .exec_params1(
            "SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id WHERE "
            "i.state = $1 AND j.kind = $2",
            enum_name(ItemState::kRunning), enum_name(kind))[0]
        .as<int>();
  });
}

std::vector<std::string> PostgresJobStore::output_reports(const std::string& owner,
                                                          const std::string& output) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "output_reports", [&](pqxx::work& tx) {
    std::vector<std::string> out;
    for (const auto& row : tx.exec_params(
             "SELECT i.report_json FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.output = "
             "$1 AND i.state = $2 AND j.kind = $3 AND j.owner = $4 ORDER BY i.job_id DESC",
             output, enum_name(ItemState::kSucceeded), enum_name(JobKind::kTransform), owner))
      out.push_back(row[0].as<std::string>());
    return out;
  });
}

std::vector<EventRecord> PostgresJobStore::events_after(int64_t job_id, int64_t after_id,
                                                        int limit) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "events_after", [&](pqxx::work& tx) {
    std::vector<EventRecord> out;
    for (const auto& row : tx.exec_params(kEventsInWatchOrder, job_id, after_id, limit))
      out.push_back(read_event(row));
    return out;
  });
}

std::optional<EventRecord> PostgresJobStore::last_event(int64_t job_id, EventType type) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "last_event", [&](pqxx::work& tx) -> std::optional<EventRecord> {
    auto r =
        tx.exec_params(kEventSelect + "WHERE job_id = $1 AND type = $2 ORDER BY id DESC LIMIT 1",
                       job_id, enum_name(type));
    if (r.empty()) return std::nullopt;
    return read_event(r[0]);
  });
}

}  // namespace fcd
