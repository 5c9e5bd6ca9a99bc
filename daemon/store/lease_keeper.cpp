#include "store/lease_keeper.h"

#include <spdlog/spdlog.h>

namespace fcd {

LeaseKeeper::LeaseKeeper(JobStore& store, std::chrono::milliseconds period)
    : store_(store),
      period_(period.count() > 0
                  ? period
                  : std::max(std::chrono::milliseconds(1), store.lease_holder().ttl / 3)),
      last_renewed_(std::chrono::steady_clock::now()),
      thread_([this] { run([this] { beat(); }); }),
      ender_thread_([this] { run([this] { end_abandoned_jobs(); }); }) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  ender_thread_.join();
}

int LeaseKeeper::beat() {
  const auto now = std::chrono::steady_clock::now();
  const auto since = now - last_renewed_;
  if (since > store_.lease_holder().ttl && !lapse_told_) {
    lapse_told_ = true;
    const std::string why =
        "this daemon's leases lapsed (" +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) +
        " s since the last renewal, leases of " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(store_.lease_holder().ttl).count()) +
        " s)";
    spdlog::warn("{}: other daemons may hold its items now; handing its training back", why);
    std::lock_guard<std::mutex> lk(lapse_mu_);
    if (on_lapse_) on_lapse_(why);
  }
  try {
    store_.renew_leases();
    last_renewed_ = now;
    lapse_told_ = false;
  } catch (const std::exception& e) {
    // Past the ttl another daemon may take these items: their ends are then refused (not ours)
    // and the items run again there, which atomic output renames make harmless.
    const bool lost = now - last_renewed_ > store_.lease_holder().ttl;
    spdlog::error("cannot renew this daemon's leases ({}){}", e.what(),
                  lost ? "; they have run out, so other daemons may run these items again" : "");
  }
  try {
    int n = store_.requeue_expired();
    if (n) spdlog::warn("{} item(s) whose daemon's lease ran out went back to the queue", n);
    return n;
  } catch (const std::exception& e) {
    spdlog::error("cannot sweep expired leases: {}", e.what());
    return 0;
  }
}

void LeaseKeeper::set_on_lapse(LapseHandler handler) {
  std::lock_guard<std::mutex> lk(lapse_mu_);
  on_lapse_ = std::move(handler);
}

void LeaseKeeper::set_job_ender(JobEnder ender) {
  std::lock_guard<std::mutex> lk(ender_mu_);
  ender_ = std::move(ender);
}

int LeaseKeeper::end_abandoned_jobs() {
  std::lock_guard<std::mutex> lk(ender_mu_);
  if (!ender_) return 0;
  int ended = 0;
  try {
    for (int64_t job_id : store_.take_abandoned_jobs()) {
      spdlog::warn("job {}: every item ended, but the daemon ending it stopped; ending it here",
                   job_id);
      ender_(job_id);
      ++ended;
    }
  } catch (const std::exception& e) {
    // The leases taken run out and the next pass (here or on another daemon) takes them again.
    spdlog::error("cannot end the jobs whose daemon stopped: {}", e.what());
  }
  return ended;
}

void LeaseKeeper::run(const std::function<void()>& pass) {
  std::unique_lock<std::mutex> lk(mu_);
  while (!cv_.wait_for(lk, period_, [this] { return stop_; })) {
    lk.unlock();
    pass();
    lk.lock();
  }
}

}  // namespace fcd
