// LISTEN/NOTIFY for PostgresJobStore (issue 18): every event insert NOTIFYs kEventChannel with its
// id at commit, and this listener, on a connection of its own, hands each id to a callback, so a
// daemon's `watch` streams and idle workers wake when another daemon writes an event or submits
// work, instead of at their next poll. When its connection is lost it connects and LISTENs again,
// then wakes everyone once (a NOTIFY sent meanwhile is lost). Built only with libpqxx, as the
// store is.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace fcd {

inline constexpr const char* kEventChannel = "fc_events";

class PostgresEventListener {
 public:
  // Connects and starts listening; throws DbError when the server refuses.
  PostgresEventListener(const std::string& url, std::function<void(int64_t)> on_event);
  ~PostgresEventListener();  // stops within a fraction of a second
  PostgresEventListener(const PostgresEventListener&) = delete;
  PostgresEventListener& operator=(const PostgresEventListener&) = delete;

 private:
  void run();
  // After a lost connection (a server restart, a dropped or killed backend): a new connection
  // and LISTEN, then one wake-up. Throws while the server is still away.
  void listen_again();

  const std::string url_;
  const std::function<void(int64_t)> on_event_;
  struct Impl;  // the pqxx connection and receiver; null while lost
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fcd
