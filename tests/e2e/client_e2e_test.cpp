// The client alone: help, usage errors, and the message when no daemon is there.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "e2e_support.h"
#include "facecycle/plugin.h"

using namespace fce;

TEST(Client, HelpListsCommandsAndExamples) {
  RunResult r = run_program({client_binary(), "--help"});
  EXPECT_EQ(r.rc, 0);
  for (const char* word : {"transform", "train", "watch", "cancel", "Examples", "FACECYCLE_SERVER"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " missing from:\n" << r.out;
}

TEST(Client, UsageErrorExitsTwo) {
  RunResult r = run_program({client_binary(), "transform", "--task", "age", "x.png"});
  EXPECT_EQ(r.rc, 2);  // -o is required
  EXPECT_NE(r.err.find("--output"), std::string::npos) << r.err;
}

TEST(Client, UnreachableDaemonSaysHowToStartIt) {
  TempDir t;
  RunResult r = run_program({client_binary(), "health"},
                            {{"FACECYCLE_DATA_DIR", t.path()}, {"FACECYCLE_SERVER", ""}});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(
      r.err.rfind("facecycle: cannot reach facecycled at unix:" + t.path() + "/facecycled.sock", 0),
      0u)
      << r.err;
  EXPECT_NE(r.err.find("facecycled --data-dir " + t.path()), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST(Client, ServerFlagBeatsEnvironment) {
  TempDir t;
  RunResult r = run_program({client_binary(), "--server", "unix:" + t.path() + "/x.sock", "jobs"},
                            {{"FACECYCLE_SERVER", "unix:/nonexistent/other.sock"}});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(t.path() + "/x.sock"), std::string::npos) << r.err;
  r = run_program({client_binary(), "jobs"},
                  {{"FACECYCLE_SERVER", "unix:" + t.path() + "/env.sock"}});
  EXPECT_NE(r.err.find(t.path() + "/env.sock"), std::string::npos) << r.err;
}

// Under load a client used to give up after 100 ms without the daemon's HTTP/2 SETTINGS frame
// (4 of 90 in an attack run). A stopped daemon stands for one too busy to answer for a second:
// its socket still accepts, and every client must wait for the answer rather than fail.
TEST(Client, ClientsOfABusyDaemonWaitForTheirAnswers) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0));
  d.start();
  d.signal(SIGSTOP);
  std::vector<Child> clients;
  for (int i = 0; i < 30; ++i)
    clients.push_back(spawn({client_binary(), "--server", d.server(), "--json", "jobs"},
                            t / ("client" + std::to_string(i) + ".out")));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  d.signal(SIGCONT);
  for (auto& c : clients) EXPECT_EQ(c.wait(std::chrono::seconds(120)), 0) << read_file(c.log_path);
}

TEST(Client, StaleSocketSaysNothingListens) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0));
  d.start();
  d.kill9();  // leaves the socket file behind
  RunResult r = d.cli({"jobs"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("nothing listens there"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("facecycled --data-dir " + d.data_dir()), std::string::npos) << r.err;
}

TEST(Client, VersionWithoutADaemonSaysSoAndSucceeds) {
  TempDir t;
  RunResult r = run_program({client_binary(), "--version"},
                            {{"FACECYCLE_DATA_DIR", t.path()}, {"FACECYCLE_SERVER", ""}});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind("facecycle ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("daemon:   not reachable"), std::string::npos) << r.out;
}

TEST(Client, VersionNamesTheDaemonItsModelAndThePluginAbi) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 0));
  d.start();
  RunResult text = run_program({client_binary(), "--server", d.server(), "--version"});
  EXPECT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("daemon:   facecycled "), std::string::npos) << text.out;
  // The daemon activates a shipped model (models/) when the config names none.
  EXPECT_NE(text.out.find("(card v"), std::string::npos) << text.out;
  const int abi = FACECYCLE_PLUGIN_ABI_VERSION;
  EXPECT_NE(text.out.find("plugins:  ABI " + std::to_string(abi) + " ("), std::string::npos)
      << text.out;

  nlohmann::json j = d.cli({"--version"}).json();
  EXPECT_FALSE(j["client_version"].get<std::string>().empty());
  EXPECT_EQ(j["daemon"]["version"], j["client_version"]) << j.dump(2);
  EXPECT_EQ(j["daemon"]["plugin_abi_version"], abi);
  EXPECT_FALSE(j["daemon"]["active_model"].get<std::string>().empty()) << j.dump(2);
  EXPECT_EQ(j["daemon"]["model_card_sha256"].get<std::string>().size(), 64u) << j.dump(2);
  EXPECT_GE(j["daemon"]["model_card_version"].get<int>(), 1);
}
