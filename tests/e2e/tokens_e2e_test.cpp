// Tokens that can be listed, revoked and expired (issue 16), against a real facecycled: the token
// commands run as their own processes beside it, as an admin would run them.
#include <gtest/gtest.h>

#include <thread>

#include "e2e_support.h"

using namespace fce;
using nlohmann::json;

namespace {

RunResult token_command(Daemon& d, std::vector<std::string> args) {
  std::vector<std::string> argv{daemon_binary(), "--config", d.config_path(), "token"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

json token_list(Daemon& d) {
  RunResult r = token_command(d, {"list", "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.json();
}

json entry_of(const json& list, const std::string& user) {
  for (const auto& t : list)
    if (t["user"] == user) return t;
  ADD_FAILURE() << "no token of " << user << " in " << list.dump(2);
  return json::object();
}

}  // namespace

TEST(Tokens, ListShowsUseButNeverATokenAndRevokeEndsAnOpenWatchAtOnce) {
  TempDir t;
  // 20 items: 12 s of work, so that the job still runs at the final cancel on a loaded machine
  Daemon d(t.path(), DaemonOptions::with(1, 600));
  const std::string alice = d.add_token("alice", false), bob = d.add_token("bob", true);
  d.start();
  write_png_set(t / "in", 20, 16, 16);

  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", t / "out", t / "in"}, alice);
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string id = std::to_string(r.json()["job_id"].get<long long>());

  RunResult text = token_command(d, {"list"});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("LAST USED"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find(alice), std::string::npos) << "the list must never show a token";
  EXPECT_EQ(text.out.find(alice.substr(3, 16)), std::string::npos);
  json list = token_list(d);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_GT(entry_of(list, "alice")["last_used_ms"].get<long long>(), 0) << "alice submitted";
  EXPECT_EQ(entry_of(list, "bob")["last_used_ms"], 0) << "bob has not called yet";
  EXPECT_EQ(entry_of(list, "bob")["admin"], true);

  Child watcher = spawn({client_binary(), "--server", d.server(), "--token", alice, "watch", id},
                        t / "watch.log", {{"FACECYCLE_TOKEN", ""}});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_TRUE(watcher.running()) << read_file(t / "watch.log");
  RunResult revoked = token_command(d, {"revoke", "alice"});
  ASSERT_EQ(revoked.rc, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("revoked token 1 of alice"), std::string::npos) << revoked.out;

  EXPECT_NE(watcher.wait(std::chrono::seconds(3)), 0)
      << "the watch must end within about a second of the revoke, not when the job ends";
  const std::string watch_log = read_file(t / "watch.log");
  EXPECT_NE(watch_log.find("was revoked"), std::string::npos) << watch_log;
  RunResult after = d.cli({"jobs"}, alice);
  EXPECT_NE(after.rc, 0);
  EXPECT_NE(after.err.find("was revoked"), std::string::npos) << after.err;
  EXPECT_EQ(d.cli({"show", id}, bob).rc, 0) << "other tokens keep working";
  EXPECT_EQ(entry_of(token_list(d), "alice")["state"], "revoked");

  RunResult again = token_command(d, {"revoke", "1"});
  EXPECT_NE(again.rc, 0);
  EXPECT_NE(again.err.find("already revoked"), std::string::npos) << again.err;
  EXPECT_EQ(d.cli({"cancel", id}, bob).rc, 0);
}

// The token is added while the daemon runs and used at once, so a slow machine (a loaded CI box
// took over 2 s to start the daemon) cannot spend its validity before the first use. Its expiry
// falls within the `token add` run, so the wait counts from that run's end.
TEST(Tokens, AnExpiredTokenStopsWorking) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0));
  RunResult bad = run_program(
      {daemon_binary(), "--config", d.config_path(), "token", "add", "cy", "--expires", "3y"});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("e.g. 30d"), std::string::npos) << bad.err;
  d.start();
  const auto adding = std::chrono::steady_clock::now();
  RunResult add = token_command(d, {"add", "cy", "--expires", "5s"});
  const auto added = std::chrono::steady_clock::now();
  ASSERT_EQ(add.rc, 0) << add.err;
  const std::string cy = add.out.substr(0, add.out.find('\n'));
  EXPECT_NE(add.err.find("valid until"), std::string::npos) << add.err;
  RunResult early = d.cli({"jobs"}, cy);
  const double early_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - adding).count();
  EXPECT_EQ(early.rc, 0) << early.err << " (used " << early_s << " s after `token add` began)";
  std::this_thread::sleep_until(added + std::chrono::milliseconds(5300));
  RunResult late = d.cli({"jobs"}, cy);
  EXPECT_NE(late.rc, 0);
  EXPECT_NE(late.err.find("expired at"), std::string::npos) << late.err;
  EXPECT_EQ(entry_of(token_list(d), "cy")["state"], "expired");
}
