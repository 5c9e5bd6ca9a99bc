#include "e2e_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "loopback_http.h"
#include "synthetic_tasks.h"

namespace fce {

namespace fs = std::filesystem;
using nlohmann::json;

std::string daemon_binary() { return FC_BINARY_DIR "/bin/facecycled"; }
std::string client_binary() { return FC_BINARY_DIR "/bin/facecycle"; }
std::string test_plugin_dir() { return FC_BINARY_DIR "/test-plugins"; }
std::string bad_plugin_dir() { return FC_BINARY_DIR "/test-plugins/bad"; }
std::string real_plugin_dir() { return FC_PLUGIN_DIR; }
std::string model_tool_binary() { return FC_BINARY_DIR "/bin/fc-model"; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/fce-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("FC_KEEP_TMP")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

cv::Mat make_test_image(int width, int height, int seed) {
  cv::Mat img(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      img.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>((x * 255) / width), static_cast<uchar>((y * 255) / height),
                    static_cast<uchar>((seed * 37 + x + y) % 256));
  cv::RNG rng(static_cast<uint64_t>(seed) + 1);
  for (int i = 0; i < 4; ++i) {
    cv::Scalar color(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    cv::Point c(rng.uniform(0, width), rng.uniform(0, height));
    if (i % 2)
      cv::circle(img, c, rng.uniform(4, std::max(5, height / 3)), color, cv::FILLED);
    else
      cv::rectangle(img, c, c + cv::Point(rng.uniform(3, width / 2), rng.uniform(3, height / 2)),
                    color, cv::FILLED);
  }
  // An asymmetric mark so a flip can never equal the original.
  cv::rectangle(img, {0, 0}, {width / 8, height - 1}, cv::Scalar(255, 255, 255), cv::FILLED);
  return img;
}

std::vector<std::string> write_png_set(const std::string& dir, int count, int width, int height) {
  fs::create_directories(dir);
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%03d.png", i);
    std::string p = dir + "/" + name;
    if (!cv::imwrite(p, make_test_image(width, height, i)))
      throw std::runtime_error("imwrite " + p);
    paths.push_back(p);
  }
  return paths;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string tiny_train_config(const std::string& model, const std::string& stages,
                              const std::string& tail, const std::string& top, int seed) {
  return top + "\nseed = " + std::to_string(seed) + "\nthreads = 1\nmodel_name = \"" + model +
         "\"\n" + fcd_test::synthetic_two_tasks(80, 5, "0.3") + R"(
[generator]
width = 8
blocks = 2
[discriminator]
width = 8
)" + stages +
         tail;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json RunResult::json() const {
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON on stdout:\n" << out << "\nstderr:\n" << err;
  return j.is_discarded() ? nlohmann::json() : j;
}

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t fork_exec(const std::vector<std::string>& argv, const std::string& out_path,
                const std::string& err_path, const std::map<std::string, std::string>& env) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err =
        err_path == out_path ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int Child::wait(std::chrono::seconds timeout) {
  if (pid <= 0) return -1;
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      pid = -1;
      return exit_code = decode_status(status);
    }
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Child::running() {
  if (pid <= 0) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    pid = -1;
    exit_code = decode_status(status);
    return false;
  }
  return true;
}

Child spawn(const std::vector<std::string>& argv, const std::string& log_path,
            const std::map<std::string, std::string>& env) {
  Child c;
  c.log_path = log_path;
  c.pid = fork_exec(argv, log_path, log_path, env);
  return c;
}

RunResult run_program(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env, std::chrono::seconds timeout) {
  TempDir tmp;
  std::string out = tmp / "out", err = tmp / "err";
  Child c;
  c.pid = fork_exec(argv, out, err, env);
  RunResult r;
  r.rc = c.wait(timeout);
  if (r.rc == -1) {
    kill(c.pid, SIGKILL);
    c.wait(std::chrono::seconds(5));
  }
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

Daemon::Daemon(const std::string& root, DaemonOptions opts) {
  data_dir_ = root + "/d";
  config_path_ = root + "/facecycled.toml";
  log_path_ = root + "/facecycled.log";
  fs::create_directories(data_dir_);
  // The daemon skips allowed roots that do not exist yet.
  fs::create_directories(root + "/in");
  fs::create_directories(root + "/out");
  std::ostringstream cfg;
  auto quoted_list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
    return s + "]";
  };
  std::vector<std::string> dirs{opts.real_pipeline ? real_plugin_dir() : test_plugin_dir()};
  if (opts.with_bad_plugins && !opts.real_pipeline) dirs.push_back(bad_plugin_dir());
  std::vector<std::string> roots = opts.allowed_roots;
  roots.push_back(root + "/in");
  roots.push_back(root + "/out");
  cfg << "data_dir = \"" << data_dir_ << "\"\n"
      << "workers = " << opts.workers << "\n"
      << "threads = 1\n"
      << "device = \"cpu\"\n"
      << "log_level = \"debug\"\n"
      << "plugin_dirs = " << quoted_list(dirs) << "\n"
      << "allowed_roots = " << quoted_list(roots) << "\n"
      << opts.extra_config << "\n";
  if (!opts.real_pipeline)
    cfg << "[pipelines]\n"
        << "transform = [\"test-flip\"]\n"
        << "whole_image = [\"test-flip\"]\n"
        << "[plugins.test-flip]\n"
        << "delay_ms = " << opts.delay_ms << "\n";
  write_file(config_path_, cfg.str());
}

Daemon::~Daemon() {
  if (running()) {
    kill(child_.pid, SIGKILL);
    child_.wait(std::chrono::seconds(10));
  }
}

namespace {

bool socket_accepts(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

void Daemon::start() {
  ++starts_;
  { std::ofstream(log_path_, std::ios::app) << "\n=== start " << starts_ << " ===\n"; }
  child_ = spawn({daemon_binary(), "--config", config_path_}, log_path_);
  std::string sock = data_dir_ + "/facecycled.sock";
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    if (!child_.running())
      throw std::runtime_error("facecycled exited with status " + std::to_string(child_.exit_code) +
                               " during start-up; log:\n" + log());
    if (socket_accepts(sock)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("facecycled did not open " + sock + " within 60 s; log:\n" + log());
}

int Daemon::stop(int sig, std::chrono::seconds timeout) {
  if (!running()) return -1;
  kill(child_.pid, sig);
  int rc = child_.wait(timeout);
  if (rc == -1) {
    kill(child_.pid, SIGKILL);
    child_.wait(std::chrono::seconds(10));
  }
  return rc;
}

void Daemon::kill9() {
  if (!running()) return;
  kill(child_.pid, SIGKILL);
  child_.wait(std::chrono::seconds(10));
}

bool Daemon::running() { return child_.running(); }

void Daemon::signal(int sig) {
  if (running()) kill(child_.pid, sig);
}

std::string Daemon::log() const { return read_file(log_path_); }

std::string Daemon::db_path() const {
  for (const auto& e : fs::directory_iterator(data_dir_)) {
    auto ext = e.path().extension().string();
    if (ext == ".db" || ext == ".sqlite" || ext == ".sqlite3") return e.path().string();
  }
  return "";
}

std::string Daemon::add_token(const std::string& user, bool admin) {
  std::vector<std::string> argv{daemon_binary(), "--config", config_path_, "token", "add", user};
  if (admin) argv.push_back("--admin");
  RunResult r = run_program(argv);
  std::smatch m;
  static const std::regex token_re("fc_[0-9a-f]{64}");
  if (r.rc != 0 || !std::regex_search(r.out, m, token_re))
    throw std::runtime_error("facecycled token add failed (rc " + std::to_string(r.rc) +
                             "): " + r.out + r.err);
  return m.str();
}

RunResult Daemon::cli(std::vector<std::string> args, const std::string& token,
                      std::chrono::seconds timeout) {
  std::vector<std::string> argv{client_binary(), "--server", server(), "--json"};
  if (!token.empty()) argv.insert(argv.end(), {"--token", token});
  argv.insert(argv.end(), args.begin(), args.end());
  // No FACECYCLE_* from the developer's shell leaks in.
  return run_program(argv, {{"FACECYCLE_TOKEN", ""}, {"FACECYCLE_SERVER", ""}}, timeout);
}

json wait_for_job(Daemon& d, long long job_id, const std::string& token,
                  std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  json job;
  while (std::chrono::steady_clock::now() < until) {
    RunResult r = d.cli({"show", std::to_string(job_id)}, token);
    if (r.rc == 0) {
      job = r.json();
      std::string s = job.value("state", "");
      if (s == "succeeded" || s == "failed" || s == "cancelled") return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << job_id << " did not finish; last: " << job.dump(2) << "\nlog:\n"
                << d.log();
  return job;
}

std::vector<long> checkpoint_steps(const std::string& dir) {
  std::vector<long> steps;
  std::error_code ec;
  static const std::regex name_re(R"(ckpt_0*(\d+)\.pt)");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (std::regex_match(name, m, name_re)) steps.push_back(std::stol(m[1]));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

long newest_checkpoint(const std::string& dir) {
  auto s = checkpoint_steps(dir);
  return s.empty() ? -1 : s.back();
}

bool is_flipped_copy(const std::string& in, const std::string& out) {
  cv::Mat a = cv::imread(in, cv::IMREAD_COLOR), b = cv::imread(out, cv::IMREAD_COLOR);
  if (a.empty() || b.empty() || a.size() != b.size()) return false;
  cv::Mat flipped;
  cv::flip(a, flipped, 1);
  return cv::norm(flipped, b, cv::NORM_INF) == 0;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string http_get(int port, const std::string& path, const std::string& token) {
  return fcd_test::loopback_exchange(port, fcd_test::get_request(path, token), 10, false)
      .value_or("");
}

}  // namespace fce
