// PostgresJobStore: start-up recovery and the read-only queries (listings, pages, events).
#include <pqxx/pqxx>

#include "store/postgres_job_store.h"
#include "store/postgres_rows.h"

namespace fcd {

using nlohmann::json;

using namespace pg;  // NOLINT: this file is the store's own

int PostgresJobStore::requeue_items_tx(Tx& tx, const std::optional<CrashedItem>& note) {
  const std::string running = lit(ItemState::kRunning);
  // Items of jobs that ended while they ran: they end too.
  tx.exec_params("UPDATE items SET state = $1, claimed_by = '', finished_ms = $2 WHERE state = " +
                     running + " AND job_id IN (SELECT id FROM jobs WHERE state IN " +
                     lits({JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) + ")",
                 enum_name(ItemState::kCancelled), now_ms());
  auto counts =
      tx.exec("SELECT job_id, COUNT(*) FROM items WHERE state = " + running + " GROUP BY job_id");
  if (note)
    tx.exec_params(
        "UPDATE items SET crashes = crashes + 1 WHERE job_id = $1 AND idx = $2 AND state = " +
            running,
        note->job_id, note->idx);
  else  // no note: blamed on an item only when that item was alone in flight
    tx.exec0("UPDATE items SET crashes = crashes + 1 WHERE state = " + running +
             " AND (SELECT COUNT(*) FROM items WHERE state = " + running + ") = 1");
  tx.exec_params("UPDATE items SET state = $1, claimed_by = '' WHERE state = " + running,
                 enum_name(ItemState::kQueued));
  int total = 0;
  for (const auto& row : counts) {
    const int n = row[1].as<int>();
    total += n;
    event_tx(
        tx, row[0].as<int64_t>(), EventType::kLog,
        {{"item_index", -1},
         {"level", "warn"},
         {"message", std::to_string(n) + " item(s) re-queued: the daemon stopped while they ran"}});
  }
  return total;
}

void PostgresJobStore::reopen_jobs_tx(Tx& tx, Recovery& r) {
  std::vector<JobRecord> open;
  for (const auto& row :
       tx.exec(job_select() + "WHERE j.state IN " + lits({JobState::kQueued, JobState::kRunning}) +
               " GROUP BY j.id ORDER BY j.id"))
    open.push_back(read_job(row));
  for (const auto& j : open) {
    if (j.items_queued + j.items_running == 0) {
      r.jobs_to_finalize.push_back(j.id);
      continue;
    }
    r.open_jobs.push_back(j.id);
    // A running job with nothing finished yet is simply queued again.
    if (j.state == JobState::kRunning && j.items_done + j.items_failed + j.items_cancelled == 0) {
      tx.exec_params("UPDATE jobs SET state = $1 WHERE id = $2", enum_name(JobState::kQueued),
                     j.id);
      state_event_tx(tx, j.id, "queued again after a daemon restart");
    }
  }
}

JobStore::Recovery PostgresJobStore::recover(const std::optional<CrashedItem>& note) {
  Recovery r;
  {
    std::lock_guard<std::mutex> lk(mu_);
    in_tx(conn_->c, "recover", [&](pqxx::work& tx) {
      r.items_requeued = requeue_items_tx(tx, note);
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
  std::lock_guard<std::mutex> lk(mu_);
  return in_tx(conn_->c, "get_job", [&](pqxx::work& tx) { return job_tx(tx, id); });
}

std::vector<ItemRecord> PostgresJobStore::items(int64_t job_id) {
  std::lock_guard<std::mutex> lk(mu_);
  return in_tx(conn_->c, "items", [&](pqxx::work& tx) {
    std::vector<ItemRecord> out;
    for (const auto& row : tx.exec_params(item_select() + "WHERE job_id = $1 ORDER BY idx", job_id))
      out.push_back(read_item(row));
    return out;
  });
}

ItemPage PostgresJobStore::item_page(int64_t job_id, std::optional<ItemState> state, int offset,
                                     int limit) {
  std::lock_guard<std::mutex> lk(mu_);
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
  std::lock_guard<std::mutex> lk(mu_);
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
  std::lock_guard<std::mutex> lk(mu_);
  in_tx(conn_->c, "set_result", [&](pqxx::work& tx) {
    tx.exec_params("UPDATE jobs SET result_json = $1 WHERE id = $2", result_json, job_id);
    tx.commit();
    return 0;
  });
}

int PostgresJobStore::count_running(JobKind kind) {
  std::lock_guard<std::mutex> lk(mu_);
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
  std::lock_guard<std::mutex> lk(mu_);
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
  std::lock_guard<std::mutex> lk(mu_);
  return in_tx(conn_->c, "events_after", [&](pqxx::work& tx) {
    std::vector<EventRecord> out;
    for (const auto& row : tx.exec_params(
             "SELECT id, job_id, time_ms, type, payload_json FROM events WHERE job_id = $1 AND "
             "id > $2 ORDER BY id LIMIT $3",
             job_id, after_id, limit)) {
      EventRecord e;
      e.id = row[0].as<int64_t>();
      e.job_id = row[1].as<int64_t>();
      e.time_ms = row[2].as<int64_t>();
      e.type = parse_stored<EventType>(row[3].as<std::string>());
      e.payload = json::parse(row[4].as<std::string>(), nullptr, false);
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace fcd
