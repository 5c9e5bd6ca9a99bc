#include "local_workers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fc::train {

bool end_with_parent() {
  const char* parent = std::getenv(kParentEnv);
  if (!parent) return true;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  return ::getppid() == static_cast<pid_t>(std::atol(parent));  // else it died before prctl
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok)
    throw std::runtime_error(std::string("no free port on 127.0.0.1: ") + std::strerror(err));
  return ntohs(a.sin_port);
}

LocalWorkers::LocalWorkers(const std::string& program, const std::vector<std::string>& args,
                           int world_size, int port) {
  for (int r = 1; r < world_size; ++r) {
    std::vector<std::string> argv_s = {program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    for (const std::string& a :
         {std::string("--rank"), std::to_string(r), std::string("--world-size"),
          std::to_string(world_size), std::string("--master-addr"), std::string("127.0.0.1"),
          std::string("--master-port"), std::to_string(port)})
      argv_s.push_back(a);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string parent = std::string(kParentEnv) + "=" + std::to_string(::getpid());
    std::vector<char*> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, kParentEnv, std::strlen(kParentEnv)) != 0) env.push_back(*e);
    env.push_back(parent.data());
    env.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), env.data());
    if (rc != 0) {
      stop(0);
      throw std::runtime_error("could not start worker " + std::to_string(r) + " (" + program +
                               "): " + std::strerror(rc));
    }
    pids_.push_back(pid);
    reaped_.push_back(false);
  }
}

LocalWorkers::~LocalWorkers() { stop(); }

std::string LocalWorkers::describe(size_t i, int status) const {
  const std::string who =
      "worker " + std::to_string(i + 1) + " (pid " + std::to_string(pids_[i]) + ")";
  if (WIFSIGNALED(status)) return who + " was killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return who + " exited with status " + std::to_string(WEXITSTATUS(status));
  return "";
}

std::string LocalWorkers::wait() {
  std::string problems;
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (reaped_[i]) continue;
    int status = 0;
    if (::waitpid(pids_[i], &status, 0) != pids_[i]) continue;
    reaped_[i] = true;
    const std::string why = describe(i, status);
    if (!why.empty()) problems += (problems.empty() ? "" : "; ") + why;
  }
  return problems;
}

std::string LocalWorkers::stop(int grace_s) {
  for (size_t i = 0; i < pids_.size(); ++i)
    if (!reaped_[i]) ::kill(pids_[i], SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  std::string problems;
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    while (!reaped_[i]) {
      const pid_t got = ::waitpid(pids_[i], &status, WNOHANG);
      if (got == pids_[i] || got < 0) {
        reaped_[i] = true;
      } else if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pids_[i], SIGKILL);
        ::waitpid(pids_[i], &status, 0);
        reaped_[i] = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      const std::string why = reaped_[i] ? describe(i, status) : "";
      if (!why.empty()) problems += (problems.empty() ? "" : "; ") + why;
    }
  }
  return problems;
}

}  // namespace fc::train
