// Cancel, SIGTERM, refused plugins, and resuming a watch after an event id.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

long long submit_folder(Daemon& d, const std::string& in, const std::string& out) {
  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", out, in});
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.json().value("job_id", -1LL);
}

// JSON lines printed by `facecycle --json watch`.
std::vector<json> events_of(const RunResult& r) {
  std::vector<json> events;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);)
    if (!l.empty()) events.push_back(json::parse(l));
  return events;
}

json wait_until_done_at_least(Daemon& d, long long id, int n) {
  json job;
  for (int i = 0; i < 300; ++i) {
    job = d.cli({"show", std::to_string(id)}).json();
    if (job.value("items_done", 0) >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return job;
}

}  // namespace

TEST(Lifecycle, CancelStopsARunningJobAndKeepsFinishedOutputs) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 300));
  d.start();
  auto inputs = write_png_set(t / "in", 20);
  long long id = submit_folder(d, t / "in", t / "out");
  ASSERT_GE(wait_until_done_at_least(d, id, 2)["items_done"].get<int>(), 2);

  auto t0 = std::chrono::steady_clock::now();
  RunResult c = d.cli({"cancel", std::to_string(id)});
  ASSERT_EQ(c.rc, 0) << c.err;
  json job = wait_for_job(d, id);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("cancel_to_terminal_ms", static_cast<int>(seconds * 1000));

  EXPECT_EQ(job["state"], "cancelled");
  EXPECT_GT(job["items_cancelled"].get<int>(), 0);
  EXPECT_LT(job["items_done"].get<int>(), 20);
  int kept = 0;
  for (const auto& it : job["items"]) {
    std::string out = t / ("out/" + fs::path(it["input"].get<std::string>()).filename().string());
    if (it["state"] == "succeeded") {
      EXPECT_TRUE(is_flipped_copy(it["input"], out)) << out;
      ++kept;
    } else {
      EXPECT_EQ(it["state"], "cancelled") << it.dump();
      EXPECT_FALSE(fs::exists(out)) << "cancelled item has an output: " << out;
    }
  }
  EXPECT_EQ(kept, job["items_done"].get<int>());
  // Nothing keeps running: the count stays put.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(d.cli({"show", std::to_string(id)}).json()["items_done"], job["items_done"]);
}

TEST(Lifecycle, SigtermExitsZeroAndTheJobResumesAfterRestart) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 150));
  d.start();
  auto inputs = write_png_set(t / "in", 8);
  long long id = submit_folder(d, t / "in", t / "out");
  wait_until_done_at_least(d, id, 1);
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();

  d.start();
  json job = wait_for_job(d, id);
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["items_done"], 8);
  for (const auto& in : inputs)
    EXPECT_TRUE(is_flipped_copy(in, t / ("out/" + fs::path(in).filename().string())));
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
}

TEST(Lifecycle, RefusedPluginsAreListedAndTheRestWorks) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0, true));
  d.start();
  RunResult r = d.cli({"plugins"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json list = r.json();
  ASSERT_TRUE(list.is_array()) << r.out;
  std::map<std::string, json> by_name;
  for (const auto& p : list) {
    ASSERT_TRUE(p.contains("name")) << p.dump();
    by_name[p["name"]] = p;
  }
  ASSERT_TRUE(by_name.count("test-flip")) << r.out;
  EXPECT_EQ(by_name["test-flip"]["status"], "loaded");
  for (const char* bad :
       {"test-bad-abi", "test-old-abi", "test-no-entry", "test-throwing-factory"}) {
    ASSERT_TRUE(by_name.count(bad)) << bad << " not reported in " << r.out;
    EXPECT_EQ(by_name[bad]["status"], "refused") << bad;
    EXPECT_FALSE(by_name[bad]["reason"].get<std::string>().empty()) << bad;
  }
  EXPECT_NE(by_name["test-throwing-factory"]["reason"].get<std::string>().find("on purpose"),
            std::string::npos)
      << "the factory's message is not passed on";
  EXPECT_NE(by_name["test-old-abi"]["reason"].get<std::string>().find(
                "test-old-abi.so was built for plugin ABI 2, this daemon requires ABI "),
            std::string::npos)
      << by_name["test-old-abi"]["reason"];

  // Human output names them too.
  RunResult human = run_program({client_binary(), "--server", d.server(), "plugins"});
  EXPECT_NE(human.out.find("refused"), std::string::npos) << human.out;

  auto inputs = write_png_set(t / "in", 2);
  long long id = submit_folder(d, t / "in", t / "out");
  EXPECT_EQ(wait_for_job(d, id)["state"], "succeeded");
}

TEST(Lifecycle, WatchAfterAnEventIdGetsEveryLaterEvent) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 20));
  d.start();
  write_png_set(t / "in", 6);
  long long id = submit_folder(d, t / "in", t / "out");
  RunResult all = d.cli({"watch", std::to_string(id)});
  ASSERT_EQ(all.rc, 0) << all.err;
  std::vector<json> events = events_of(all);
  ASSERT_GE(events.size(), 8u);  // running, 6 items, succeeded at least
  for (size_t i = 1; i < events.size(); ++i)
    ASSERT_GT(events[i]["id"].get<long long>(), events[i - 1]["id"].get<long long>());
  EXPECT_EQ(events.back()["type"], "state");
  EXPECT_EQ(events.back()["job"]["state"], "succeeded");
  int items = 0;
  for (const auto& e : events) items += e["type"] == "item";
  EXPECT_EQ(items, 6);

  size_t mid = events.size() / 2;
  long long after = events[mid]["id"];
  RunResult tail = d.cli({"watch", std::to_string(id), "--after-event", std::to_string(after)});
  ASSERT_EQ(tail.rc, 0) << tail.err;
  std::vector<json> rest = events_of(tail);
  ASSERT_EQ(rest.size(), events.size() - mid - 1);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], events[mid + 1 + i]);
}
