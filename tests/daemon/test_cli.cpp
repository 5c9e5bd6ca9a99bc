// The facecycled command line as users' scripts use it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "service/auth.h"
#include "store/database.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
const std::string kDaemon = std::string(FC_BINARY_DIR) + "/bin/facecycled";

struct Run {
  int status;
  std::string out;
};

Run run(const std::string& args) {
  std::string cmd = kDaemon + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(Cli, HelpListsTheContract) {
  auto r = run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* flag : {"--data-dir", "--listen", "--config", "--allow", "--plugin-dir",
                           "--workers", "--device", "--log-level", "token"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(Cli, TokenAddPrintsATokenAndStoresItsHash) {
  fcd_test::TempDir dir;
  auto r = run("token add ann --admin --data-dir " + dir.path());
  ASSERT_EQ(r.status, 0) << r.out;
  auto pos = r.out.find("fc_");
  ASSERT_NE(pos, std::string::npos) << r.out;
  std::string token = r.out.substr(pos, r.out.find('\n', pos) - pos);
  fcd::Database db(dir / "facecycle.db");
  auto user = fcd::Auth(db).user_for_token(token);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->name, "ann");
  EXPECT_TRUE(user->is_admin);
}

TEST(Cli, ConfigErrorNamesTheKeyAndFails) {
  fcd_test::TempDir dir;
  std::ofstream(dir / "c.toml") << "workers = \"many\"\n";
  auto r = run("--data-dir " + dir.path() + " --config " + (dir / "c.toml"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("'workers'"), std::string::npos) << r.out;
}

TEST(Cli, RunsWithoutConfigAndStopsCleanlyOnSigterm) {
  fcd_test::TempDir dir;
  std::string sock = dir / "d.sock";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string listen = "unix:" + sock;
    std::string data = dir.path();
    ::execl(kDaemon.c_str(), "facecycled", "--data-dir", data.c_str(), "--listen", listen.c_str(),
            "--log-level", "warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(sock) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(fs::exists(sock)) << "the daemon did not start listening";
  // A second daemon on the same data dir is refused.
  auto second = run("--data-dir " + dir.path() + " --listen unix:" + (dir / "other.sock"));
  EXPECT_NE(second.status, 0);
  EXPECT_NE(second.out.find("already using"), std::string::npos) << second.out;
  // An operator reading the live database (sqlite3 facecycle.db) must not delete its WAL: the
  // daemon's second connection once close()d a descriptor of the open database, which dropped
  // the daemon's locks, so the reader's close removed the WAL and later writes were lost (a
  // training job's end among them: its item stayed running).
  ASSERT_TRUE(fs::exists(dir / "facecycle.db-wal"));
  sqlite3* reader = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2((dir / "facecycle.db").c_str(), &reader, SQLITE_OPEN_READWRITE, nullptr),
      SQLITE_OK);
  sqlite3_exec(reader, "SELECT COUNT(*) FROM jobs", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  EXPECT_TRUE(fs::exists(dir / "facecycle.db-wal")) << "the daemon's WAL was deleted under it";

  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(dir / "facecycle.db"));
  EXPECT_TRUE(fs::exists(dir / "facecycled.log"));
  EXPECT_FALSE(fs::exists(sock)) << "the socket is removed on exit";
}

}  // namespace
