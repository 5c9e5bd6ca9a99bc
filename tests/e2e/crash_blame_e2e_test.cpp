// Which item a crash is counted against: only the item that plausibly caused it (the one whose
// worker thread died of a signal, or the only one in flight), so that kill -9s and other items'
// crashes never use up a good item's retries.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool terminal(const json& job) {
  std::string s = job.value("state", "");
  return s == "succeeded" || s == "failed" || s == "cancelled";
}

// Restarts the daemon whenever it has died, until the job ends.
json run_to_the_end(Daemon& d, long long id, int* restarts) {
  json job;
  for (int i = 0; i < 1200; ++i) {
    if (!d.running()) {
      d.start();
      ++*restarts;
    }
    RunResult r = d.cli({"show", std::to_string(id)});
    if (r.rc == 0 || r.rc == 3) {
      job = r.json();
      if (terminal(job)) return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << id << " did not end: " << job.dump(2) << d.log();
  return job;
}

int running_items(const json& job) {
  int n = 0;
  if (!job.is_object() || !job.contains("items")) return 0;
  for (const auto& it : job["items"]) n += it["state"] == "running";
  return n;
}

json item_named(const json& job, const std::string& name) {
  for (const auto& it : job["items"])
    if (fs::path(it["input"].get<std::string>()).filename() == name) return it;
  ADD_FAILURE() << name << " not in " << job.dump(2);
  return json::object();
}

// `kills` times: waits until `in_flight` items of the job run, then kill -9s and restarts.
void kill_nine_while_running(Daemon& d, long long id, int in_flight, int kills) {
  for (int kill = 0; kill < kills; ++kill) {
    json job;
    for (int i = 0; i < 300 && running_items(job) < in_flight; ++i) {
      job = d.cli({"show", std::to_string(id)}).json();
      if (running_items(job) < in_flight)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(running_items(job), in_flight) << job.dump(2);
    d.kill9();
    d.start();
  }
}

long long submit(Daemon& d, const std::string& in, const std::string& out) {
  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", out, in});
  EXPECT_EQ(r.rc, 0) << r.err << d.log();
  return r.json().value("job_id", -1LL);
}

}  // namespace

TEST(CrashBlame, ASegfaultingItemFailsAloneAndItsNeighboursSucceed) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(2, 1000));
  write_png_set(t / "in", 3);
  // Claimed first (names sort), so a good item is in flight at each of its crashes.
  cv::imwrite(t / "in/a_segfault.png", make_test_image(96, 64, 7));
  d.start();
  long long id = submit(d, t / "in", t / "out");
  int restarts = 0;
  json job = run_to_the_end(d, id, &restarts);

  EXPECT_EQ(restarts, 3) << "the crasher runs three times, then fails without running";
  EXPECT_EQ(job["items_done"], 3) << job.dump(2);
  EXPECT_EQ(job["items_failed"], 1) << job.dump(2);
  json crasher = item_named(job, "a_segfault.png");
  EXPECT_EQ(crasher["state"], "failed");
  EXPECT_NE(crasher["error"].get<std::string>().find("crashed the daemon 3 times"),
            std::string::npos)
      << crasher.dump();
  EXPECT_FALSE(fs::exists(t / "out/a_segfault.png"));
  EXPECT_NE(d.log().find("died of signal 11 while job"), std::string::npos) << d.log();
}

TEST(CrashBlame, KillNineWithTwoItemsInFlightCountsAgainstNeither) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(2, 1500));
  write_png_set(t / "in", 2);
  d.start();
  long long id = submit(d, t / "in", t / "out");
  // Four kills: one more than an item may crash the daemon.
  ASSERT_NO_FATAL_FAILURE(kill_nine_while_running(d, id, 2, 4));
  int restarts = 0;
  json job = run_to_the_end(d, id, &restarts);
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["items_done"], 2);
}

TEST(CrashBlame, KillNineWithOneItemInFlightCountsAgainstIt) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 1500));
  write_png_set(t / "in", 1);
  d.start();
  long long id = submit(d, t / "in", t / "out");
  ASSERT_NO_FATAL_FAILURE(kill_nine_while_running(d, id, 1, 3));
  int restarts = 0;
  json job = run_to_the_end(d, id, &restarts);
  EXPECT_EQ(job["items_failed"], 1) << job.dump(2);
  EXPECT_NE(job["items"][0]["error"].get<std::string>().find("crashed the daemon 3 times"),
            std::string::npos)
      << job.dump(2);
}
