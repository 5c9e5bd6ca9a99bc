#include "workers/crash_note.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>

namespace fcd {

namespace {

// initial-exec: reading it from a signal handler must not allocate.
__attribute__((tls_model("initial-exec"))) thread_local int64_t t_job = -1;
__attribute__((tls_model("initial-exec"))) thread_local int t_idx = -1;

char g_path[4096];  // fixed at install time; the handler may not touch std::string

// Async-signal-safe decimal formatting of a non-negative number.
char* put_number(char* out, int64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 20);
  while (n > 0) *out++ = digits[--n];
  return out;
}

void on_fatal_signal(int sig) {
  if (t_job >= 0 && g_path[0] != '\0') {
    char line[80];
    char* p = put_number(line, t_job);
    *p++ = ' ';
    p = put_number(p, t_idx);
    *p++ = ' ';
    p = put_number(p, sig);
    *p++ = '\n';
    int fd = ::open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ssize_t ignored = ::write(fd, line, static_cast<size_t>(p - line));
      (void)ignored;
      ::close(fd);
    }
  }
  // SA_RESETHAND put the default action back: die of the same signal, with a core if enabled.
  ::raise(sig);
}

}  // namespace

void install_crash_note(const std::string& path) {
  if (path.size() >= sizeof(g_path)) return;  // no note; the one-in-flight rule still applies
  std::memcpy(g_path, path.c_str(), path.size() + 1);
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
}

std::optional<CrashedItem> take_crash_note(const std::string& path) {
  std::optional<CrashedItem> note;
  {
    std::ifstream in(path);
    CrashedItem c;
    if (in >> c.job_id >> c.idx >> c.signal && c.job_id >= 0 && c.idx >= 0) note = c;
  }
  std::remove(path.c_str());
  return note;
}

CurrentItem::CurrentItem(int64_t job_id, int idx) {
  t_job = job_id;
  t_idx = idx;
}

CurrentItem::~CurrentItem() {
  t_job = -1;
  t_idx = -1;
}

}  // namespace fcd
