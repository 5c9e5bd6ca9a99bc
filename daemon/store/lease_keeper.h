// A daemon's heartbeat for its leases (issue 18, store/job_store.h): a thread that, every third
// of the lease, renews the leases of the items this daemon holds (claimed, running or waiting in
// its claim batch), then re-queues any items whose lease ran out because their daemon died or
// lost the database for longer than a lease. Every daemon sweeps, so the queue heals while any
// one of them lives.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/job_store.h"

namespace fcd {

class LeaseKeeper {
 public:
  // period 0: the store's lease ttl / 3.
  explicit LeaseKeeper(JobStore& store,
                       std::chrono::milliseconds period = std::chrono::milliseconds(0));
  ~LeaseKeeper();  // stops the thread; the leases then run out unless the items ended
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // One heartbeat now: renew, then sweep. Returns how many items the sweep re-queued.
  int beat();

 private:
  void run();

  JobStore& store_;
  const std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point last_renewed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fcd
