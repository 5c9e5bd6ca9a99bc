// The PostgreSQL stores' shared pieces (their .cpp files only): SQL fragments, row readers, the
// transaction wrapper and the migrations. Not part of any store's interface.
#pragma once

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "store/database.h"  // DbError
#include "store/job_records.h"
#include "store/postgres_job_store.h"
#include "store/postgres_link.h"  // in_tx: reconnects and runs a broken transaction again
#include "store/sql_literals.h"

namespace fcd {
struct PostgresJobStore::Connection {
  explicit Connection(const std::string& url) : c(url) {}
  pg::Link c;  // a pqxx::connection that comes back after a restart or a drop
};
}  // namespace fcd

namespace fcd::pg {

using sql::lit;
using sql::lits;

inline std::string count_state(ItemState s) {
  return "COUNT(*) FILTER (WHERE i.state = " + lit(s) + ")";
}

// A job with its item counts; end with "GROUP BY j.id".
inline const std::string& job_select() {
  static const std::string s =
      "SELECT j.id, j.kind, j.state, j.owner, j.priority, j.request_json, j.output_dir, "
      "j.result_json, j.error, j.created_ms, j.started_ms, j.finished_ms, COUNT(i.idx), " +
      count_state(ItemState::kSucceeded) + ", " + count_state(ItemState::kFailed) + ", " +
      count_state(ItemState::kCancelled) + ", " + count_state(ItemState::kRunning) + ", " +
      count_state(ItemState::kQueued) + " FROM jobs j LEFT JOIN items i ON i.job_id = j.id ";
  return s;
}

constexpr const char* kItemCols =
    "job_id, idx, input, output, state, attempts, error, report_json, crashes";

inline std::string item_select() { return std::string("SELECT ") + kItemCols + " FROM items "; }

inline JobRecord read_job(const pqxx::row& r) {
  JobRecord j;
  j.id = r[0].as<int64_t>();
  j.kind = parse_stored<JobKind>(r[1].as<std::string>());
  j.state = parse_stored<JobState>(r[2].as<std::string>());
  j.owner = r[3].as<std::string>();
  j.priority = r[4].as<int>();
  j.request_json = r[5].as<std::string>();
  j.output_dir = r[6].as<std::string>();
  j.result_json = r[7].as<std::string>();
  j.error = r[8].as<std::string>();
  j.created_ms = r[9].as<int64_t>();
  j.started_ms = r[10].as<int64_t>();
  j.finished_ms = r[11].as<int64_t>();
  j.items_total = r[12].as<int>();
  j.items_done = r[13].as<int>();
  j.items_failed = r[14].as<int>();
  j.items_cancelled = r[15].as<int>();
  j.items_running = r[16].as<int>();
  j.items_queued = r[17].as<int>();
  return j;
}

inline ItemRecord read_item(const pqxx::row& r) {
  ItemRecord it;
  it.job_id = r[0].as<int64_t>();
  it.idx = r[1].as<int>();
  it.input = r[2].as<std::string>();
  it.output = r[3].as<std::string>();
  it.state = parse_stored<ItemState>(r[4].as<std::string>());
  it.attempts = r[5].as<int>();
  it.error = r[6].as<std::string>();
  it.report_json = r[7].as<std::string>();
  it.crashes = r[8].as<int>();
  return it;
}

// Applies schema/postgresql/ migrations not applied yet, under an advisory lock, so processes
// that start together apply each once. Returns how many it applied. Throws DbError.
int apply_migrations(Link& c);
// A new connection to `url`, with the schema migrated. Throws DbError.
std::unique_ptr<Link> connect_migrated(const std::string& url);

// An optional filter as a parameter: '' matches everything (as the SQLite store does).
template <typename E>
std::string name_or_empty(const std::optional<E>& v) {
  return v ? enum_name(*v) : std::string();
}

}  // namespace fcd::pg
