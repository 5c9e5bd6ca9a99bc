// A unix-socket proxy in front of a test cluster (pg_cluster.h), for the tests of a connection
// lost while the server carries on: cut() drops the client side of every connection through it,
// as a network blip or a client-side timeout would, and the server's backends run what they were
// running to its end. PostgreSQL does not watch an idle client socket mid-statement
// (client_connection_check_interval is 0), so a COMMIT in flight when cut() runs is recorded
// while its client only learns that the connection died: the "recorded, unconfirmed" case that
// pg_terminate_backend, which aborts the transaction, cannot produce.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fcd_test {

class CuttingProxy {
 public:
  // Proxies the database at `url` (postgresql://…?host=DIR, the cluster's socket folder); url()
  // is the same database reached through the proxy. Throws std::runtime_error when it cannot
  // listen.
  explicit CuttingProxy(const std::string& url);
  ~CuttingProxy();
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;

  const std::string& url() const { return url_; }
  // Drops the client side of every connection open now; later connections are proxied as before.
  // Returns how many it dropped.
  int cut();

 private:
  struct Pair {
    int client, server;
  };
  void run();
  bool forward(int from, int to);
  void close_pair(size_t i);

  std::string dir_, server_socket_, url_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::mutex mu_;  // pairs_: run() adds and closes, cut() shuts down
  std::vector<Pair> pairs_;
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace fcd_test
