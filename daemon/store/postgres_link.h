// A PostgreSQL connection that comes back (issue 18): the PostgreSQL stores' connections, and
// the transactions they run on them, ride through a server restart or a dropped connection
// (network blip, pg_terminate_backend, an idle timeout) instead of keeping a dead connection
// until the daemon restarts. For the PostgreSQL stores' .cpp files only.
//
// A transaction that broke before its COMMIT was sent was rolled back by the server, so in_tx
// reconnects (with a short bounded backoff) and runs it again. One that broke while committing
// may or may not have been recorded, and its server process may still be committing it: in_tx
// reconnects and waits for that process to end, so that what the database shows is the
// outcome. Then it runs the transaction again only when the caller says a second run is harmless
// (Replay::kHarmless), and otherwise throws CommitInDoubt, for the caller to look and resolve.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "store/database.h"  // DbError

namespace fcd::pg {

// Whether running a committed transaction a second time does no harm. Ends, lease renewals and
// sweeps are guarded by the lease (a replay changes nothing); a submit or a claim is not.
enum class Replay { kHarmful, kHarmless };

// The connection broke while COMMIT was on its way: the transaction may have been recorded.
struct CommitInDoubt : DbError {
  CommitInDoubt(const std::string& what, bool settled) : DbError(what), settled(settled) {}
  // The server process that ran the COMMIT has ended, so the database shows whether it was
  // recorded and the caller may look. False when that could not be seen within kReconnectFor:
  // a look might still miss a COMMIT that lands later.
  bool settled;
};

// How long one reconnect keeps trying before the call fails (a fast restart takes seconds).
inline constexpr std::chrono::seconds kReconnectFor{10};

class Link {
 public:
  // Connects; throws DbError (saying what to check) when the server cannot be reached.
  explicit Link(std::string url);
  ~Link();

  // The connection, connected again first when the last use found it broken.
  pqxx::connection& get();
  // Called when a transaction on it failed with `e`: true (and the connection is dropped) when
  // the cause was the connection, not the SQL.
  bool lost(const std::exception& e);
  // Connects again, trying for up to kReconnectFor with a growing pause. Logs the loss once per
  // outage and the return once. Throws DbError, saying what to check, when it gives up.
  void reconnect();
  // Waits, for up to kReconnectFor, until the server process `pid` (of a connection this link
  // lost) has ended, so that whatever it was committing is recorded or rolled back. True when it
  // ended; false when it did not, or the server could not be reached to ask.
  bool await_end_of(int pid);

  // "HOST/DATABASE", for messages: the URL without its user or password.
  const std::string& where() const { return where_; }
  // "the job database at HOST/DATABASE is unreachable (...); check ...": for a user. `running`:
  // said by a daemon that keeps trying, not by one that is starting.
  std::string unreachable(const std::string& why, bool running = true) const;

 private:
  const std::string url_, where_;
  std::unique_ptr<pqxx::connection> conn_;  // null while lost
  bool down_ = false;                       // an outage has been logged and not yet ended
  std::chrono::steady_clock::time_point down_since_;
};

// What CommitInDoubt says: what broke where, and whether the server was still committing.
std::string in_doubt_message(const Link& link, const char* what, bool settled,
                             const std::exception& e);

// Runs `body` in one transaction, turning libpqxx's errors into the store's DbError. A lost
// connection is reconnected and the transaction run again (see the top of this file).
template <typename F>
auto in_tx(Link& link, const char* what, Replay replay, F&& body) {
  for (int attempt = 1;; ++attempt) {
    int pid = 0;  // the server process that runs this try
    try {
      pid = link.get().backendpid();
      pqxx::work tx(link.get());
      return body(tx);
    } catch (const pqxx::in_doubt_error& e) {
      link.lost(e);
      const bool settled = link.await_end_of(pid);
      if (replay == Replay::kHarmful || attempt >= 3)
        throw CommitInDoubt(in_doubt_message(link, what, settled, e), settled);
      continue;  // await_end_of connected again
    } catch (const pqxx::failure& e) {
      if (!link.lost(e)) throw DbError(std::string("PostgreSQL: ") + what + ": " + e.what());
      // Three fresh connections in a row broke: more than a blip, so the caller hears of it.
      if (attempt >= 3)
        throw DbError(std::string("PostgreSQL: ") + what + ": " + link.unreachable(e.what()));
    }
    link.reconnect();
  }
}

// The same for a transaction that must not run twice once committed (a submit, a claim).
template <typename F>
auto in_tx(Link& link, const char* what, F&& body) {
  return in_tx(link, what, Replay::kHarmful, std::forward<F>(body));
}

}  // namespace fcd::pg
