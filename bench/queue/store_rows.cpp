#include "store_rows.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/lease_keeper.h"
#include "store/migrations.h"
#include "store/open_job_store.h"

namespace fcb {

namespace {

using Clock = std::chrono::steady_clock;

// One "daemon": its SQLite file (used when url is empty) and the store the setting names.
struct Daemon {
  std::unique_ptr<fcd::Database> db;
  std::unique_ptr<fcd::JobStore> store;
};

Daemon open_daemon(const std::string& dir, const std::string& url, int k) {
  Daemon d;
  d.db = std::make_unique<fcd::Database>(dir + "/q" + std::to_string(k) + ".db");
  fcd::apply_migrations(*d.db);
  d.store = fcd::open_job_store(url, *d.db, {});
  return d;
}

int64_t submit(fcd::JobStore& s, int n, const std::string& tag) {
  std::vector<fcd::NewItem> items;
  for (int i = 0; i < n; ++i)
    items.push_back({"/in/" + tag + std::to_string(i) + ".png", "/out/" + tag + std::to_string(i)});
  return s.submit(fcd::JobKind::kTransform, "bench", 0, "{}", "/out", items);
}

// A daemon process: a submit thread (as gRPC's would be) sends `submits` single-item jobs 2 ms
// apart, timing each, while this thread claims batches and ends them; it leaves once its submits
// are in and the queue has been empty for 20 ms. The submit times go to `times` (one a line).
[[noreturn]] void run_daemon(const std::string& dir, const std::string& url, int k, int batch,
                             int submits, const std::string& times, int claim_nice) {
  Daemon d = open_daemon(dir, url, k);
  d.store->set_lease_holder(
      fcd::make_lease_holder("bench-" + std::to_string(k), std::chrono::seconds(30)));
  fcd::LeaseKeeper heartbeat(*d.store);
  std::atomic<bool> submitted{false};
  std::vector<double> ms;
  std::thread submitter([&] {
    for (int i = 0; i < submits; ++i) {
      // (an error here ends the process: std::terminate, which the parent reports)
      auto s0 = Clock::now();
      submit(*d.store, 1, "s" + std::to_string(k) + "_" + std::to_string(i) + "_");
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    submitted = true;
  });
  // Only this thread: Linux nice values are per thread, and the submitter was started at 0.
  if (claim_nice != 0)
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), claim_nice);
  for (int idle = 0; !(submitted && idle > 20);) {
    auto claims = d.store->claim_batch("w", false, true, batch);
    if (claims.empty()) {
      ++idle;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    idle = 0;
    std::vector<fcd::ItemEnd> ends;
    for (const auto& c : claims)
      ends.push_back({c.job.id, c.item.idx, fcd::ItemOutcome::kSucceeded, "", "{}"});
    for (int64_t job : d.store->finish_items(ends)) d.store->finalize_job(job);
  }
  submitter.join();
  std::ofstream out(times);
  for (double v : ms) out << v << "\n";
  out.close();
  std::_Exit(0);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

StoreRow measure_store(const std::string& dir, const std::string& url, int processes, int items,
                       int submits, int batch, int claim_nice) {
  // The big job(s) first: one per SQLite file (each daemon its own), one for PostgreSQL.
  const int queues = url.empty() ? processes : 1;
  for (int k = 0; k < queues; ++k) {
    Daemon d = open_daemon(dir, url, k);
    submit(*d.store, items / queues, "big");
  }
  const auto t0 = Clock::now();
  std::vector<pid_t> pids;
  for (int k = 0; k < processes; ++k) {
    pid_t pid = fork();
    if (pid == 0) {
      try {  // an error must end this child here, not unwind into the parent's code
        run_daemon(dir, url, k, batch, submits / processes, dir + "/times" + std::to_string(k),
                   claim_nice);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_queue: store process %d: %s\n", k, e.what());
      }
      std::_Exit(1);
    }
    pids.push_back(pid);
  }
  bool failed = false;
  for (pid_t p : pids) {
    int status = 0;
    waitpid(p, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failed = true;
      for (pid_t q : pids) kill(q, SIGKILL);  // the others may wait for work forever
    }
  }
  if (failed) throw std::runtime_error("a store bench process failed (see above)");
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> ms;
  for (int k = 0; k < processes; ++k) {
    std::ifstream in(dir + "/times" + std::to_string(k));
    for (double v; in >> v;) ms.push_back(v);
  }
  if (ms.empty()) throw std::runtime_error("no submit times");
  StoreRow row;
  row.p50_ms = percentile(ms, 0.5);
  row.p99_ms = percentile(ms, 0.99);
  row.transitions_s = 2.0 * (items / queues * queues + static_cast<int>(ms.size())) / s;
  return row;
}

}  // namespace fcb
