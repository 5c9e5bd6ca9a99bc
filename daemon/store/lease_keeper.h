// A daemon's heartbeat for its leases (issue 18, store/job_store.h): a thread that, every third
// of the lease, renews the leases of the items this daemon holds (claimed, running or waiting in
// its claim batch), then re-queues any items whose lease ran out because their daemon died or
// lost the database for longer than a lease, and ends the jobs whose finisher died after their
// last item ended (JobStore::take_abandoned_jobs). Every daemon sweeps, so the queue heals while
// any one of them lives.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
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

  // How a job whose finisher died is ended: the daemon's own end of a job (job files, then
  // finalize_job). Until one is set such jobs are left alone, so that none ends without its
  // files before the daemon can write them. Unset it (nullptr) before what it calls goes: it
  // waits for a call in progress.
  using JobEnder = std::function<void(int64_t job_id)>;
  void set_job_ender(JobEnder ender);
  // One pass now: takes the jobs whose finisher died (JobStore::take_abandoned_jobs) and ends
  // them with the ender. Its own thread runs it every period, so that writing a job's files
  // never holds up the renewals. Returns how many it ended.
  int end_abandoned_jobs();

  // Called (on the heartbeat's thread) once when a beat finds that more than a lease has passed
  // since the last renewal that went through: the database was away, or this process was
  // paused, for longer than its leases, so other daemons may now hold its items. Called again
  // only after a renewal has gone through. Unset it (nullptr) before what it calls goes.
  using LapseHandler = std::function<void(const std::string& why)>;
  void set_on_lapse(LapseHandler handler);

 private:
  void run(const std::function<void()>& pass);  // every period until stopped

  JobStore& store_;
  const std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point last_renewed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::mutex ender_mu_;  // held while the ender runs
  JobEnder ender_;
  std::mutex lapse_mu_;  // held while the lapse handler runs
  LapseHandler on_lapse_;
  bool lapse_told_ = false;  // since the last renewal that went through
  std::thread thread_, ender_thread_;
};

}  // namespace fcd
