// kill -9 the real facecycled while the `train` plugin trains a tiny synthetic model, restart it
// on the same data dir, twice, and check that each restart resumed from the newest checkpoint
// on disk (not from step 0), that the steps it redid reproduce the losses of the killed run, and
// that the job then finished and published its model. FC_TRAIN_CRASH_CYCLES sets the number of
// kills (default 2).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_support.h"
#include "synthetic_tasks.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr long kStageSteps = 60;  // two stages: 16 px then 32 px, as in kConfig
constexpr long kTotalSteps = 2 * kStageSteps;
constexpr long kCheckpointEvery = 20;
constexpr long kLogEvery = 5;

// Two tasks, two stages (the discriminators change depth between them), no evaluation.
const std::string kConfig =
    fcd_test::tiny_two_stage_training("crashy", kStageSteps, kCheckpointEvery);

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The step of the newest metric the job has stored so far (read from the daemon's SQLite file
// while it runs); -1 when there is none yet.
long newest_metric_step(const std::string& db_path, long long id) {
  sqlite3* db = nullptr;
  long step = -1;
  if (!db_path.empty() &&
      sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    std::string sql =
        "SELECT payload_json FROM events WHERE type = 'metric' AND job_id = " + std::to_string(id) +
        " ORDER BY id DESC LIMIT 1";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      json p =
          json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), nullptr, false);
      if (p.is_object()) step = p.value("metric_step", -1L);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return step;
}

// Waits until the job dir holds a complete checkpoint of at least `min_step` and the training
// has reported a step after the newest checkpoint (so a restart has steps to redo). Returns
// that checkpoint's step, -1 on timeout.
long wait_past_checkpoint(const Daemon& d, const std::string& ckpt_dir, long long id, long min_step,
                          std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    long c = newest_checkpoint(ckpt_dir);
    if (c >= min_step && newest_metric_step(d.db_path(), id) > c) return c;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

// The job's state straight from the database of a daemon that is not running.
std::string job_state_in_db(const std::string& db_path, long long id) {
  sqlite3* db = nullptr;
  std::string state = "(no database)";
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    std::string sql = "SELECT state FROM jobs WHERE id = " + std::to_string(id);
    state = "(no row)";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      state = std::string("(query failed: ") + sqlite3_errmsg(db) + ")";
    else if (sqlite3_step(st) == SQLITE_ROW)
      state = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return state;
}

// What the training reported in one run of the item (between two daemon starts).
struct Segment {
  long resumed_at = 0;  // the step the run said it resumed from; 0 for the first run
  std::map<std::string, std::map<long, double>> metrics;  // name -> step -> value
};

// Writes kConfig to `config` and submits it to `d`, detached: the job's id, or -1 (the failure
// recorded) when the submit failed.
long long submit_training(Daemon& d, const std::string& config) {
  write_file(config, kConfig);
  RunResult sub = d.cli({"train", "--config", config, "--detach"});
  EXPECT_EQ(sub.rc, 0) << sub.out << sub.err << d.log();
  return sub.rc == 0 ? sub.json().value("job_id", -1LL) : -1;
}

}  // namespace

TEST(TrainCrash, KillNineDuringTrainingResumesFromCheckpointAndFinishes) {
  const int cycles = env_int("FC_TRAIN_CRASH_CYCLES", 2);
  const auto t_start = std::chrono::steady_clock::now();
  TempDir t;
  DaemonOptions opts;
  opts.workers = 1;
  opts.real_pipeline = true;  // build/plugins, which holds train.so
  Daemon d(t.path(), opts);
  d.start();

  const long long id = submit_training(d, t / "in/crashy.toml");
  ASSERT_GT(id, 0);
  const std::string job_dir = d.data_dir() + "/jobs/" + std::to_string(id);
  const std::string ckpt_dir = job_dir + "/checkpoints";
  const std::string model_path = d.data_dir() + "/models/crashy.pt";

  // Once a checkpoint exists and the training has reported a step past it (so that the resumed
  // run has steps to redo), kill -9 and note the newest complete checkpoint: the restart must
  // resume exactly there. Each later kill waits for a checkpoint past the previous resume
  // point; the second one lands in the 32 px stage.
  std::vector<long> expected_resume;
  long min_step = kCheckpointEvery;
  for (int c = 0; c < cycles; ++c) {
    SCOPED_TRACE("kill " + std::to_string(c + 1));
    long seen = wait_past_checkpoint(d, ckpt_dir, id, min_step, std::chrono::seconds(60));
    ASSERT_GE(seen, min_step) << "no checkpoint >= " << min_step << " (and a step past it) in "
                              << ckpt_dir << "; log:\n"
                              << d.log();
    d.kill9();
    ASSERT_FALSE(d.running());
    const long newest = newest_checkpoint(ckpt_dir);
    ASSERT_GE(newest, seen);
    ASSERT_LT(newest, kTotalSteps) << "the training finished before the kill: nothing to resume";
    const std::string state = job_state_in_db(d.db_path(), id);
    EXPECT_TRUE(state == "running" || state == "queued") << "job state after kill -9: " << state;
    EXPECT_FALSE(fs::exists(model_path)) << "the model was published before the kill";
    expected_resume.push_back(newest);
    std::printf("kill %d: newest checkpoint at step %ld (checkpoints:", c + 1, newest);
    for (long s : checkpoint_steps(ckpt_dir)) std::printf(" %ld", s);
    std::printf(")\n");
    d.start();
    min_step = newest + kCheckpointEvery;
    if (c == 0 && cycles > 1) min_step = std::max(min_step, kStageSteps + kCheckpointEvery);
  }

  json job = wait_for_job(d, id, "", std::chrono::seconds(120));
  ASSERT_EQ(job.value("state", ""), "succeeded") << job.dump(2) << "\n" << d.log();
  EXPECT_EQ(job.value("kind", ""), "train");
  EXPECT_EQ(job.value("items_done", -1), 1);
  EXPECT_EQ(job.value("items_failed", -1), 0);

  // The model and its card were written and registered.
  EXPECT_TRUE(fs::exists(model_path)) << model_path;
  const std::string card_path = d.data_dir() + "/models/crashy.card.json";
  ASSERT_TRUE(fs::exists(card_path)) << card_path;
  json card = json::parse(read_file(card_path), nullptr, false);
  ASSERT_FALSE(card.is_discarded()) << read_file(card_path);
  EXPECT_EQ(card.value("name", ""), "crashy") << card.dump(2);
  ASSERT_TRUE(card.contains("training")) << card.dump(2);
  EXPECT_EQ(card["training"].value("steps", -1L), kTotalSteps) << card.dump(2);
  const json& card_tasks = card["training"]["tasks"];
  EXPECT_EQ(card_tasks["age"].value("steps", 0L) + card_tasks["race"].value("steps", 0L),
            kTotalSteps)
      << card.dump(2);
  RunResult models = d.cli({"models"});
  ASSERT_EQ(models.rc, 0) << models.err;
  bool listed = false;
  for (const auto& m : models.json().value("models", json::array()))
    if (m.value("name", "") == "crashy") {
      listed = true;
      EXPECT_EQ(fs::path(m.value("path", "")), fs::path(model_path)) << m.dump();
    }
  EXPECT_TRUE(listed) << models.out;
  EXPECT_EQ(job["result"].value("model", ""), model_path) << job["result"].dump();

  // `show` names the job's folder and its files; `fetch` downloads them through the API, the
  // model being the installed one (kept in the folder as a hard link).
  RunResult show = d.cli({"show", std::to_string(id)});
  ASSERT_EQ(show.rc, 0) << show.err;
  EXPECT_EQ(show.json().value("job_dir", ""), job_dir) << show.out;
  std::set<std::string> listed_files;
  for (const auto& f : show.json().value("files", json::array()))
    listed_files.insert(f.value("path", ""));
  for (const char* f :
       {"samples.png", "loss_curves.png", "model/crashy.pt", "model/crashy.card.json"})
    EXPECT_TRUE(listed_files.count(f)) << f << " not in " << show.out;
  RunResult fetched = d.cli({"fetch", std::to_string(id), "--out", t / "got"});
  ASSERT_EQ(fetched.rc, 0) << fetched.out << fetched.err;
  EXPECT_EQ(read_file(t / "got/model/crashy.pt"), read_file(model_path));
  EXPECT_EQ(read_file(t / "got/samples.png"), read_file(job_dir + "/samples.png"));
  EXPECT_TRUE(fs::exists(t / "got/loss_curves.png"));
  RunResult again = d.cli({"fetch", std::to_string(id), "--out", t / "got"});
  EXPECT_NE(again.rc, 0) << "fetch replaces no file";
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

  // Every event of the job, in order, from the real client.
  RunResult w = d.cli({"watch", std::to_string(id)});
  ASSERT_EQ(w.rc, 0) << w.out << w.err;
  std::vector<Segment> segments(1);
  static const std::regex resumed_re(R"(resumed from (\S+) at step (\d+))");
  int requeued = 0, lr_events = 0;
  bool model_ready = false;
  long long last_id = 0;
  std::istringstream lines(w.out);
  for (std::string l; std::getline(lines, l);) {
    json e = json::parse(l, nullptr, false);
    if (e.is_discarded() || !e.is_object()) continue;
    EXPECT_GT(e.value("id", 0LL), last_id) << "event out of order: " << l;
    last_id = e.value("id", 0LL);
    const std::string type = e.value("type", ""), msg = e.value("message", "");
    std::smatch m;
    if (type == "log" && std::regex_search(msg, m, resumed_re)) {
      Segment s;
      s.resumed_at = std::stol(m[2]);
      EXPECT_EQ(fs::path(m[1].str()).parent_path(), fs::path(ckpt_dir)) << msg;
      segments.push_back(s);
    } else if (type == "log" && msg.find("re-queued") != std::string::npos) {
      ++requeued;
    } else if (type == "log" && msg.find("model crashy is ready") != std::string::npos) {
      model_ready = true;
    } else if (type == "metric") {
      if (e.value("metric_name", "") == "lr") ++lr_events;
      segments.back().metrics[e.value("metric_name", "")][e.value("metric_step", -1L)] =
          e.value("metric_value", 0.0);
    }
  }
  EXPECT_EQ(requeued, cycles) << "the item should be re-queued once per restart";
  EXPECT_TRUE(model_ready);

  // One resume per restart, each from the newest checkpoint on disk at the kill.
  EXPECT_EQ(segments.size(), static_cast<size_t>(cycles) + 1)
      << "not one 'resumed from' per restart:\n"
      << w.out;
  const auto& first = segments[0].metrics["lr"];
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.begin()->first, kLogEvery) << "the first run starts at step 0";
  int redone_compared = 0, redone_lr = 0;
  for (int c = 1; c < static_cast<int>(segments.size()) && c <= cycles; ++c) {
    SCOPED_TRACE("run after restart " + std::to_string(c));
    const Segment& s = segments[c];
    EXPECT_GT(s.resumed_at, 0) << "the restarted job began again from step 0";
    EXPECT_EQ(s.resumed_at, expected_resume[c - 1]);
    // The steps reported after the restart begin right after the checkpoint.
    auto lr = s.metrics.find("lr");
    ASSERT_NE(lr, s.metrics.end()) << "no metrics after restart " << c;
    EXPECT_EQ(lr->second.begin()->first, s.resumed_at + kLogEvery);
    for (const auto& [name, pts] : s.metrics)
      EXPECT_GT(pts.begin()->first, s.resumed_at) << name << " reported a step before the resume";
    // The killed run got as far as the checkpoint; the steps it ran after it are redone with
    // the same losses (exact resume on the CPU with one thread).
    const Segment& prev = segments[c - 1];
    auto prev_lr = prev.metrics.find("lr");
    ASSERT_NE(prev_lr, prev.metrics.end());
    EXPECT_GE(prev_lr->second.rbegin()->first, s.resumed_at);
    for (const auto& [step, v] : prev_lr->second) redone_lr += step > s.resumed_at;
    for (const auto& [name, pts] : prev.metrics) {
      if (name == "step_time_ms" || name == "data_wait_ms") continue;  // wall clock, not state
      auto now = s.metrics.find(name);
      for (const auto& [step, v] : pts) {
        if (step <= s.resumed_at || now == s.metrics.end() || !now->second.count(step)) continue;
        EXPECT_NEAR(now->second.at(step), v, 1e-6) << name << " at step " << step;
        ++redone_compared;
      }
    }
  }
  RecordProperty("redone_metric_points_compared", redone_compared);
  EXPECT_GT(redone_compared, 0) << "no step was run both before a kill and after its restart";
  // The last run reached the end.
  const auto& last_lr = segments.back().metrics["lr"];
  ASSERT_FALSE(last_lr.empty());
  EXPECT_EQ(last_lr.rbegin()->first, kTotalSteps);
  // Every logged step was reported by some run.
  std::set<long> all_steps;
  for (const auto& s : segments)
    if (s.metrics.count("lr"))
      for (const auto& [step, v] : s.metrics.at("lr")) all_steps.insert(step);
  EXPECT_EQ(all_steps.size(), static_cast<size_t>(kTotalSteps / kLogEvery));
  // ... and only the steps between a checkpoint and the kill after it were reported twice.
  EXPECT_EQ(lr_events, static_cast<int>(all_steps.size()) + redone_lr);

  // The daemon's own log says so too.
  const std::string log = d.log();
  for (long r : expected_resume)
    EXPECT_TRUE(std::regex_search(
        log, std::regex("job " + std::to_string(id) + " item 0: resumed from \\S+ at step " +
                        std::to_string(r) + "\\b")))
        << "no 'resumed from ... at step " << r << "' in the daemon log";

  EXPECT_EQ(d.stop(SIGTERM), 0);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf("train crash test: %d kills, resumed at", cycles);
  for (long r : expected_resume) std::printf(" %ld", r);
  std::printf(", %d redone metric points compared, %.1f s\n", redone_compared, secs);
}

// A daemon paused (SIGSTOP) for longer than its leases may find another daemon training its job
// in a shared jobs_dir: at its next beat it hands its training back instead of training on, and
// the job resumes from its newest checkpoint (here on the same daemon, the only one) and ends.
TEST(TrainCrash, APauseLongerThanTheLeaseHandsTheTrainingBackAndItResumes) {
  TempDir t;
  DaemonOptions opts;
  opts.real_pipeline = true;
  opts.extra_config = "lease_seconds = 2\n";
  Daemon d(t.path(), opts);
  d.start();
  const long long id = submit_training(d, t / "in/crashy.toml");
  ASSERT_GT(id, 0);
  const std::string ckpt_dir = d.data_dir() + "/jobs/" + std::to_string(id) + "/checkpoints";
  ASSERT_GE(wait_past_checkpoint(d, ckpt_dir, id, kCheckpointEvery, std::chrono::seconds(60)),
            kCheckpointEvery)
      << d.log();
  d.signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // 2 s leases
  d.signal(SIGCONT);

  json job = wait_for_job(d, id, "", std::chrono::seconds(120));
  ASSERT_EQ(job.value("state", ""), "succeeded") << job.dump(2) << "\n" << d.log();
  const std::string log = d.log();
  EXPECT_NE(log.find("leases lapsed"), std::string::npos) << log;
  RunResult w = d.cli({"watch", std::to_string(id)});
  ASSERT_EQ(w.rc, 0) << w.err;
  int resumed = 0;
  std::istringstream lines(w.out);
  for (std::string l; std::getline(lines, l);) {
    const json e = json::parse(l, nullptr, false);
    if (e.is_object() && e.value("message", "").find("resumed from") != std::string::npos)
      ++resumed;
  }
  EXPECT_EQ(resumed, 1) << "the training was not handed back and resumed once:\n" << w.out;
}
