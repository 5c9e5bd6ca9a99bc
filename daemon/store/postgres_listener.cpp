#include "store/postgres_listener.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>

#include "store/database.h"  // DbError

namespace fcd {

struct PostgresListener::Impl {
  struct Receiver : pqxx::notification_receiver {
    Receiver(pqxx::connection_base& c, const std::string& channel,
             std::function<void(const std::string&)> f)
        : pqxx::notification_receiver(c, channel), on_notify(std::move(f)) {}
    void operator()(const std::string& payload, int) override { on_notify(payload); }
    std::function<void(const std::string&)> on_notify;
  };
  Impl(const std::string& url, const std::string& channel,
       std::function<void(const std::string&)> on_notify)
      : conn(url) {
    receiver = std::make_unique<Receiver>(conn, channel, std::move(on_notify));
  }
  int64_t query(const std::string& sql) {
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  pqxx::connection conn;
  std::unique_ptr<Receiver> receiver;
};

PostgresListener::PostgresListener(const std::string& url, std::string channel, std::string what,
                                   std::function<void(const std::string&)> on_notify,
                                   std::function<void(const ListenerQuery&, bool)> on_listening)
    : url_(url),
      channel_(std::move(channel)),
      what_(std::move(what)),
      on_notify_(std::move(on_notify)),
      on_listening_(std::move(on_listening)) {
  try {
    impl_ = std::make_unique<Impl>(url_, channel_, on_notify_);
    on_listening_([this](const std::string& sql) { return impl_->query(sql); }, false);
  } catch (const std::exception& e) {
    throw DbError("PostgreSQL: cannot listen for " + what_ + "s: " + e.what());
  }
  thread_ = std::thread([this] { run(); });
}

PostgresListener::~PostgresListener() {
  stop_ = true;
  thread_.join();
}

void PostgresListener::listen_again() {
  impl_ = std::make_unique<Impl>(url_, channel_, on_notify_);
  on_listening_([this](const std::string& sql) { return impl_->query(sql); }, true);
}

void PostgresListener::run() {
  bool down = false;  // an outage has been logged and not yet ended: one line each way
  while (!stop_) {
    try {
      if (!impl_) {
        listen_again();
        spdlog::info("PostgreSQL {} listener: listening again", what_);
        down = false;
      }
      impl_->conn.await_notification(0, 200000);  // 0.2 s: how long a stop waits
      if (!impl_->conn.is_open()) throw pqxx::broken_connection("the connection closed");
    } catch (const std::exception& e) {
      // A new connection, not libpqxx 6's reactivation of this one, which would come back
      // without telling anyone that a NOTIFY may have been lost (libpqxx 7 has none). Meanwhile
      // watchers still poll every 0.5 s, so only their wake-ups are slower.
      impl_.reset();
      if (!down)
        spdlog::warn("PostgreSQL {} listener lost its connection ({}); reconnecting", what_,
                     e.what());
      down = true;
      for (int i = 0; i < 5 && !stop_; ++i)  // 0.5 s between tries, still stopping promptly
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

PostgresEventListener::PostgresEventListener(const std::string& url,
                                             std::function<void(int64_t)> on_event)
    : listener_(
          url, kEventChannel, "event",
          [on_event](const std::string& payload) {
            on_event(std::strtoll(payload.c_str(), nullptr, 10));
          },
          [on_event](const ListenerQuery& query, bool again) {
            const int64_t newest = query("SELECT COALESCE(MAX(id), 0) FROM events");
            // A NOTIFY sent while the connection was down is lost, and watchers here may have
            // missed an event: one wake with the newest id makes them (and idle workers) read
            // the state again.
            if (again) on_event(newest);
          }) {}

}  // namespace fcd
