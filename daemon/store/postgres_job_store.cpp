#include "store/postgres_job_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <set>

#include "store/postgres_listener.h"
#include "store/postgres_rows.h"

namespace fcd {

using nlohmann::json;

namespace {

using namespace pg;  // NOLINT: this file is the store's own

const std::string kOpenJobStates = lits({JobState::kQueued, JobState::kRunning});
const std::string kQueued = lit(ItemState::kQueued);
const std::string kRunning = lit(ItemState::kRunning);

// A claim whose commit is in doubt may have leased items to this daemon that no worker here
// will run and that its heartbeat would keep leased: any such go back to the queue (they run
// once, here or elsewhere). They are this holder's, by this worker, claimed since it began.
void hand_back_claim(Link& link, const std::string& holder, const std::string& worker,
                     int64_t since, const std::string& why) {
  const auto n = in_tx(link, "hand back an unsure claim", Replay::kHarmless, [&](pqxx::work& tx) {
    auto r = tx.exec_params(
        "UPDATE items SET state = $1, claimed_by = '' WHERE state = $2 AND lease_owner = $3 "
        "AND claimed_by = $4 AND claimed_ms >= $5",
        enum_name(ItemState::kQueued), enum_name(ItemState::kRunning), holder, worker, since);
    tx.commit();
    return r.affected_rows();
  });
  spdlog::warn("{}; handed back the {} item(s) it took", why, n);
}

// Whether `holder` leases the end of the job (hold_job_end_tx): an ended item with a lease.
bool holds_job_end(pqxx::transaction_base& tx, int64_t job_id, const std::string& holder) {
  return !tx.exec_params(
                "SELECT 1 FROM items WHERE job_id = $1 AND lease_owner = $2 AND state <> "
                "$3 AND lease_until_ms > 0 LIMIT 1",
                job_id, holder, enum_name(ItemState::kRunning))
              .empty();
}

}  // namespace

PostgresJobStore::PostgresJobStore(const std::string& url, PostgresOptions options)
    : options_(options) {
  conn_ = std::make_unique<Connection>(url);  // throws DbError saying what to check
  migrations_applied_ = apply_migrations();
  submit_conn_ = std::make_unique<Connection>(url);
  JobStore::published(last_event_id());
  // Another daemon's event wakes this one's watchers; its submits and re-queues, the workers.
  listener_ = std::make_unique<PostgresEventListener>(url, [this](int64_t id) {
    JobStore::published(id);
    notify_work();
  });
}

PostgresJobStore::~PostgresJobStore() = default;

int PostgresJobStore::apply_migrations() { return pg::apply_migrations(conn_->c); }

int PostgresJobStore::schema_version() {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "schema_version", [](pqxx::work& tx) {
    return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0].as<int>();
  });
}

int64_t PostgresJobStore::last_event_id() {
  std::lock_guard<FairMutex> lk(mu_);
  return last_event_id_locked();
}

int64_t PostgresJobStore::last_event_id_locked() {
  return in_tx(conn_->c, "last_event_id", [](pqxx::work& tx) {
    return tx.exec1("SELECT COALESCE(MAX(id), 0) FROM events")[0].as<int64_t>();
  });
}

std::optional<JobRecord> PostgresJobStore::job_tx(Tx& tx, int64_t id, bool lock) {
  // The row lock first (FOR UPDATE does not combine with GROUP BY): the counts read after it
  // are then final for everyone else who locks the job before changing its items' ends.
  if (lock && tx.exec_params("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", id).empty())
    return std::nullopt;
  auto r = tx.exec_params(job_select() + "WHERE j.id = $1 GROUP BY j.id", id);
  if (r.empty()) return std::nullopt;
  return read_job(r[0]);
}

int64_t PostgresJobStore::event_tx(Tx& tx, int64_t job_id, EventType type, const json& payload) {
  // The NOTIFY goes out at commit, to every daemon's listener (postgres_listener.h).
  return tx
      .exec_params1(
          "WITH e AS (INSERT INTO events (job_id, time_ms, type, payload_json) VALUES ($1, $2, "
          "$3, $4) RETURNING id) SELECT id, pg_notify('" +
              std::string(kEventChannel) + "', id::text) FROM e",
          job_id, now_ms(), enum_name(type), payload.dump())[0]
      .as<int64_t>();
}

int64_t PostgresJobStore::state_event_tx(Tx& tx, int64_t job_id, const std::string& message) {
  auto j = job_tx(tx, job_id);
  if (!j) return 0;
  return event_tx(tx, job_id, EventType::kState, {{"message", message}, {"job", job_to_json(*j)}});
}

int64_t PostgresJobStore::add_event(int64_t job_id, EventType type, const json& payload) {
  int64_t id;
  {
    std::lock_guard<FairMutex> lk(mu_);
    id = in_tx(conn_->c, "add_event", [&](pqxx::work& tx) {
      int64_t id = event_tx(tx, job_id, type, payload);
      tx.commit();
      return id;
    });
  }
  JobStore::published(id);
  return id;
}

void PostgresJobStore::insert_items_tx(Tx& tx, int64_t job_id, const std::vector<NewItem>& items) {
  // Multi-row INSERTs: one round trip per 500 items instead of one per item.
  constexpr size_t kChunk = 500;
  const std::string queued = tx.quote(enum_name(ItemState::kQueued));
  const std::string job = std::to_string(job_id);
  for (size_t start = 0; start < items.size(); start += kChunk) {
    std::string sql = "INSERT INTO items (job_id, idx, input, output, state) VALUES ";
    for (size_t i = start; i < std::min(items.size(), start + kChunk); ++i) {
      if (i > start) sql += ", ";
      sql += "(" + job + ", " + std::to_string(i) + ", " + tx.quote(items[i].input) + ", " +
             tx.quote(items[i].output) + ", " + queued + ")";
    }
    tx.exec0(sql);
  }
}

int64_t PostgresJobStore::submit(JobKind kind, const std::string& owner, int priority,
                                 const std::string& request_json, const std::string& output_dir,
                                 const std::vector<NewItem>& items) {
  std::optional<std::pair<int64_t, int64_t>> done;  // the job and its "queued" event
  {
    std::lock_guard<FairMutex> lk(submit_mu_);
    // A submit cut in its COMMIT is looked up by the id its INSERT returned: there once the
    // server process has ended means recorded (ids are never reused), absent means rolled back,
    // and then it runs once more. So a user hears "maybe" only when the server could not say.
    for (int run = 1; !done; ++run) {
      std::pair<int64_t, int64_t> sent{0, 0};
      try {
        done = in_tx(submit_conn_->c, "submit", [&](pqxx::work& tx) {
          sent.first = insert_job_tx(tx, kind, owner, priority, request_json, output_dir);
          insert_items_tx(tx, sent.first, items);
          sent.second = state_event_tx(tx, sent.first,
                                       "queued with " + std::to_string(items.size()) + " item(s)");
          tx.commit();
          return sent;
        });
      } catch (const pg::CommitInDoubt& e) {
        if (!e.settled || sent.first == 0 || run >= 2) throw;
        if (job_recorded(sent.first)) done = sent;
        spdlog::warn(
            "PostgreSQL: the connection to the job database at {} broke while job {} was "
            "committing; the server had {}",
            submit_conn_->c.where(), sent.first,
            done ? "recorded it" : "rolled it back, so it is submitted again");
      }
    }
  }
  JobStore::published(done->second);
  notify_work();
  return done->first;
}

int64_t PostgresJobStore::insert_job_tx(Tx& tx, JobKind kind, const std::string& owner,
                                        int priority, const std::string& request_json,
                                        const std::string& output_dir) {
  return tx
      .exec_params1(
          "INSERT INTO jobs (kind, state, owner, priority, request_json, output_dir, created_ms) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          enum_name(kind), enum_name(JobState::kQueued), owner, priority, request_json, output_dir,
          now_ms())[0]
      .as<int64_t>();
}

bool PostgresJobStore::job_recorded(int64_t id) {
  return in_tx(submit_conn_->c, "look for an unsure submit", Replay::kHarmless,
               [&](pqxx::work& tx) {
                 return !tx.exec_params("SELECT 1 FROM jobs WHERE id = $1", id).empty();
               });
}

std::optional<PostgresJobStore::Picked> PostgresJobStore::pick_items_tx(Tx& tx, bool allow_train,
                                                                        bool allow_transform,
                                                                        int max_items) {
  std::string kinds = allow_train && allow_transform ? lits({JobKind::kTransform, JobKind::kTrain})
                      : allow_train                  ? lits({JobKind::kTrain})
                                                     : lits({JobKind::kTransform});
  // One row per (priority, owner): the owner's oldest job there with a queued item.
  auto rows = tx.exec(
      "WITH busy AS (SELECT j.owner, COUNT(*) AS n FROM items i JOIN jobs j ON j.id = i.job_id "
      "WHERE i.state = " +
      kRunning +
      " GROUP BY j.owner) "
      "SELECT j.priority, j.owner, MIN(j.id), MAX(COALESCE(b.n, 0)) FROM jobs j "
      "LEFT JOIN busy b ON b.owner = j.owner WHERE j.state IN " +
      kOpenJobStates + " AND j.kind IN " + kinds +
      " AND EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id AND i.state = " + kQueued +
      ") GROUP BY j.priority, j.owner");
  std::vector<ClaimCandidate> candidates;
  for (const auto& r : rows)
    candidates.push_back(
        {r[0].as<int>(), r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<int>()});
  // Another daemon may hold every queued item of the fairest job: then the next fairest.
  while (auto pick = pick_fair(candidates, turns_, options_.limits)) {
    const ClaimCandidate c = candidates[*pick];
    const bool train =
        tx.exec_params1("SELECT kind FROM jobs WHERE id = $1", c.job_id)[0].as<std::string>() ==
        enum_name(JobKind::kTrain);
    Picked p{c.job_id, {}};
    for (const auto& r :
         tx.exec_params("SELECT idx FROM items WHERE job_id = $1 AND state = " + kQueued +
                            " ORDER BY idx LIMIT $2 FOR UPDATE SKIP LOCKED",
                        c.job_id, claim_batch_size(c, train, options_.limits, max_items)))
      p.idxs.push_back(r[0].as<int>());
    if (!p.idxs.empty()) {
      turns_.served(c.owner);
      return p;
    }
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(*pick));
  }
  return std::nullopt;
}

std::vector<Claim> PostgresJobStore::take_items_tx(Tx& tx, const Picked& p,
                                                   const std::string& worker,
                                                   int64_t& started_event) {
  const int64_t now = now_ms();
  std::string in;  // integers read back from the table: nothing to escape
  for (int idx : p.idxs) in += (in.empty() ? "(" : ", ") + std::to_string(idx);
  in += ")";
  auto items = tx.exec_params(
      "UPDATE items SET state = $1, attempts = attempts + 1, claimed_by = $2, claimed_ms = $3, "
      "error = '', lease_owner = $4, lease_until_ms = $5 WHERE job_id = $6 AND idx IN " +
          in + " RETURNING " + std::string(kItemCols),
      enum_name(ItemState::kRunning), worker, now, lease_holder().id, lease_until_ms(), p.job_id);
  auto job = tx.exec_params(
      "UPDATE jobs SET state = $1, started_ms = CASE started_ms WHEN 0 THEN $2 ELSE started_ms "
      "END WHERE id = $3 AND state = $4",
      enum_name(JobState::kRunning), now, p.job_id, enum_name(JobState::kQueued));
  if (job.affected_rows() > 0)
    started_event = state_event_tx(tx, p.job_id, enum_name(JobState::kRunning));
  // The row only (Claim::job): counting every item of a large job per claim costs more.
  const JobRecord record = read_job(tx.exec_params1(
      "SELECT id, kind, state, owner, priority, request_json, output_dir, result_json, error, "
      "created_ms, started_ms, finished_ms, 0, 0, 0, 0, 0, 0 FROM jobs WHERE id = $1",
      p.job_id));
  std::vector<Claim> out;
  for (const auto& r : items) out.push_back({record, read_item(r)});
  std::sort(out.begin(), out.end(),
            [](const Claim& a, const Claim& b) { return a.item.idx < b.item.idx; });
  return out;
}

std::vector<Claim> PostgresJobStore::claim_batch(const std::string& worker, bool allow_train,
                                                 bool allow_transform, int max_items) {
  if (!allow_train && !allow_transform) return {};
  int64_t started_event = 0;  // the job's "running" event, when this claim started it
  std::vector<Claim> out;
  {
    std::lock_guard<FairMutex> lk(mu_);
    const int64_t since = now_ms();
    try {
      out = in_tx(conn_->c, "claim", [&](pqxx::work& tx) -> std::vector<Claim> {
        started_event = 0;  // a run again after a lost connection starts afresh
        auto picked = pick_items_tx(tx, allow_train, allow_transform, max_items);
        if (!picked) return {};
        auto c = take_items_tx(tx, *picked, worker, started_event);
        tx.commit();
        return c;
      });
    } catch (const pg::CommitInDoubt& e) {
      hand_back_claim(conn_->c, lease_holder().id, worker, since, e.what());
      notify_work();
      return {};
    }
  }
  if (started_event) JobStore::published(started_event);
  return out;
}

bool PostgresJobStore::job_closed_tx(Tx& tx, int64_t job_id) {
  auto r = tx.exec_params("SELECT state FROM jobs WHERE id = $1", job_id);
  if (r.empty() || is_terminal(parse_stored<JobState>(r[0][0].as<std::string>()))) return false;
  return tx
      .exec_params("SELECT 1 FROM items WHERE job_id = $1 AND state IN " +
                       lits({ItemState::kQueued, ItemState::kRunning}) + " LIMIT 1",
                   job_id)
      .empty();
}

int64_t PostgresJobStore::end_items_tx(Tx& tx, const std::vector<ItemEnd>& ends,
                                       std::set<int64_t>& touched) {
  if (ends.empty()) return 0;
  // One statement for the batch (not an UPDATE and an INSERT per item): the round trips were
  // most of a batch's time. Its values are quoted literals, as insert_items_tx's are.
  std::string values;
  for (size_t k = 0; k < ends.size(); ++k) {
    const ItemEnd& e = ends[k];
    const std::string state = enum_name(item_state(e.outcome));
    json payload{{"item_index", e.idx},
                 {"item_state", state},
                 {"message", e.error},
                 {"holder", lease_holder().id}};
    if (!e.report_json.empty()) payload["report"] = json::parse(e.report_json, nullptr, false);
    values += (k ? ", (" : "(") + std::to_string(k) + ", " + std::to_string(e.job_id) +
              "::bigint, " + std::to_string(e.idx) + ", " + tx.quote(state) + ", " +
              tx.quote(e.error) + ", " + tx.quote(e.report_json) + ", " + tx.quote(payload.dump()) +
              ")";
  }
  const std::string now = std::to_string(now_ms());
  // Events in the order of `ends`; one NOTIFY with the newest id (identical ones in a
  // transaction are sent once) wakes the other daemons' watchers as well as one per event did
  // (JobStore::published keeps the highest).
  auto rows = tx.exec(
      "WITH v (k, job_id, idx, state, error, report, payload) AS (VALUES " + values +
      "), ended AS (UPDATE items i SET state = v.state, error = v.error, report_json = v.report, "
      "finished_ms = " +
      now +
      ", claimed_by = '', lease_owner = '', lease_until_ms = 0 FROM v WHERE i.job_id = "
      "v.job_id AND i.idx = v.idx AND i.state = " +
      kRunning + " AND i.lease_owner = " + tx.quote(lease_holder().id) +
      " RETURNING v.k), ev AS (INSERT INTO events (job_id, time_ms, type, payload_json) "
      "SELECT v.job_id, " +
      now + ", " + tx.quote(enum_name(EventType::kItem)) +
      ", v.payload FROM v JOIN ended ON ended.k = v.k ORDER BY v.k RETURNING id, job_id) "
      "SELECT job_id, MAX(id), pg_notify('" +
      std::string(kEventChannel) + "', (SELECT MAX(id) FROM ev)::text) FROM ev GROUP BY job_id");
  int64_t last_ev = 0;
  for (const auto& r : rows) {
    touched.insert(r[0].as<int64_t>());
    last_ev = std::max(last_ev, r[1].as<int64_t>());
  }
  return last_ev;
}

std::vector<int64_t> PostgresJobStore::finish_items(const std::vector<ItemEnd>& ends) {
  std::vector<int64_t> closed;
  int64_t ev = 0;
  {
    std::lock_guard<FairMutex> lk(mu_);
    // Harmless to run again: an end is taken only from this holder's running item, so a replay
    // of a committed run ends nothing twice.
    bool replay = false;  // this run follows one that broke, maybe while committing
    ev = in_tx(conn_->c, "finish_items", Replay::kHarmless, [&](pqxx::work& tx) -> int64_t {
      closed.clear();
      // The job rows first, in id order (no deadlock between two finishers): two daemons ending
      // a job's last two items then see each other's end.
      std::set<int64_t> jobs;
      for (const auto& e : ends) jobs.insert(e.job_id);
      for (int64_t job_id : jobs)
        tx.exec_params("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_id);
      std::set<int64_t> touched;
      const int64_t last_ev = end_items_tx(tx, ends, touched);
      for (int64_t job_id : touched)
        if (job_closed_tx(tx, job_id)) {
          closed.push_back(job_id);
          hold_job_end_tx(tx, job_id);
        }
      // A replay finds the ends a first, committed run recorded no longer ours, and must still
      // report the jobs it closed: those whose end this holder now leases.
      if (replay)
        for (int64_t job_id : jobs)
          if (!touched.count(job_id) && job_closed_tx(tx, job_id) &&
              holds_job_end(tx, job_id, lease_holder().id))
            closed.push_back(job_id);
      replay = true;
      tx.commit();
      return last_ev;
    });
  }
  if (ev) JobStore::published(ev);
  return closed;
}

void PostgresJobStore::release_item(int64_t job_id, int idx, const std::string& why) {
  int64_t ev;
  {
    std::lock_guard<FairMutex> lk(mu_);
    ev = in_tx(conn_->c, "release_item", [&](pqxx::work& tx) {
      tx.exec_params(
          "UPDATE items SET state = $1, claimed_by = '' WHERE job_id = $2 AND idx = $3 AND "
          "state = $4 AND lease_owner = $5",
          enum_name(ItemState::kQueued), job_id, idx, enum_name(ItemState::kRunning),
          lease_holder().id);
      int64_t ev =
          event_tx(tx, job_id, EventType::kLog,
                   {{"item_index", idx}, {"level", "info"}, {"message", "item re-queued: " + why}});
      tx.commit();
      return ev;
    });
  }
  JobStore::published(ev);
  notify_work();
}

void PostgresJobStore::finalize_job(int64_t job_id, json result) {
  int64_t ev;
  {
    std::lock_guard<FairMutex> lk(mu_);
    // A job ends once: a replay finds it ended
    ev = in_tx(conn_->c, "finalize_job", Replay::kHarmless, [&](pqxx::work& tx) -> int64_t {
      auto job = job_tx(tx, job_id, /*lock=*/true);
      if (!job || is_terminal(job->state)) return 0;
      if (job->items_queued + job->items_running > 0) return 0;  // not done yet
      std::string first;
      if (job->items_done == 0 && job->items_failed > 0) {
        auto r = tx.exec_params(
            "SELECT error FROM items WHERE job_id = $1 AND state = $2 ORDER BY idx LIMIT 1", job_id,
            enum_name(ItemState::kFailed));
        if (!r.empty()) first = r[0][0].as<std::string>();
      }
      const JobEnd end = job_end(*job, std::move(result), first);
      const std::string state = enum_name(end.state);
      tx.exec_params(
          "UPDATE jobs SET state = $1, error = $2, result_json = $3, finished_ms = $4 WHERE "
          "id = $5",
          state, end.error, end.result.dump(), now_ms(), job_id);
      // The job's end is done: no lease on it is left for a heartbeat to renew.
      tx.exec_params("UPDATE items SET lease_until_ms = 0 WHERE job_id = $1 AND lease_until_ms > 0",
                     job_id);
      int64_t ev = state_event_tx(tx, job_id, state);
      tx.commit();
      return ev;
    });
  }
  if (ev) JobStore::published(ev);
}

bool PostgresJobStore::cancel_job(int64_t job_id, const std::string& by) {
  int64_t ev;
  {
    std::lock_guard<FairMutex> lk(mu_);
    ev = in_tx(conn_->c, "cancel_job", [&](pqxx::work& tx) -> int64_t {
      auto job = job_tx(tx, job_id, /*lock=*/true);
      if (!job || is_terminal(job->state)) return 0;
      const int64_t now = now_ms();
      tx.exec_params(
          "UPDATE items SET state = $1, finished_ms = $2 WHERE job_id = $3 AND state = $4",
          enum_name(ItemState::kCancelled), now, job_id, enum_name(ItemState::kQueued));
      tx.exec_params("UPDATE jobs SET state = $1, error = $2, finished_ms = $3 WHERE id = $4",
                     enum_name(JobState::kCancelled), "cancelled by " + by, now, job_id);
      int64_t ev = state_event_tx(tx, job_id, "cancelled by " + by);
      tx.commit();
      return ev;
    });
  }
  if (!ev) return false;
  JobStore::published(ev);
  return true;
}

RetryResult PostgresJobStore::retry_failed(int64_t job_id, const std::string& by) {
  RetryResult r;
  {
    std::lock_guard<FairMutex> lk(mu_);
    in_tx(conn_->c, "retry_failed", [&](pqxx::work& tx) {
      r = RetryResult{};  // a run again after a lost connection starts afresh
      auto job = job_tx(tx, job_id, /*lock=*/true);
      if (!job) return 0;
      r.job = *job;
      r.verdict = retry_refusal(*job);
      if (r.verdict != RetryVerdict::kRequeued) return 0;
      // As SqliteJobStore::retry_failed: attempts and crashes keep counting; started_ms and
      // result_json stay until finalize_job merges the new summary into it.
      r.requeued = static_cast<int>(
          tx.exec_params("UPDATE items SET state = $1, error = '', report_json = '', "
                         "finished_ms = 0, claimed_by = '' WHERE job_id = $2 AND state = $3",
                         enum_name(ItemState::kQueued), job_id, enum_name(ItemState::kFailed))
              .affected_rows());
      tx.exec_params("UPDATE jobs SET state = $1, error = '', finished_ms = 0 WHERE id = $2",
                     enum_name(JobState::kQueued), job_id);
      r.job = *job_tx(tx, job_id);
      const std::string message =
          "queued again: " + std::to_string(r.requeued) + " failed item(s) retried by " + by;
      r.event_id = event_tx(tx, job_id, EventType::kState,
                            {{"message", message}, {"job", job_to_json(r.job)}});
      tx.commit();
      return 0;
    });
  }
  if (r.event_id) {
    JobStore::published(r.event_id);
    notify_work();
  }
  return r;
}

bool PostgresJobStore::state_event_after(int64_t job_id, int64_t event_id) {
  std::lock_guard<FairMutex> lk(mu_);
  return in_tx(conn_->c, "state_event_after", [&](pqxx::work& tx) {
    return !tx.exec_params(
                  "SELECT 1 FROM events WHERE job_id = $1 AND id > $2 AND type = $3 "
                  "LIMIT 1",
                  job_id, event_id, enum_name(EventType::kState))
                .empty();
  });
}

}  // namespace fcd
