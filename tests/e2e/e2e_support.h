// Helpers for end-to-end tests: a real facecycled on a temporary data dir and unix socket, the
// real facecycle client, and generated test images.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fce {

std::string daemon_binary();      // build/bin/facecycled
std::string client_binary();      // build/bin/facecycle
std::string test_plugin_dir();    // build/test-plugins
std::string bad_plugin_dir();     // build/test-plugins/bad
std::string real_plugin_dir();    // build/plugins: detect, crop, generate-*, composite
std::string model_tool_binary();  // build/bin/fc-model

// A fresh folder under /tmp (short, so socket paths stay under the 108-byte limit); removed
// on destruction unless FC_KEEP_TMP is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago, for a daemon's `http_listen`.
int free_port();
// The whole response (status line, headers, body) to GET `path` on 127.0.0.1:`port`, with a
// bearer token unless it is empty; "" when nothing answers within 10 s.
std::string http_get(int port, const std::string& path, const std::string& token = "");

// A deterministic picture: gradient background plus shapes; different seeds differ.
cv::Mat make_test_image(int width, int height, int seed);
// Writes `count` PNGs named img_000.png ... into dir; returns their paths.
std::vector<std::string> write_png_set(const std::string& dir, int count, int width = 96,
                                       int height = 64);
void write_file(const std::string& path, const std::string& bytes);

// A training config for the real `train` plugin that runs in seconds: synthetic faces, the age
// and race tasks, 8-wide networks. `top` goes before the tables (run_name, tags), `stages` holds
// the [[stages]] tables and `tail` the rest ([checkpoint], [eval]).
std::string tiny_train_config(const std::string& model, const std::string& stages,
                              const std::string& tail, const std::string& top = "", int seed = 3);
std::string read_file(const std::string& path);

struct RunResult {
  int rc = -1;  // exit code; 128+signal when killed; -1 when timed out
  std::string out, err;
  nlohmann::json json() const;  // stdout parsed; fails the test when it is not JSON
};

// Runs a program to completion with extra environment variables; kills it after `timeout`.
RunResult run_program(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      std::chrono::seconds timeout = std::chrono::seconds(60));

// A started child process whose output goes to a file.
struct Child {
  pid_t pid = -1;
  std::string log_path;
  int exit_code = -1;  // once reaped
  // Waits for exit; returns the exit code (128+signal when killed, -1 on timeout).
  int wait(std::chrono::seconds timeout);
  bool running();
};
Child spawn(const std::vector<std::string>& argv, const std::string& log_path,
            const std::map<std::string, std::string>& env = {});

struct DaemonOptions {
  int workers = 1;
  int delay_ms = 0;  // test-flip's per-item delay
  bool with_bad_plugins = false;
  std::vector<std::string> allowed_roots;  // besides the data dir, <root>/in and <root>/out
  // The real stage plugins (real_plugin_dir()) and the daemon's default pipelines instead of
  // test-flip; delay_ms and with_bad_plugins are then ignored.
  bool real_pipeline = false;
  std::string extra_config;  // top-level TOML lines added to the config, e.g. active_model

  static DaemonOptions with(int workers, int delay_ms, bool bad_plugins = false) {
    DaemonOptions o;
    o.workers = workers;
    o.delay_ms = delay_ms;
    o.with_bad_plugins = bad_plugins;
    return o;
  }
};

// facecycled on <tmp>/d (data dir) with its socket <tmp>/d/facecycled.sock.
class Daemon {
 public:
  Daemon(const std::string& root, DaemonOptions opts);
  ~Daemon();  // kills the daemon when still running

  void start();  // waits until the socket accepts connections
  int stop(int sig = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(30));
  void kill9();
  bool running();
  void signal(int sig);  // e.g. SIGSTOP/SIGCONT to stand for a daemon too busy to answer

  std::string data_dir() const { return data_dir_; }
  std::string config_path() const { return config_path_; }
  std::string server() const { return "unix:" + data_dir_ + "/facecycled.sock"; }
  std::string log() const;
  std::string db_path() const;  // the SQLite file in the data dir

  // `facecycled token add USER [--admin]`; returns the token.
  std::string add_token(const std::string& user, bool admin);

  // The client against this daemon; `--server` and `--json` are added.
  RunResult cli(std::vector<std::string> args, const std::string& token = "",
                std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  std::string data_dir_, config_path_, log_path_;
  Child child_;
  int starts_ = 0;
};

// Polls `show ID` until the job is terminal; returns the last `show --json` output.
nlohmann::json wait_for_job(Daemon& d, long long job_id, const std::string& token = "",
                            std::chrono::seconds timeout = std::chrono::seconds(60));

// The steps of the complete checkpoints in a training job's checkpoints folder (ckpt_<step>.pt;
// temp files are not counted), sorted; and the newest of them, -1 when there is none.
std::vector<long> checkpoint_steps(const std::string& dir);
long newest_checkpoint(const std::string& dir);

// True when `out` decodes to exactly the horizontal mirror of the image in `in`.
bool is_flipped_copy(const std::string& in, const std::string& out);

}  // namespace fce
