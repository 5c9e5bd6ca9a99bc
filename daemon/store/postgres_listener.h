// LISTEN/NOTIFY for the PostgreSQL stores (issue 18), each listener on a connection of its own.
// PostgresJobStore's: every event insert NOTIFYs kEventChannel with its id at commit, and its
// listener hands each id to a callback, so a daemon's `watch` streams and idle workers wake when
// another daemon writes an event or submits work, instead of at their next poll. The model
// catalogue's: kModelChannel, when a daemon activates a model everywhere. When a listener's
// connection is lost it connects and LISTENs again, then calls its on_listening hook, which
// reads the state again (a NOTIFY sent meanwhile is lost). Built only with libpqxx, as the stores
// are.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace fcd {

inline constexpr const char* kEventChannel = "fc_events";
inline constexpr const char* kModelChannel = "fc_models";

// Runs one statement on the listener's own connection (no transaction) and returns the first
// column of its first row as an integer. For what must name that connection (its backend pid).
using ListenerQuery = std::function<int64_t(const std::string& sql)>;

class PostgresListener {
 public:
  // on_notify gets each NOTIFY's payload. on_listening runs after each LISTEN: in the constructor
  // (again = false), then on the listener's thread after every reconnect (again = true). It must
  // run at least one query: that proves the LISTEN went through (libpqxx 6 swallows a broken
  // connection there). An exception from it counts as a lost connection and is tried again.
  // `what` names it in the log ("event": "PostgreSQL event listener ..."). Connects and starts
  // listening; throws DbError when the server refuses.
  PostgresListener(const std::string& url, std::string channel, std::string what,
                   std::function<void(const std::string& payload)> on_notify,
                   std::function<void(const ListenerQuery&, bool again)> on_listening);
  ~PostgresListener();  // stops within a fraction of a second
  PostgresListener(const PostgresListener&) = delete;
  PostgresListener& operator=(const PostgresListener&) = delete;

 private:
  void run();
  // After a lost connection (a server restart, a dropped or killed backend): a new connection
  // and LISTEN, then on_listening. Throws while the server is still away.
  void listen_again();

  const std::string url_, channel_, what_;
  const std::function<void(const std::string&)> on_notify_;
  const std::function<void(const ListenerQuery&, bool)> on_listening_;
  struct Impl;  // the pqxx connection and receiver; null while lost
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The job store's listener on kEventChannel: each event id goes to on_event, and after a
// reconnect the newest id does, once, which wakes every watcher and idle worker to read again.
class PostgresEventListener {
 public:
  PostgresEventListener(const std::string& url, std::function<void(int64_t)> on_event);

 private:
  PostgresListener listener_;
};

}  // namespace fcd
