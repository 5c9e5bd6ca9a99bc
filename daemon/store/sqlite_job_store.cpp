#include "store/sqlite_job_store.h"

#include <set>

#include "store/sql_literals.h"

namespace fcd {

using nlohmann::json;

namespace {

using sql::lit;
using sql::lits;

const std::string kOpenJobStates = lits({JobState::kQueued, JobState::kRunning});

const std::string kJobSelect =
    "SELECT j.id, j.kind, j.state, j.owner, j.priority, j.request_json, j.output_dir, "
    "j.result_json, j.error, j.created_ms, j.started_ms, j.finished_ms, COUNT(i.idx), "
    "SUM(i.state = " +
    lit(ItemState::kSucceeded) + "), SUM(i.state = " + lit(ItemState::kFailed) +
    "), SUM(i.state = " + lit(ItemState::kCancelled) +
    "), SUM(i.state = " + lit(ItemState::kRunning) + "), SUM(i.state = " + lit(ItemState::kQueued) +
    ") FROM jobs j LEFT JOIN items i ON i.job_id = j.id ";

// One job's row without its item counts (read_job's columns, the counts 0): what a claim returns.
const std::string kJobRowSelect =
    "SELECT id, kind, state, owner, priority, request_json, output_dir, result_json, error, "
    "created_ms, started_ms, finished_ms, 0, 0, 0, 0, 0, 0 FROM jobs WHERE id = ?";

const std::string kItemSelect =
    "SELECT job_id, idx, input, output, state, attempts, error, report_json, crashes FROM items ";

JobRecord read_job(const Statement& st) {
  JobRecord j;
  j.id = st.int64(0);
  j.kind = parse_stored<JobKind>(st.text(1));
  j.state = parse_stored<JobState>(st.text(2));
  j.owner = st.text(3);
  j.priority = static_cast<int>(st.int64(4));
  j.request_json = st.text(5);
  j.output_dir = st.text(6);
  j.result_json = st.text(7);
  j.error = st.text(8);
  j.created_ms = st.int64(9);
  j.started_ms = st.int64(10);
  j.finished_ms = st.int64(11);
  j.items_total = static_cast<int>(st.int64(12));
  j.items_done = static_cast<int>(st.int64(13));
  j.items_failed = static_cast<int>(st.int64(14));
  j.items_cancelled = static_cast<int>(st.int64(15));
  j.items_running = static_cast<int>(st.int64(16));
  j.items_queued = static_cast<int>(st.int64(17));
  return j;
}

ItemRecord read_item(const Statement& st) {
  ItemRecord it;
  it.job_id = st.int64(0);
  it.idx = static_cast<int>(st.int64(1));
  it.input = st.text(2);
  it.output = st.text(3);
  it.state = parse_stored<ItemState>(st.text(4));
  it.attempts = static_cast<int>(st.int64(5));
  it.error = st.text(6);
  it.report_json = st.text(7);
  it.crashes = static_cast<int>(st.int64(8));
  return it;
}

const std::string kEventSelect = "SELECT id, job_id, time_ms, type, payload_json FROM events ";

EventRecord read_event(const Statement& st) {
  EventRecord e;
  e.id = st.int64(0);
  e.job_id = st.int64(1);
  e.time_ms = st.int64(2);
  e.type = parse_stored<EventType>(st.text(3));
  e.payload = json::parse(st.text(4), nullptr, false);
  return e;
}

}  // namespace

SqliteJobStore::SqliteJobStore(Database& db, FairShareLimits limits) : db_(db), limits_(limits) {
  // The COMMIT that crosses the threshold copies the WAL into the database under mu_, and every
  // submit behind it waits: at SQLite's 1,000 pages that is 4-6 ms, at 100 under 1.5 ms. Submit
  // p99 fell from 4.3-6.8 to 2.9-3.6 ms, for 15-25 % fewer transitions/s (docs/BENCHMARKS.md).
  db_.exec("PRAGMA wal_autocheckpoint=100");
  JobStore::published(last_event_id());
}

int64_t SqliteJobStore::last_event_id() {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare("SELECT COALESCE(MAX(id), 0) FROM events");
  st.step();
  return st.int64(0);
}

void SqliteJobStore::published() { JobStore::published(last_event_id()); }

std::optional<JobRecord> SqliteJobStore::job_locked(int64_t id) {
  auto st = db_.prepare(kJobSelect + "WHERE j.id = ? GROUP BY j.id");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_job(st);
}

int64_t SqliteJobStore::event_locked(int64_t job_id, EventType type, const json& payload) {
  db_.prepare("INSERT INTO events (job_id, time_ms, type, payload_json) VALUES (?, ?, ?, ?)")
      .bind(1, job_id)
      .bind(2, now_ms())
      .bind(3, enum_name(type))
      .bind(4, payload.dump())
      .run();
  return db_.last_insert_id();
}

int64_t SqliteJobStore::state_event_locked(int64_t job_id, const std::string& message) {
  auto j = job_locked(job_id);
  if (!j) return 0;
  return event_locked(job_id, EventType::kState, {{"message", message}, {"job", job_to_json(*j)}});
}

int64_t SqliteJobStore::add_event(int64_t job_id, EventType type, const json& payload) {
  int64_t id;
  {
    std::lock_guard<FairMutex> lk(mu_);
    id = event_locked(job_id, type, payload);
  }
  JobStore::published(id);
  return id;
}

int64_t SqliteJobStore::submit(JobKind kind, const std::string& owner, int priority,
                               const std::string& request_json, const std::string& output_dir,
                               const std::vector<NewItem>& items) {
  int64_t id, ev;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    db_.prepare(
           "INSERT INTO jobs (kind, state, owner, priority, request_json, output_dir, "
           "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, enum_name(kind))
        .bind(2, enum_name(JobState::kQueued))
        .bind(3, owner)
        .bind(4, priority)
        .bind(5, request_json)
        .bind(6, output_dir)
        .bind(7, now_ms())
        .run();
    id = db_.last_insert_id();
    for (size_t i = 0; i < items.size(); ++i) {
      db_.prepare("INSERT INTO items (job_id, idx, input, output, state) VALUES (?, ?, ?, ?, ?)")
          .bind(1, id)
          .bind(2, static_cast<int64_t>(i))
          .bind(3, items[i].input)
          .bind(4, items[i].output)
          .bind(5, enum_name(ItemState::kQueued))
          .run();
    }
    ev = state_event_locked(id, "queued with " + std::to_string(items.size()) + " item(s)");
    tx.commit();
  }
  // Its own event's id: published() reads the last id under the lock, so a submit waited for a
  // second claim or end in progress (bench_queue's submit p99).
  JobStore::published(ev);
  notify_work();
  return id;
}

std::optional<SqliteJobStore::Picked> SqliteJobStore::pick_items_locked(bool allow_train,
                                                                        bool allow_transform,
                                                                        int max_items) {
  std::string kinds = allow_train && allow_transform ? lits({JobKind::kTransform, JobKind::kTrain})
                      : allow_train                  ? lits({JobKind::kTrain})
                                                     : lits({JobKind::kTransform});
  const std::string queued = lit(ItemState::kQueued), running = lit(ItemState::kRunning);
  // One row per (priority, owner): the owner's oldest job there with a queued item. Few rows,
  // however many items are queued.
  auto st = db_.prepare(
      "WITH busy AS (SELECT j.owner, COUNT(*) AS n FROM items i JOIN jobs j ON j.id = i.job_id "
      "WHERE i.state = " +
      running +
      " GROUP BY j.owner) "
      "SELECT j.priority, j.owner, MIN(j.id), COALESCE(b.n, 0) FROM jobs j "
      "LEFT JOIN busy b ON b.owner = j.owner WHERE j.state IN " +
      kOpenJobStates + " AND j.kind IN " + kinds +
      " AND EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id AND i.state = " + queued +
      ") GROUP BY j.priority, j.owner");
  std::vector<ClaimCandidate> candidates;
  while (st.step())
    candidates.push_back(
        {static_cast<int>(st.int64(0)), st.text(1), st.int64(2), static_cast<int>(st.int64(3))});
  auto pick = pick_fair(candidates, turns_, limits_);
  if (!pick) return std::nullopt;
  const ClaimCandidate& c = candidates[*pick];
  auto kind = db_.prepare("SELECT kind FROM jobs WHERE id = ?");
  kind.bind(1, c.job_id).step();
  const bool train = parse_stored<JobKind>(kind.text(0)) == JobKind::kTrain;
  auto item = db_.prepare("SELECT idx FROM items WHERE job_id = ? AND state = " + queued +
                          " ORDER BY idx LIMIT ?");
  item.bind(1, c.job_id).bind(2, claim_batch_size(c, train, limits_, max_items));
  Picked p{c.job_id, {}};
  while (item.step()) p.idxs.push_back(static_cast<int>(item.int64(0)));
  if (p.idxs.empty()) return std::nullopt;
  turns_.served(c.owner);
  return p;
}

std::vector<Claim> SqliteJobStore::claim_batch(const std::string& worker, bool allow_train,
                                               bool allow_transform, int max_items) {
  if (!allow_train && !allow_transform) return {};
  std::vector<Claim> out;
  int64_t started = 0;  // the job's "running" event, when this claim started it
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    auto picked = pick_items_locked(allow_train, allow_transform, max_items);
    if (!picked) return {};
    const int64_t job_id = picked->job_id;
    std::string in;  // integers read back from the table: nothing to escape
    for (int idx : picked->idxs) in += (in.empty() ? "(" : ", ") + std::to_string(idx);
    in += ")";
    const int64_t now = now_ms();
    db_.prepare(
           "UPDATE items SET state = ?, attempts = attempts + 1, claimed_by = ?, claimed_ms = ?, "
           "error = '', lease_owner = ?, lease_until_ms = ? WHERE job_id = ? AND idx IN " +
           in)
        .bind(1, enum_name(ItemState::kRunning))
        .bind(2, worker)
        .bind(3, now)
        .bind(4, lease_holder().id)
        .bind(5, lease_until_ms())
        .bind(6, job_id)
        .run();
    db_.prepare(
           "UPDATE jobs SET state = ?, started_ms = CASE started_ms WHEN 0 THEN ? ELSE "
           "started_ms END WHERE id = ? AND state = ?")
        .bind(1, enum_name(JobState::kRunning))
        .bind(2, now)
        .bind(3, job_id)
        .bind(4, enum_name(JobState::kQueued))
        .run();
    if (db_.changes() > 0) started = state_event_locked(job_id, enum_name(JobState::kRunning));
    auto row = db_.prepare(kJobRowSelect);
    row.bind(1, job_id).step();
    const JobRecord job = read_job(row);
    auto is = db_.prepare(kItemSelect + "WHERE job_id = ? AND idx IN " + in + " ORDER BY idx");
    is.bind(1, job_id);
    while (is.step()) out.push_back({job, read_item(is)});
    tx.commit();
  }
  if (started) JobStore::published(started);
  return out;
}

bool SqliteJobStore::job_closed_locked(int64_t job_id) {
  auto st = db_.prepare("SELECT state FROM jobs WHERE id = ?");
  st.bind(1, job_id);
  if (!st.step() || is_terminal(parse_stored<JobState>(st.text(0)))) return false;
  auto open = db_.prepare("SELECT 1 FROM items WHERE job_id = ? AND state IN " +
                          lits({ItemState::kQueued, ItemState::kRunning}) + " LIMIT 1");
  open.bind(1, job_id);
  return !open.step();
}

std::vector<int64_t> SqliteJobStore::finish_items(const std::vector<ItemEnd>& ends) {
  std::vector<int64_t> closed;
  int64_t last_ev = 0;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    std::set<int64_t> touched;
    for (const auto& e : ends) {
      const std::string state = enum_name(item_state(e.outcome));
      db_.prepare(
             "UPDATE items SET state = ?, error = ?, report_json = ?, finished_ms = ?, "
             "claimed_by = '', lease_owner = '', lease_until_ms = 0 WHERE job_id = ? AND idx = ? "
             "AND state = ? AND lease_owner = ?")
          .bind(1, state)
          .bind(2, e.error)
          .bind(3, e.report_json)
          .bind(4, now_ms())
          .bind(5, e.job_id)
          .bind(6, e.idx)
          .bind(7, enum_name(ItemState::kRunning))
          .bind(8, lease_holder().id)
          .run();
      if (db_.changes() == 0) continue;  // not ours any more (e.g. its lease ran out)
      json payload{{"item_index", e.idx},
                   {"item_state", state},
                   {"message", e.error},
                   {"holder", lease_holder().id}};
      if (!e.report_json.empty()) payload["report"] = json::parse(e.report_json, nullptr, false);
      last_ev = event_locked(e.job_id, EventType::kItem, payload);
      touched.insert(e.job_id);
    }
    for (int64_t job_id : touched)
      if (job_closed_locked(job_id)) {
        closed.push_back(job_id);
        hold_job_end_locked(job_id);
      }
    tx.commit();
  }
  if (last_ev) JobStore::published(last_ev);
  return closed;
}

void SqliteJobStore::release_item(int64_t job_id, int idx, const std::string& why) {
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    db_.prepare(
           "UPDATE items SET state = ?, claimed_by = '' WHERE job_id = ? AND idx = ? "
           "AND state = ? AND lease_owner = ?")
        .bind(1, enum_name(ItemState::kQueued))
        .bind(2, job_id)
        .bind(3, idx)
        .bind(4, enum_name(ItemState::kRunning))
        .bind(5, lease_holder().id)
        .run();
    event_locked(job_id, EventType::kLog,
                 {{"item_index", idx}, {"level", "info"}, {"message", "item re-queued: " + why}});
    tx.commit();
  }
  published();
  notify_work();
}

void SqliteJobStore::finalize_job(int64_t job_id, json result) {
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    auto job = job_locked(job_id);
    if (!job || is_terminal(job->state)) return;
    if (job->items_queued + job->items_running > 0) return;  // not done yet
    std::string first;
    if (job->items_done == 0 && job->items_failed > 0) {
      auto st = db_.prepare(
          "SELECT error FROM items WHERE job_id = ? AND state = ? ORDER BY idx LIMIT 1");
      st.bind(1, job_id).bind(2, enum_name(ItemState::kFailed));
      first = st.step() ? st.text(0) : "";
    }
    const JobEnd end = job_end(*job, std::move(result), first);
    const std::string state = enum_name(end.state);
    db_.prepare(
           "UPDATE jobs SET state = ?, error = ?, result_json = ?, finished_ms = ? WHERE id = ?")
        .bind(1, state)
        .bind(2, end.error)
        .bind(3, end.result.dump())
        .bind(4, now_ms())
        .bind(5, job_id)
        .run();
    // The job's end is done: no lease on it is left for a heartbeat to renew.
    db_.prepare("UPDATE items SET lease_until_ms = 0 WHERE job_id = ? AND lease_until_ms > 0")
        .bind(1, job_id)
        .run();
    state_event_locked(job_id, state);
    tx.commit();
  }
  published();
}

bool SqliteJobStore::cancel_job(int64_t job_id, const std::string& by) {
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    auto job = job_locked(job_id);
    if (!job || is_terminal(job->state)) return false;
    db_.prepare("UPDATE items SET state = ?, finished_ms = ? WHERE job_id = ? AND state = ?")
        .bind(1, enum_name(ItemState::kCancelled))
        .bind(2, now_ms())
        .bind(3, job_id)
        .bind(4, enum_name(ItemState::kQueued))
        .run();
    db_.prepare("UPDATE jobs SET state = ?, error = ?, finished_ms = ? WHERE id = ?")
        .bind(1, enum_name(JobState::kCancelled))
        .bind(2, "cancelled by " + by)
        .bind(3, now_ms())
        .bind(4, job_id)
        .run();
    state_event_locked(job_id, "cancelled by " + by);
    tx.commit();
  }
  published();
  return true;
}

std::vector<HeldItem> SqliteJobStore::held_items_locked(const std::string& where) {
  auto st = db_.prepare(
      "SELECT i.job_id, i.idx, i.lease_owner, i.lease_until_ms, j.state FROM items i JOIN jobs j "
      "ON j.id = i.job_id WHERE i.state = " +
      lit(ItemState::kRunning) + " AND (" + where + ") ORDER BY i.job_id, i.idx");
  std::vector<HeldItem> out;
  while (st.step())
    out.push_back({st.int64(0), static_cast<int>(st.int64(1)), st.text(2), st.int64(3),
                   is_terminal(parse_stored<JobState>(st.text(4)))});
  return out;
}

int SqliteJobStore::apply_requeue_locked(const RequeuePlan& plan) {
  const std::string running = enum_name(ItemState::kRunning);
  for (const auto& h : plan.cancel)
    db_.prepare(
           "UPDATE items SET state = ?, claimed_by = '', finished_ms = ? WHERE job_id = ? AND "
           "idx = ? AND state = ?")
        .bind(1, enum_name(ItemState::kCancelled))
        .bind(2, now_ms())
        .bind(3, h.job_id)
        .bind(4, h.idx)
        .bind(5, running)
        .run();
  for (auto [job_id, idx] : plan.blame)
    db_.prepare("UPDATE items SET crashes = crashes + 1 WHERE job_id = ? AND idx = ?")
        .bind(1, job_id)
        .bind(2, idx)
        .run();
  // lease_owner and lease_until_ms stay: the last holder, for whoever looks at the row.
  for (const auto& h : plan.requeue)
    db_.prepare(
           "UPDATE items SET state = ?, claimed_by = '' WHERE job_id = ? AND idx = ? AND "
           "state = ?")
        .bind(1, enum_name(ItemState::kQueued))
        .bind(2, h.job_id)
        .bind(3, h.idx)
        .bind(4, running)
        .run();
  for (const auto& [job_id, payload] : plan.events) event_locked(job_id, EventType::kLog, payload);
  return static_cast<int>(plan.requeue.size());
}

int SqliteJobStore::renew_leases() {
  std::lock_guard<FairMutex> lk(mu_);
  db_.prepare("UPDATE items SET lease_until_ms = ? WHERE lease_owner = ? AND " +
              sql::renewed_leases())
      .bind(1, lease_until_ms())
      .bind(2, lease_holder().id)
      .run();
  return db_.changes();
}

void SqliteJobStore::hold_job_end_locked(int64_t job_id) {
  // On the job's last item: a lease like an item's, renewed by the heartbeat until finalize_job.
  db_.prepare(
         "UPDATE items SET lease_owner = ?, lease_until_ms = ? WHERE job_id = ? AND idx = "
         "(SELECT MAX(idx) FROM items WHERE job_id = ?)")
      .bind(1, lease_holder().id)
      .bind(2, lease_until_ms())
      .bind(3, job_id)
      .bind(4, job_id)
      .run();
}

bool SqliteJobStore::take_job_end_locked(int64_t job_id) {
  auto job = job_locked(job_id);
  auto lease = db_.prepare("SELECT COALESCE(MAX(lease_until_ms), 0) FROM items WHERE job_id = ?");
  lease.bind(1, job_id).step();
  if (!job || !job_end_abandoned(*job, lease.int64(0), now_ms())) return false;
  hold_job_end_locked(job_id);
  event_locked(job_id, EventType::kLog, job_end_taken_event(lease_holder().id));
  return true;
}

std::vector<int64_t> SqliteJobStore::take_abandoned_jobs() {
  std::vector<int64_t> taken;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    std::vector<int64_t> candidates;
    auto st = db_.prepare(sql::abandoned_job_candidates(now_ms()));
    while (st.step()) candidates.push_back(st.int64(0));
    for (int64_t id : candidates)
      if (take_job_end_locked(id)) taken.push_back(id);
    if (taken.empty()) return {};
    tx.commit();
  }
  published();
  return taken;
}

int SqliteJobStore::requeue_expired() {
  int n = 0;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    auto dead = held_items_locked("i.lease_until_ms < " + std::to_string(now_ms()));
    if (dead.empty()) return 0;
    n = apply_requeue_locked(plan_requeue(dead, std::nullopt, kLeaseRanOut));
    tx.commit();
  }
  published();
  notify_work();
  return n;
}

void SqliteJobStore::reopen_jobs_locked(Recovery& r) {
  auto st = db_.prepare(kJobSelect + "WHERE j.state IN " + kOpenJobStates +
                        " GROUP BY j.id ORDER BY j.id");
  std::vector<JobRecord> open;
  while (st.step()) open.push_back(read_job(st));
  for (const auto& j : open) {
    const ReopenAction action = reopen_action(j);
    if (action == ReopenAction::kFinalize) {
      r.jobs_to_finalize.push_back(j.id);
      continue;
    }
    r.open_jobs.push_back(j.id);
    if (action == ReopenAction::kRequeue) {
      db_.prepare("UPDATE jobs SET state = ? WHERE id = ?")
          .bind(1, enum_name(JobState::kQueued))
          .bind(2, j.id)
          .run();
      state_event_locked(j.id, "queued again after a daemon restart");
    }
  }
}

SqliteJobStore::Recovery SqliteJobStore::recover(const std::optional<CrashedItem>& note) {
  Recovery r;
  {
    std::lock_guard<FairMutex> lk(mu_);
    Transaction tx(db_);
    // One daemon owns the file (the data dir's lock): whatever runs is a previous run's.
    r.items_requeued =
        apply_requeue_locked(plan_requeue(held_items_locked("1"), note, kDaemonStopped));
    reopen_jobs_locked(r);
    tx.commit();
  }
  published();
  notify_work();
  return r;
}

std::optional<JobRecord> SqliteJobStore::get_job(int64_t id) {
  std::lock_guard<FairMutex> lk(mu_);
  return job_locked(id);
}

std::vector<ItemRecord> SqliteJobStore::items(int64_t job_id) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(kItemSelect + "WHERE job_id = ? ORDER BY idx");
  st.bind(1, job_id);
  std::vector<ItemRecord> out;
  while (st.step()) out.push_back(read_item(st));
  return out;
}

ItemPage SqliteJobStore::item_page(int64_t job_id, std::optional<ItemState> state, int offset,
                                   int limit) {
  std::lock_guard<FairMutex> lk(mu_);
  const std::string name = state ? enum_name(*state) : "";
  ItemPage page;
  auto count = db_.prepare("SELECT COUNT(*) FROM items WHERE job_id = ? AND (? = '' OR state = ?)");
  count.bind(1, job_id).bind(2, name).bind(3, name);
  count.step();
  page.total = static_cast<int>(count.int64(0));
  auto st = db_.prepare(kItemSelect +
                        "WHERE job_id = ? AND (? = '' OR state = ?) ORDER BY idx LIMIT ? OFFSET ?");
  st.bind(1, job_id).bind(2, name).bind(3, name).bind(4, limit).bind(5, std::max(0, offset));
  while (st.step()) page.items.push_back(read_item(st));
  return page;
}

std::vector<JobRecord> SqliteJobStore::list_jobs(const std::string& owner,
                                                 std::optional<JobState> state, int limit,
                                                 std::optional<JobKind> kind) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(kJobSelect +
                        "WHERE (? = '' OR j.owner = ?) AND (? = '' OR j.state = ?) "
                        "AND (? = '' OR j.kind = ?) GROUP BY j.id ORDER BY j.id DESC LIMIT ?");
  const std::string state_name = state ? enum_name(*state) : "";
  const std::string kind_name = kind ? enum_name(*kind) : "";
  st.bind(1, owner).bind(2, owner).bind(3, state_name).bind(4, state_name);
  st.bind(5, kind_name).bind(6, kind_name).bind(7, limit);
  std::vector<JobRecord> out;
  while (st.step()) out.push_back(read_job(st));
  return out;
}

void SqliteJobStore::set_result(int64_t job_id, const std::string& result_json) {
  std::lock_guard<FairMutex> lk(mu_);
  db_.prepare("UPDATE jobs SET result_json = ? WHERE id = ?")
      .bind(1, result_json)
      .bind(2, job_id)
      .run();
}

int SqliteJobStore::count_running(JobKind kind) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(
      "SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.state = ? AND "
      "j.kind = ?");
  st.bind(1, enum_name(ItemState::kRunning)).bind(2, enum_name(kind));
  st.step();
  return static_cast<int>(st.int64(0));
}

std::vector<std::string> SqliteJobStore::output_reports(const std::string& owner,
                                                        const std::string& output) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(
      "SELECT i.report_json FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.output = ? AND "
      "i.state = ? AND j.kind = ? AND j.owner = ? ORDER BY i.job_id DESC");
  st.bind(1, output)
      .bind(2, enum_name(ItemState::kSucceeded))
      .bind(3, enum_name(JobKind::kTransform))
      .bind(4, owner);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::vector<EventRecord> SqliteJobStore::events_after(int64_t job_id, int64_t after_id, int limit) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(kEventSelect + "WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?");
  st.bind(1, job_id).bind(2, after_id).bind(3, limit);
  std::vector<EventRecord> out;
  while (st.step()) out.push_back(read_event(st));
  return out;
}

std::optional<EventRecord> SqliteJobStore::last_event(int64_t job_id, EventType type) {
  std::lock_guard<FairMutex> lk(mu_);
  auto st = db_.prepare(kEventSelect + "WHERE job_id = ? AND type = ? ORDER BY id DESC LIMIT 1");
  st.bind(1, job_id).bind(2, enum_name(type));
  if (!st.step()) return std::nullopt;
  return read_event(st);
}

}  // namespace fcd
