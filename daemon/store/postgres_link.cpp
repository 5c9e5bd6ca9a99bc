#include "store/postgres_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>
#include <thread>

namespace fcd::pg {

namespace {

// libpq's URL (scheme://user:password@host:port/db?host=/socket/dir) or key=value conninfo,
// reduced to where the database is: never the user or the password (up to the first '@', which
// may hold an unescaped '/').
std::string where_of(const std::string& url) {
  std::smatch m;
  std::string host, db;
  if (std::regex_match(url, m, std::regex(R"(^[a-z]+://(?:[^@]*@)?([^/?]*)(?:/([^?]*))?.*$)"))) {
    host = m[1];
    db = m[2];
  } else if (std::regex_search(url, m, std::regex(R"((?:^|\s)dbname=(\S+))"))) {
    db = m[1];
  }
  if (std::regex_search(url, m, std::regex(R"((?:^|[?&\s])host=([^&\s]+))"))) host = m[1];
  if (host.empty()) host = "localhost";
  return db.empty() ? host : host + "/" + db;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Link::Link(std::string url) : url_(std::move(url)), where_(where_of(url_)) {
  try {
    conn_ = std::make_unique<pqxx::connection>(url_);
  } catch (const std::exception& e) {
    throw DbError(unreachable(e.what(), /*running=*/false));
  }
}

Link::~Link() = default;

pqxx::connection& Link::get() {
  if (!conn_) reconnect();
  return *conn_;
}

bool Link::lost(const std::exception& e) {
  bool gone = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
              dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
  // The server's own goodbyes: class 08 (connection exception) and 57P01-57P03 (shut down by an
  // administrator or a crash, or not accepting connections yet).
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e))
    gone = gone || starts_with(s->sqlstate(), "08") || starts_with(s->sqlstate(), "57P0");
  gone = gone || (conn_ && !conn_->is_open());
  // A new connection, not libpqxx 6's silent reactivation of this one, which fails the next
  // call or two first (libpqxx 7 has none).
  if (gone) conn_.reset();
  return gone;
}

void Link::reconnect() {
  conn_.reset();
  const auto now = std::chrono::steady_clock::now();
  if (!down_) {  // once per outage: a caller may retry many times before the server is back
    down_ = true;
    down_since_ = now;
    spdlog::warn("lost the connection to the job database at {}; reconnecting", where_);
  }
  const auto deadline = now + kReconnectFor;
  std::chrono::milliseconds pause(50);
  while (true) {
    try {
      conn_ = std::make_unique<pqxx::connection>(url_);
      break;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() + pause > deadline)
        throw DbError(unreachable(e.what(), /*running=*/true));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
  const std::chrono::duration<double> gone = std::chrono::steady_clock::now() - down_since_;
  spdlog::info("reconnected to the job database at {} after {:.1f} s", where_, gone.count());
  down_ = false;
}

bool Link::await_end_of(int pid) {
  const auto deadline = std::chrono::steady_clock::now() + kReconnectFor;
  try {
    while (true) {
      pqxx::nontransaction tx(get());
      if (tx.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).empty()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const std::exception& e) {
    lost(e);
    return false;  // unreachable, or lost again: the outcome cannot be seen
  }
}

std::string in_doubt_message(const Link& link, const char* what, bool settled,
                             const std::exception& e) {
  return std::string("PostgreSQL: ") + what + ": the connection to the job database at " +
         link.where() + " broke while committing, so it may or may not have been recorded" +
         (settled ? ""
                  : ", and the server was still at it " + std::to_string(kReconnectFor.count()) +
                        " s later") +
         "; look before doing it again (" + e.what() + ")";
}

std::string Link::unreachable(const std::string& why, bool running) const {
  std::string reason = why;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  return "the job database at " + where_ + " is unreachable (" + reason +
         "); check that PostgreSQL is running there and that this host can reach it" +
         (running ? " (the daemon reconnects by itself once it is back)" : "");
}

}  // namespace fcd::pg
