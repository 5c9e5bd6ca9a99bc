// Job ownership with bearer tokens: only the owner and admins may see or cancel a job.
#include <gtest/gtest.h>

#include "e2e_support.h"

using namespace fce;
using nlohmann::json;

TEST(Auth, OthersCannotShowOrCancelButAnAdminCan) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 200));
  std::string alice = d.add_token("alice", false);
  std::string bob = d.add_token("bob", false);
  std::string root = d.add_token("root", true);
  ASSERT_NE(alice, bob);
  d.start();
  auto inputs = write_png_set(t / "in", 20);

  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", t / "out", t / "in"}, alice);
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string id = std::to_string(r.json()["job_id"].get<long long>());

  RunResult show_b = d.cli({"show", id}, bob);
  EXPECT_NE(show_b.rc, 0) << show_b.out;
  EXPECT_TRUE(show_b.err.find("PERMISSION_DENIED") != std::string::npos ||
              show_b.err.find("permission denied") != std::string::npos ||
              show_b.err.find("NOT_FOUND") != std::string::npos)
      << show_b.err;
  RunResult cancel_b = d.cli({"cancel", id}, bob);
  EXPECT_NE(cancel_b.rc, 0) << cancel_b.out;
  EXPECT_EQ(d.cli({"jobs"}, bob).json().size(), 0u) << "bob sees alice's job";

  json job = d.cli({"show", id}, alice).json();
  EXPECT_NE(job["state"], "cancelled") << "bob's cancel took effect";
  EXPECT_EQ(job["owner"], "alice");

  EXPECT_EQ(d.cli({"show", id}, root).rc, 0);
  RunResult cancel_admin = d.cli({"cancel", id}, root);
  EXPECT_EQ(cancel_admin.rc, 0) << cancel_admin.err;
  EXPECT_EQ(wait_for_job(d, std::stoll(id), alice)["state"], "cancelled");

  RunResult bad = d.cli({"jobs"}, "fc_" + std::string(64, '0'));
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("authenticated"), std::string::npos) << bad.err;
}
