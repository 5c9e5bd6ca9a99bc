// Retention: an old finished job loses its events and its job folder but keeps its summary row,
// its items and its manifest; running and recent jobs are untouched.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "store/database.h"
#include "store/migrations.h"
#include "store/retention.h"
#include "store/sqlite_job_store.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using fcd::Database;

namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1000 * kDay;  // the fake clock

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    fcd::apply_migrations(db_);
    jobs_ = std::make_unique<fcd::SqliteJobStore>(db_);
  }

  // A job in `state` that finished `age_days` before kNow (0 when unfinished), with three
  // events, an item, a folder in the data dir and a manifest beside its outputs.
  int64_t add_job(const std::string& state, int64_t age_days) {
    const int64_t finished = state == "running" ? 0 : kNow - age_days * kDay;
    const std::string manifest = tmp_ / ("out/manifest_" + std::to_string(++n_) + ".jsonl");
    auto st = db_.prepare(
        "INSERT INTO jobs (kind, state, owner, output_dir, result_json, created_ms, started_ms, "
        "finished_ms) VALUES ('transform', ?1, 'ann', ?2, ?3, ?4, ?4, ?5)");
    st.bind(1, state)
        .bind(2, tmp_ / "out")
        .bind(3, "{\"manifest\": {\"jsonl\": \"" + manifest + "\"}}")
        .bind(4, kNow - 400 * kDay)
        .bind(5, finished)
        .run();
    const int64_t id = db_.last_insert_id();
    for (int i = 0; i < 3; ++i)
      db_.prepare("INSERT INTO events (job_id, time_ms, type) VALUES (?1, ?2, 'progress')")
          .bind(1, id)
          .bind(2, finished)
          .run();
    db_.prepare("INSERT INTO items (job_id, idx, state) VALUES (?1, 0, 'succeeded')")
        .bind(1, id)
        .run();
    fs::create_directories(folder(id) + "/checkpoints");
    std::ofstream(folder(id) + "/checkpoints/step_100.pt") << "weights";
    fs::create_directories(tmp_ / "out");
    std::ofstream(manifest) << "{\"input\": \"a.png\"}\n";
    return id;
  }
  std::string folder(int64_t id) { return tmp_ / ("d/jobs/" + std::to_string(id)); }
  int64_t count(const std::string& table, int64_t id) {
    auto st = db_.prepare("SELECT COUNT(*) FROM " + table + " WHERE " +
                          (table == "jobs" ? "id" : "job_id") + " = ?1");
    st.bind(1, id).step();
    return st.int64(0);
  }
  std::string manifest_of(int64_t id) {
    auto st = db_.prepare("SELECT result_json FROM jobs WHERE id = ?1");
    st.bind(1, id).step();
    const std::string r = st.text(0);
    const auto at = r.find(tmp_.path());
    return r.substr(at, r.rfind('"') - at);
  }

  fcd_test::TempDir tmp_;
  Database db_{tmp_ / "state.db"};
  std::unique_ptr<fcd::SqliteJobStore> jobs_;  // what retention reads, on db_
  int n_ = 0;
};

TEST_F(Retention, OldFinishedJobKeepsOnlySummaryItemsAndManifest) {
  const int64_t old_ok = add_job("succeeded", 40), old_failed = add_job("failed", 31);
  const int64_t running = add_job("running", 0), recent = add_job("succeeded", 29);
  auto n = fcd::prune_finished_jobs(*jobs_, tmp_ / "d/jobs", 30, kNow);
  EXPECT_EQ(n.jobs, 2);
  EXPECT_EQ(n.events, 6);
  EXPECT_EQ(n.folders, 2);
  for (int64_t id : {old_ok, old_failed}) {
    EXPECT_EQ(count("events", id), 0) << id;
    EXPECT_FALSE(fs::exists(folder(id))) << id;
    EXPECT_EQ(count("jobs", id), 1) << id;
    EXPECT_EQ(count("items", id), 1) << id;
    EXPECT_TRUE(fs::exists(manifest_of(id))) << manifest_of(id);
  }
  for (int64_t id : {running, recent}) {
    EXPECT_EQ(count("events", id), 3) << id;
    EXPECT_TRUE(fs::exists(folder(id) + "/checkpoints/step_100.pt")) << id;
  }
  // A second pass finds nothing left to do.
  auto again = fcd::prune_finished_jobs(*jobs_, tmp_ / "d/jobs", 30, kNow);
  EXPECT_EQ(again.jobs, 0);
}

TEST_F(Retention, ZeroDaysKeepsEverything) {
  const int64_t old = add_job("cancelled", 4000);
  auto n = fcd::prune_finished_jobs(*jobs_, tmp_ / "d/jobs", 0, kNow);
  EXPECT_EQ(n.jobs, 0);
  EXPECT_EQ(count("events", old), 3);
  EXPECT_TRUE(fs::exists(folder(old)));
}

TEST_F(Retention, AFolderLinkIsRemovedNotFollowed) {
  const int64_t old = add_job("succeeded", 40);
  fs::remove_all(folder(old));
  fs::create_directories(tmp_ / "elsewhere");
  std::ofstream(tmp_ / "elsewhere/keep.txt") << "keep";
  fs::create_directory_symlink(tmp_ / "elsewhere", folder(old));
  fcd::prune_finished_jobs(*jobs_, tmp_ / "d/jobs", 30, kNow);
  EXPECT_FALSE(fs::exists(fs::symlink_status(folder(old))));
  EXPECT_TRUE(fs::exists(tmp_ / "elsewhere/keep.txt"));
}

TEST_F(Retention, TaskPrunesAtStart) {
  // Finished 10 days before the real clock's now: the task uses the real clock.
  auto st = db_.prepare(
      "INSERT INTO jobs (kind, state, owner, created_ms, finished_ms) "
      "VALUES ('train', 'succeeded', 'ann', 1, ?1)");
  st.bind(1, fcd::now_ms() - 10 * kDay).run();
  const int64_t id = db_.last_insert_id();
  db_.prepare("INSERT INTO events (job_id, time_ms, type) VALUES (?1, 1, 'log')").bind(1, id).run();
  fs::create_directories(folder(id));
  {
    fcd::RetentionTask task(*jobs_, tmp_ / "d/jobs", 7);
    for (int i = 0; i < 200 && fs::exists(folder(id)); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_FALSE(fs::exists(folder(id)));
  EXPECT_EQ(count("events", id), 0);
}

}  // namespace
