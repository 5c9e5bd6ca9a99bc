#include "store/postgres_listener.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>

#include "store/database.h"  // DbError

namespace fcd {

struct PostgresEventListener::Impl {
  struct Receiver : pqxx::notification_receiver {
    Receiver(pqxx::connection_base& c, std::function<void(int64_t)> f)
        : pqxx::notification_receiver(c, kEventChannel), on_event(std::move(f)) {}
    void operator()(const std::string& payload, int) override {
      on_event(std::strtoll(payload.c_str(), nullptr, 10));
    }
    std::function<void(int64_t)> on_event;
  };
  Impl(const std::string& url, std::function<void(int64_t)> on_event) : conn(url) {
    receiver = std::make_unique<Receiver>(conn, std::move(on_event));
  }
  // The newest event id. It also proves the LISTEN went through: libpqxx 6 swallows a broken
  // connection there, and this query does not.
  int64_t newest_event() {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT COALESCE(MAX(id), 0) FROM events")[0].as<int64_t>();
  }
  pqxx::connection conn;
  std::unique_ptr<Receiver> receiver;
};

PostgresEventListener::PostgresEventListener(const std::string& url,
                                             std::function<void(int64_t)> on_event)
    : url_(url), on_event_(std::move(on_event)) {
  try {
    impl_ = std::make_unique<Impl>(url_, on_event_);
    impl_->newest_event();
  } catch (const std::exception& e) {
    throw DbError(std::string("PostgreSQL: cannot listen for events: ") + e.what());
  }
  thread_ = std::thread([this] { run(); });
}

PostgresEventListener::~PostgresEventListener() {
  stop_ = true;
  thread_.join();
}

void PostgresEventListener::listen_again() {
  impl_ = std::make_unique<Impl>(url_, on_event_);
  // A NOTIFY sent while the connection was down is lost, and watchers here may have missed an
  // event: one wake with the newest id makes them (and idle workers) read the state again.
  on_event_(impl_->newest_event());
}

void PostgresEventListener::run() {
  bool down = false;  // an outage has been logged and not yet ended: one line each way
  while (!stop_) {
    try {
      if (!impl_) {
        listen_again();
        spdlog::info("PostgreSQL event listener: listening again");
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
        spdlog::warn("PostgreSQL event listener lost its connection ({}); reconnecting", e.what());
      down = true;
      for (int i = 0; i < 5 && !stop_; ++i)  // 0.5 s between tries, still stopping promptly
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace fcd
