// Two facecycled sharing one PostgreSQL queue (issue 18): a 1,000-item job while one of them is
// killed with kill -9 five times and restarted. Every item ends done exactly once, nothing is
// lost, every output is whole, and no item ran on two live daemons at once: each re-queue in the
// event log names a holder that had already been killed. Runs on a throwaway cluster
// (tests/daemon/pg_cluster.h); skips, saying why, without PostgreSQL. FC_SHARED_SEED sets the
// random seed of the kill times. Also: every daemon knows the same tokens and models, and every
// daemon's dashboard and /metrics show the shared queue.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_support.h"
#include "pg_cluster.h"
#include "synthetic_tasks.h"
#ifdef FC_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kItems = 1000;
constexpr int kKills = 5;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The lease holder the daemon's latest start logged ("lease holder ID (N s leases)").
std::string last_holder(const std::string& log) {
  static const std::regex re(R"(lease holder (\S+) \()");
  std::string last;
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it)
    last = (*it)[1].str();
  return last;
}

// A new database on the throwaway PostgreSQL cluster for daemons to share: its URL, or "" with
// `why` when this build or machine has none (the test then skips, saying so).
std::string new_shared_database(std::string* why) {
#ifndef FC_HAVE_POSTGRES
  *why = "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
  return "";
#else
  fcd_test::PgCluster* cluster = fcd_test::PgCluster::shared(why);
  return cluster ? cluster->create_database() : "";
#endif
}

#ifdef FC_HAVE_POSTGRES

struct Killed {
  int64_t before_ms;  // just before the signal: any re-queue earlier took a live daemon's item
};

// Every re-queue (a log event listing items) must name a holder killed before it: never a live
// daemon's item. Returns how many item re-queues the log holds.
int check_requeues(pqxx::work& tx, int64_t job, const std::map<std::string, Killed>& killed) {
  int n = 0;
  for (const auto& row : tx.exec_params(
           "SELECT time_ms, payload_json FROM events WHERE job_id = $1 AND type = 'log'", job)) {
    json p = json::parse(row[1].as<std::string>(), nullptr, false);
    if (!p.is_object() || !p.contains("items")) continue;
    const int64_t at = row[0].as<int64_t>();
    for (const auto& it : p["items"]) {
      ++n;
      const std::string holder = it.value("holder", "");
      auto k = killed.find(holder);
      EXPECT_NE(k, killed.end()) << "item " << it["index"] << " was taken from " << holder
                                 << ", a daemon that was never killed";
      if (k != killed.end()) {
        EXPECT_GE(at, k->second.before_ms)
            << "item " << it["index"] << " was re-queued before its daemon " << holder << " died";
      }
    }
  }
  return n;
}

// Exactly one "succeeded" end per item, each by a holder that ran on one of the two daemons.
void check_ends(pqxx::work& tx, int64_t job) {
  std::map<int, int> ends;
  for (const auto& row :
       tx.exec_params("SELECT payload_json FROM events WHERE job_id = $1 AND type = 'item'", job)) {
    json p = json::parse(row[0].as<std::string>(), nullptr, false);
    ASSERT_TRUE(p.is_object()) << row[0].as<std::string>();
    EXPECT_FALSE(p.value("holder", "").empty()) << "an end names its daemon";
    if (p.value("item_state", "") == "succeeded") ++ends[p.value("item_index", -1)];
  }
  EXPECT_EQ(ends.size(), static_cast<size_t>(kItems));
  for (const auto& [idx, n] : ends) EXPECT_EQ(n, 1) << "item " << idx << " ended " << n << " times";
}

#endif

}  // namespace

TEST(SharedQueue, TwoDaemonsDoEveryItemOnceThroughFiveKillNines) {
#ifndef FC_HAVE_POSTGRES
  GTEST_SKIP() << "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
#else
  std::string why;
  const std::string url = new_shared_database(&why);
  if (url.empty()) GTEST_SKIP() << why;
  const char* seed_env = std::getenv("FC_SHARED_SEED");
  const unsigned seed =
      seed_env ? static_cast<unsigned>(std::atoi(seed_env)) : static_cast<unsigned>(time(nullptr));
  std::printf("shared queue test: FC_SHARED_SEED=%u\n", seed);
  std::mt19937 rng(seed);

  TempDir t;
  auto inputs = write_png_set(t / "in", kItems, 32, 24);
  fs::create_directories(t / "out");
  // 40 ms an item: about 100 items/s on both, so the five kills land while the job runs.
  DaemonOptions o = DaemonOptions::with(2, 40);
  o.allowed_roots = {t / "in", t / "out"};
  o.extra_config = "database = \"" + url + "\"\nlease_seconds = 2\n";
  Daemon a(t / "a", o), b(t / "b", o);
  a.start();
  b.start();

  RunResult r = b.cli({"transform", "--task", "age", "--detach", "-o", t / "out/job", t / "in"});
  ASSERT_EQ(r.rc, 0) << r.err << b.log();
  const long long job = r.json()["job_id"].get<long long>();

  std::map<std::string, Killed> killed;
  int while_running = 0;
  for (int k = 0; k < kKills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 800));
    json now = b.cli({"show", std::to_string(job)}).json();
    while_running += now.value("state", "") == "running";
    killed[last_holder(a.log())] = {wall_ms()};
    a.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 500));
    a.start();
  }
  json done = wait_for_job(b, job, "", std::chrono::seconds(300));
  ASSERT_EQ(done.value("state", ""), "succeeded") << done.dump(2);
  EXPECT_TRUE(b.running()) << "the daemon that was never killed must still run";
  std::printf("kills while the job ran: %d of %d\n", while_running, kKills);
  EXPECT_GE(while_running, 1) << "the job ended before the first kill: nothing was tested";

  pqxx::connection c(url);
  pqxx::work tx(c);
  int extra_attempts = 0;
  for (const auto& row : tx.exec_params(
           "SELECT idx, state, attempts, input, output FROM items WHERE job_id = $1", job)) {
    const int idx = row[0].as<int>();
    EXPECT_EQ(row[1].as<std::string>(), "succeeded") << "item " << idx;
    extra_attempts += row[2].as<int>() - 1;
    EXPECT_TRUE(is_flipped_copy(row[3].as<std::string>(), row[4].as<std::string>()))
        << "item " << idx << ": " << row[4].as<std::string>() << " is missing or not whole";
  }
  check_ends(tx, job);
  const int requeues = check_requeues(tx, job, killed);
  EXPECT_EQ(extra_attempts, requeues)
      << "every second run of an item must follow a re-queue of a killed daemon's lease";
  std::printf("items re-queued after the kills: %d\n", requeues);
  for (const auto& e : fs::directory_iterator(t / "out/job"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos)
        << "a half-written file was left: " << e.path();
#endif
}

namespace {
bool lists_model(const json& models, const std::string& name) {
  for (const auto& m : models.value("models", json::array()))
    if (m.value("name", "") == name) return true;
  return false;
}
}  // namespace

// Users, tokens and the model catalogue live in the shared database too (issue 18: any daemon
// accepts any RPC): a token made with `facecycled token add` against daemon A's config works on
// daemon B, a revocation through B's config stops it on A, and a model A registered is listed by
// B, whose own models folder does not hold it, without B restarting.
TEST(SharedQueue, EveryDaemonKnowsTheSameTokensAndModels) {
  std::string why;
  const std::string url = new_shared_database(&why);
  if (url.empty()) GTEST_SKIP() << why;
  TempDir t;
  DaemonOptions o = DaemonOptions::with(1, 0);
  o.extra_config = "database = \"" + url + "\"\n";
  Daemon a(t / "a", o), b(t / "b", o);
  b.start();
  // A model file with its card in A's own folder: A registers it at start. (It is no real
  // model, so A cannot load it; listing needs only the registration.)
  fs::create_directories(a.data_dir() + "/models");
  write_file(a.data_dir() + "/models/shared-m.pt", "weights");
  write_file(a.data_dir() + "/models/shared-m.card.json", "{}");
  const std::string carol = a.add_token("carol", false);
  a.start();

  RunResult listed = b.cli({"models", "list"}, carol);
  ASSERT_EQ(listed.rc, 0) << "B refused a token made against A: " << listed.err;
  EXPECT_TRUE(lists_model(listed.json(), "shared-m")) << listed.out;
  EXPECT_FALSE(fs::exists(b.data_dir() + "/models/shared-m.pt"));
  EXPECT_NE(b.cli({"models", "list"}, "fc_" + std::string(64, '0')).rc, 0)
      << "an unknown token must be refused, or the check above proves nothing";

  RunResult revoked =
      run_program({daemon_binary(), "--config", b.config_path(), "token", "revoke", "carol"});
  ASSERT_EQ(revoked.rc, 0) << revoked.err;
  RunResult refused = a.cli({"models", "list"}, carol);
  EXPECT_NE(refused.rc, 0) << "revoked through B's database, still accepted by A";
  EXPECT_NE(refused.err.find("revoked"), std::string::npos) << refused.err;
}

namespace {

// The body of GET `path` on 127.0.0.1:`port` with a bearer token ("" when nothing answers).
std::string http_body(int port, const std::string& path, const std::string& token) {
  const std::string reply = http_get(port, path, token);
  const auto at = reply.find("\r\n\r\n");
  return at == std::string::npos ? "" : reply.substr(at + 4);
}

// The value of one series in Prometheus text; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace

// The dashboard and /metrics of every daemon show the shared queue (issue 18): a job submitted
// through daemon A and run on the two is counted by daemon B's gauges and listed by B's
// dashboard. (They used to read each daemon's own SQLite file: B showed an empty queue.)
TEST(SharedQueue, EveryDaemonsDashboardAndGaugesShowTheSharedQueue) {
  std::string why;
  const std::string url = new_shared_database(&why);
  if (url.empty()) GTEST_SKIP() << why;
  TempDir t;
  write_png_set(t / "in", 3, 32, 24);
  fs::create_directories(t / "out");
  const int port_a = free_port();
  int port_b = free_port();
  while (port_b == port_a) port_b = free_port();
  DaemonOptions o = DaemonOptions::with(1, 0);
  o.allowed_roots = {t / "in", t / "out"};
  const std::string shared = "database = \"" + url + "\"\n";
  DaemonOptions oa = o, ob = o;
  oa.extra_config = shared + "http_listen = \"127.0.0.1:" + std::to_string(port_a) + "\"\n";
  ob.extra_config = shared + "http_listen = \"127.0.0.1:" + std::to_string(port_b) + "\"\n";
  Daemon a(t / "a", oa), b(t / "b", ob);
  const std::string root = a.add_token("root", true);
  a.start();
  b.start();

  RunResult r = a.cli({"transform", "--task", "age", "--detach", "-o", t / "out/job", t / "in"});
  ASSERT_EQ(r.rc, 0) << r.err << a.log();
  const long long job = r.json()["job_id"].get<long long>();
  ASSERT_EQ(wait_for_job(a, job).value("state", ""), "succeeded");

  const std::string gauges = http_body(port_b, "/metrics", root);
  EXPECT_EQ(sample(gauges, R"(facecycle_jobs{kind="transform",state="succeeded"})"), 1)
      << gauges << b.log();
  EXPECT_EQ(sample(gauges, R"(facecycle_items{state="succeeded"})"), 3);
  const json listed = json::parse(http_body(port_b, "/api/jobs", root), nullptr, false);
  std::vector<long long> ids;
  for (const auto& j : listed.value("jobs", json::array())) ids.push_back(j.value("id", 0LL));
  EXPECT_EQ(ids, std::vector<long long>{job}) << listed.dump(2);
  EXPECT_EQ(listed["counts"], (json{{"succeeded", 1}}));
}

// `facecycle models activate NAME --everywhere` through daemon A switches daemon B too (the
// shared activate, docs/SCALE.md): B reports NAME as its active model without being called, and
// A's reply names both daemons as switched. (A plain activate swaps A's model only.)
TEST(SharedQueue, ActivatingEverywhereThroughOneDaemonSwitchesTheOther) {
  std::string why;
  const std::string url = new_shared_database(&why);
  if (url.empty()) GTEST_SKIP() << why;
  TempDir t;
  DaemonOptions o = DaemonOptions::with(1, 0);
  o.extra_config = "database = \"" + url + "\"\n";
  Daemon a(t / "a", o), b(t / "b", o);
  a.start();
  b.start();
  // Both start with the shipped default (models/DEFAULT); the target is another shipped model.
  const std::string before = b.cli({"health"}).json()["model"].value("active", "");
  ASSERT_FALSE(before.empty()) << b.log();
  std::string target;
  const RunResult models = a.cli({"models", "list"});
  const json listed = models.json();
  std::set<std::string> names;
  for (const auto& m : listed["models"]) names.insert(m.value("name", ""));
  for (const std::string& name : names)
    if (name != before && name.rfind("facecycle-utk-", 0) == 0) target = name;
  ASSERT_FALSE(target.empty()) << "needs two shipped models: " << models.out;

  RunResult r =
      a.cli({"models", "activate", target, "--everywhere"}, "", std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << r.err << a.log();
  const json reply = r.json();
  EXPECT_EQ(reply.value("name", ""), target) << r.out;
  ASSERT_EQ(reply["daemons"].size(), 2u) << r.out;
  for (const auto& d : reply["daemons"])
    EXPECT_EQ(d.value("answer", ""), "switched") << d.dump() << "\n" << b.log();

  const json health = b.cli({"health"}).json();
  EXPECT_EQ(health["model"].value("active", ""), target) << health.dump(2) << "\n" << b.log();
  EXPECT_EQ(health["model"].value("cluster_model", ""), target) << health.dump(2);
  EXPECT_EQ(health["model"]["daemons"].size(), 2u) << health.dump(2);
  EXPECT_NE(b.log().find("as every daemon's model"), std::string::npos) << b.log();
  // The text a user reads: the model activated everywhere and a row for each daemon.
  const RunResult text = run_program({client_binary(), "--server", b.server(), "health"});
  std::printf("facecycle health on B after the activation:\n%s", text.out.c_str());
  EXPECT_NE(text.out.find("activated everywhere: " + target), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(this one)"), std::string::npos) << text.out;
}

// With one jobs_dir and one models_dir on storage both daemons mount (docs/SCALE.md), a
// training job whose daemon dies is not begun again elsewhere: once A's lease runs out, B takes
// the item and resumes from the newest checkpoint A left, finishes, installs the model where
// both see it, and serves the job's files.
TEST(SharedQueue, ATrainingJobResumesOnAnotherDaemonFromTheSharedJobsDir) {
  std::string why;
  const std::string url = new_shared_database(&why);
  if (url.empty()) GTEST_SKIP() << why;
  TempDir t;
  DaemonOptions o;
  o.real_pipeline = true;  // train.so
  o.allowed_roots = {t / "in"};
  o.extra_config = "database = \"" + url + "\"\nlease_seconds = 4\njobs_dir = \"" +
                   (t / "shared/jobs") + "\"\nmodels_dir = \"" + (t / "shared/models") + "\"\n";
  Daemon a(t / "a", o), b(t / "b", o);
  a.start();
  fs::create_directories(t / "in");
  // Two 40-step stages, a checkpoint every 10 steps: long enough to be killed midway.
  write_file(t / "in/moved.toml", fcd_test::tiny_two_stage_training("moved", 40, 10));
  RunResult sub = a.cli({"train", "--config", t / "in/moved.toml", "--detach"});
  ASSERT_EQ(sub.rc, 0) << sub.out << sub.err << a.log();
  const long long id = sub.json().value("job_id", -1LL);
  const std::string job_dir = t / ("shared/jobs/" + std::to_string(id));

  long at_kill = -1;
  for (int i = 0; i < 6000 && at_kill < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    at_kill = newest_checkpoint(job_dir + "/checkpoints");
  }
  ASSERT_GE(at_kill, 20) << "no checkpoint in " << job_dir << "; log:\n" << a.log();
  a.kill9();
  at_kill = newest_checkpoint(job_dir + "/checkpoints");
  ASSERT_LT(at_kill, 80) << "the training finished before the kill: nothing to resume";
  b.start();

  json job = wait_for_job(b, id, "", std::chrono::seconds(180));
  ASSERT_EQ(job.value("state", ""), "succeeded") << job.dump(2) << "\n" << b.log();
  EXPECT_NE(job["result"].value("ran_on", ""), "") << job["result"].dump();
  EXPECT_NE(job["result"].value("ran_on", "").find(b.data_dir()), std::string::npos)
      << "B finished the job: " << job["result"].dump();
  EXPECT_TRUE(fs::exists(t / "shared/models/moved.pt"));
  RunResult w = b.cli({"watch", std::to_string(id)});
  ASSERT_EQ(w.rc, 0) << w.err;
  static const std::regex resumed_re(R"(resumed from \S+ at step (\d+))");
  std::vector<long> resumed;
  std::istringstream lines(w.out);
  for (std::string l; std::getline(lines, l);) {
    const json e = json::parse(l, nullptr, false);
    std::smatch m;
    const std::string msg = e.is_object() ? e.value("message", "") : "";
    if (std::regex_search(msg, m, resumed_re)) resumed.push_back(std::stol(m[1]));
  }
  EXPECT_EQ(resumed, std::vector<long>{at_kill}) << "B began again instead of resuming:\n" << w.out;
  RunResult shown = b.cli({"show", std::to_string(id)});
  ASSERT_EQ(shown.rc, 0) << shown.err;
  EXPECT_EQ(shown.json().value("job_dir", ""), job_dir) << shown.out;
  EXPECT_FALSE(shown.json().value("files", json::array()).empty()) << shown.out;
}
