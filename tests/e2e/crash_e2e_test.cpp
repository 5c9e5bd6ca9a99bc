// kill -9 the daemon at random moments during jobs, restart it, and check that every item
// finished exactly once with a complete output. FC_CRASH_CYCLES sets the number of kills
// (default 5), FC_CRASH_SEED the random seed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kItems = 30;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct SubmittedJob {
  long long id;
  std::string out_dir;
};

// Rows of a query with one text column per row, joined with '|'.
std::vector<std::string> query(sqlite3* db, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db) << " in " << sql;
    return rows;
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* t = sqlite3_column_text(st, c);
      row += (c ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  return rows;
}

void check_job_in_db(sqlite3* db, long long id) {
  SCOPED_TRACE("job " + std::to_string(id));
  auto state = query(db, "SELECT state FROM jobs WHERE id = " + std::to_string(id));
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0], "succeeded");
  auto items = query(db, "SELECT idx, state FROM items WHERE job_id = " + std::to_string(id));
  EXPECT_EQ(items.size(), static_cast<size_t>(kItems));
  for (const auto& row : items) EXPECT_EQ(row.substr(row.find('|') + 1), "succeeded") << row;

  // Exactly one completion event per item.
  std::map<int, int> completions;
  for (const auto& payload :
       query(db, "SELECT payload_json FROM events WHERE type = 'item' AND job_id = " +
                     std::to_string(id))) {
    json p = json::parse(payload, nullptr, false);
    ASSERT_FALSE(p.is_discarded()) << payload;
    if (p.value("item_state", "") == "succeeded") ++completions[p.value("item_index", -1)];
  }
  EXPECT_EQ(completions.size(), static_cast<size_t>(kItems));
  for (const auto& [idx, n] : completions)
    EXPECT_EQ(n, 1) << "item " << idx << " completed " << n << " times";
}

// Complete after the job: one row per item, each once, whatever the crashes repeated.
void check_manifest(const std::string& path, long long id) {
  std::istringstream lines(read_file(path));
  std::map<int, int> rows;
  for (std::string l; std::getline(lines, l);) {
    json row = json::parse(l, nullptr, false);
    ASSERT_FALSE(row.is_discarded()) << l;
    EXPECT_EQ(row["job"], id);
    EXPECT_EQ(row["state"], "succeeded") << l;
    ++rows[row["index"].get<int>()];
  }
  EXPECT_EQ(rows.size(), static_cast<size_t>(kItems)) << path;
  for (const auto& [idx, n] : rows) EXPECT_EQ(n, 1) << "item " << idx << " has " << n << " rows";
}

}  // namespace

TEST(Crash, KillNineDuringJobsLosesAndRepeatsNothing) {
  const int cycles = env_int("FC_CRASH_CYCLES", 5);
  const unsigned seed =
      static_cast<unsigned>(env_int("FC_CRASH_SEED", static_cast<int>(time(nullptr))));
  RecordProperty("seed", static_cast<int>(seed));
  std::printf("crash test: %d cycles, FC_CRASH_SEED=%u\n", cycles, seed);
  std::mt19937 rng(seed);

  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(2, 60));
  auto inputs = write_png_set(t / "in", kItems, 128, 96);
  d.start();

  std::vector<SubmittedJob> jobs;
  auto submit = [&] {
    std::string out = t / ("out/" + std::to_string(jobs.size()));
    RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", out, t / "in"});
    ASSERT_EQ(r.rc, 0) << r.err << d.log();
    jobs.push_back({r.json()["job_id"].get<long long>(), out});
  };
  submit();

  // A watcher that follows the first job across every crash: it must reconnect and resume.
  Child watcher = spawn(
      {client_binary(), "--server", d.server(), "--json", "watch", std::to_string(jobs[0].id)},
      t / "watch.out");
  // Let it start streaming first: a watch that cannot reach the daemon at all fails fast.
  for (int i = 0; i < 500 && read_file(t / "watch.out").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  for (int c = 0; c < cycles; ++c) {
    // Kill anywhere from right after start-up to well into the work.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 700)(rng)));
    d.kill9();
    d.start();
    RunResult r = d.cli({"show", std::to_string(jobs.back().id)});
    ASSERT_EQ(r.rc, 0) << r.err;
    if (r.json()["state"] == "succeeded") submit();  // keep the daemon busy for later kills
  }

  for (const auto& j : jobs) {
    json job = wait_for_job(d, j.id, "", std::chrono::seconds(120));
    EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
    EXPECT_EQ(job["items_done"], kItems);
    for (const auto& in : inputs) {
      std::string out = j.out_dir + "/" + fs::path(in).filename().string();
      EXPECT_TRUE(is_flipped_copy(in, out)) << out << " is missing or not the complete output";
    }
    // No interrupted write left behind: the outputs, the job's contact sheet and manifests.
    int files = 0;
    for (const auto& e : fs::directory_iterator(j.out_dir)) {
      std::string name = e.path().filename().string();
      if (name.find("sheet") != std::string::npos) {
        EXPECT_FALSE(cv::imread(e.path().string()).empty()) << "broken sheet " << e.path();
        continue;
      }
      if (name == "manifest_job" + std::to_string(j.id) + ".jsonl") {
        check_manifest(e.path().string(), j.id);
        continue;
      }
      if (name == "manifest_job" + std::to_string(j.id) + ".csv") continue;
      ++files;
      EXPECT_EQ(name.rfind("img_", 0), 0u) << "stray file " << e.path();
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << "temp file left " << e.path();
    }
    EXPECT_EQ(files, kItems) << j.out_dir;
  }

  // The watcher saw each event once, in order, and the end.
  EXPECT_EQ(watcher.wait(std::chrono::seconds(60)), 0) << read_file(t / "watch.out");
  std::istringstream lines(read_file(t / "watch.out"));
  long long last = 0;
  std::map<int, int> watched_completions;
  for (std::string l; std::getline(lines, l);) {
    json e = json::parse(l, nullptr, false);
    if (e.is_discarded()) continue;  // a warning line
    EXPECT_GT(e["id"].get<long long>(), last) << "event repeated or out of order: " << l;
    last = e["id"];
    if (e["type"] == "item" && e["item_state"] == "succeeded")
      ++watched_completions[e["item_index"]];
  }
  EXPECT_EQ(watched_completions.size(), static_cast<size_t>(kItems));

  EXPECT_EQ(d.stop(SIGTERM), 0);
  std::string db_path = d.db_path();
  ASSERT_FALSE(db_path.empty()) << "no database file in " << d.data_dir();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const auto& j : jobs) check_job_in_db(db, j.id);
  sqlite3_close(db);
}
