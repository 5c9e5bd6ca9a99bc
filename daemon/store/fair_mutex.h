// A mutex that is handed over in arrival order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace fcd {

// The job stores share one connection under a lock. std::mutex lets the thread that just
// unlocked take it straight back, so a worker claiming in a loop kept a submit waiting for tens
// of milliseconds (bench_queue's submit p99). Here each locker takes a ticket and waits its turn.
class FairMutex {
 public:
  void lock() {
    std::unique_lock<std::mutex> lk(m_);
    const uint64_t ticket = next_++;
    turn_.wait(lk, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> lk(m_);
      ++serving_;
    }
    turn_.notify_all();  // few threads wait: the one whose ticket is next goes on
  }

 private:
  std::mutex m_;
  std::condition_variable turn_;
  uint64_t next_ = 0, serving_ = 0;
};

}  // namespace fcd
