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
  explicit Impl(const std::string& url) : conn(url) {}
  pqxx::connection conn;
  std::unique_ptr<Receiver> receiver;
};

PostgresEventListener::PostgresEventListener(const std::string& url,
                                             std::function<void(int64_t)> on_event) {
  try {
    impl_ = std::make_unique<Impl>(url);
    impl_->receiver = std::make_unique<Impl::Receiver>(impl_->conn, std::move(on_event));
  } catch (const std::exception& e) {
    throw DbError(std::string("PostgreSQL: cannot listen for events: ") + e.what());
  }
  thread_ = std::thread([this] { run(); });
}

PostgresEventListener::~PostgresEventListener() {
  stop_ = true;
  thread_.join();
}

void PostgresEventListener::run() {
  bool warned = false;
  while (!stop_) {
    try {
      impl_->conn.await_notification(0, 200000);  // 0.2 s: how long a stop waits
      warned = false;
    } catch (const std::exception& e) {
      // Watchers still poll every 0.5 s, so a lost listener only slows their wake-ups.
      if (!warned) spdlog::warn("PostgreSQL event listener: {}; retrying", e.what());
      warned = true;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace fcd
