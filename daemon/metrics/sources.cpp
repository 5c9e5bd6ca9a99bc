#include "metrics/sources.h"

#include <map>
#include <memory>
#include <mutex>

#include "store/database.h"

namespace fcd {

namespace {

using Families = std::vector<prometheus::MetricFamily>;

constexpr JobKind kKinds[] = {JobKind::kTransform, JobKind::kTrain};
constexpr JobState kJobStates[] = {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                                   JobState::kFailed, JobState::kCancelled};
constexpr ItemState kItemStates[] = {ItemState::kQueued, ItemState::kRunning, ItemState::kSucceeded,
                                     ItemState::kFailed, ItemState::kCancelled};

void job_counts(Database& db, Families& out) {
  std::map<std::pair<std::string, std::string>, int64_t> n;
  // Every kind and state appears, at 0 when there is none: a series that vanishes reads as
  // "unknown" in Prometheus, not as zero.
  for (auto k : kKinds)
    for (auto s : kJobStates) n[{enum_name(k), enum_name(s)}] = 0;
  auto st = db.prepare("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state");
  while (st.step()) n[{st.text(0), st.text(1)}] = st.int64(2);
  auto f = gauge_family("facecycle_jobs", "Jobs in the queue's database, by kind and state");
  for (const auto& [key, count] : n)
    add_gauge(f, {{"kind", key.first}, {"state", key.second}}, static_cast<double>(count));
  out.push_back(std::move(f));
}

void item_counts(Database& db, Families& out) {
  std::map<std::string, int64_t> n;
  for (auto s : kItemStates) n[enum_name(s)] = 0;
  auto st = db.prepare("SELECT state, COUNT(*) FROM items GROUP BY state");
  while (st.step()) n[st.text(0)] = st.int64(1);
  auto f = gauge_family("facecycle_items", "Items in the queue's database, by state");
  for (const auto& [state, count] : n) add_gauge(f, {{"state", state}}, static_cast<double>(count));
  out.push_back(std::move(f));
}

// Per user, from the items' state: only users with such items appear, so the label set stays
// as small as the active users.
void user_counts(Database& db, ItemState state, const char* name, const char* help, Families& out) {
  auto st = db.prepare(
      "SELECT j.owner, COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id "
      "WHERE i.state = ?1 GROUP BY j.owner ORDER BY j.owner");
  st.bind(1, enum_name(state));
  auto f = gauge_family(name, help);
  while (st.step()) add_gauge(f, {{"user", st.text(0)}}, static_cast<double>(st.int64(1)));
  out.push_back(std::move(f));
}

}  // namespace

Metrics::Source queue_source(const std::string& db_path) {
  struct Reader {
    std::mutex mu;
    std::unique_ptr<Database> db;
  };
  auto r = std::make_shared<Reader>();
  return [r, db_path](Families& out) {
    std::lock_guard<std::mutex> lk(r->mu);
    if (!r->db) r->db = std::make_unique<Database>(db_path);  // opened at the first scrape
    // One read transaction: the counts agree with each other.
    r->db->exec("BEGIN");
    try {
      job_counts(*r->db, out);
      item_counts(*r->db, out);
      user_counts(*r->db, ItemState::kRunning, "facecycle_user_running_items",
                  "Items running now, by the owner of their job", out);
      user_counts(*r->db, ItemState::kQueued, "facecycle_user_queued_items",
                  "Items waiting to run, by the owner of their job", out);
    } catch (...) {
      r->db->exec("ROLLBACK");
      throw;
    }
    r->db->exec("COMMIT");
  };
}

Metrics::Source model_source(const ModelRegistry& models) {
  return [&models](Families& out) {
    auto f = gauge_family("facecycle_model_info",
                          "The resident model (value 1), with its device and precision");
    if (auto m = models.current())
      add_gauge(f,
                {{"model", m->card().name}, {"device", m->device()}, {"precision", m->precision()}},
                1);
    out.push_back(std::move(f));
  };
}

}  // namespace fcd
