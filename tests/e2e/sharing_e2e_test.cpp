// Sharing one daemon (issue 16): fair share between users and the priority cap, on a real
// facecycled with the test-flip stage.
#include <gtest/gtest.h>

#include <thread>

#include "e2e_support.h"

using namespace fce;
using nlohmann::json;

namespace {

long long submit(Daemon& d, const std::string& in, const std::string& out,
                 const std::string& token) {
  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", out, in}, token);
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.rc == 0 ? r.json()["job_id"].get<long long>() : -1;
}

json show(Daemon& d, long long id, const std::string& token) {
  return d.cli({"show", std::to_string(id)}, token).json();
}

}  // namespace

TEST(Sharing, ASmallJobSubmittedAfterALargeOneStartsFinishesLongBeforeIt) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(2, 20));  // 3,000 items: at least 30 s of work
  const std::string alice = d.add_token("alice", false), bob = d.add_token("bob", false);
  d.start();
  write_png_set(t / "in/a", 3000, 16, 16);
  write_png_set(t / "in/b", 20, 16, 16);

  const long long big = submit(d, t / "in/a", t / "out/a", alice);
  ASSERT_GT(big, 0);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (show(d, big, alice).value("items_done", 0) < 10) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "alice's job never started\n" << d.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const long long small = submit(d, t / "in/b", t / "out/b", bob);
  ASSERT_GT(small, 0);

  json done = wait_for_job(d, small, bob, std::chrono::seconds(60));
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(done["items_done"], 20);
  json large = show(d, big, alice);
  EXPECT_EQ(large["state"], "running") << "bob's job waited for alice's to end";
  EXPECT_LT(large["items_done"].get<int>(), 1500)
      << "bob's 20 items should take turns with alice's, not wait behind most of them";

  ASSERT_EQ(d.cli({"cancel", std::to_string(big)}, alice).rc, 0);  // the rest is not needed
  EXPECT_EQ(wait_for_job(d, big, alice)["state"], "cancelled");
}

TEST(Sharing, OnlyAdminsMaySubmitAboveThePriorityCap) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0));
  const std::string alice = d.add_token("alice", false), root = d.add_token("root", true);
  d.start();
  write_png_set(t / "in", 1);

  RunResult r = d.cli(
      {"transform", "--task", "age", "--detach", "--priority", "100", "-o", t / "out", t / "in"},
      alice);
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("max_user_priority"), std::string::npos) << r.err;
  EXPECT_EQ(d.cli({"jobs"}, alice).json().size(), 0u) << "the refused job must not be queued";

  r = d.cli(
      {"transform", "--task", "age", "--detach", "--priority", "100", "-o", t / "out", t / "in"},
      root);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(show(d, r.json()["job_id"].get<long long>(), root)["priority"], 100);
}
