// The daemon's HTTP listener (--http ADDR): Boost.Beast on one Asio thread of its own, serving a
// Router. Anyone who can reach the address can send it anything, so every request is bounded in
// size and time, and bad input only ever closes that one connection.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "http/router.h"

namespace fcd::http {

struct Limits {
  std::size_t max_header_bytes = 8 * 1024;  // request line and headers: 431 beyond
  std::size_t max_body_bytes = 16 * 1024;   // no route takes a body yet: 413 beyond
  // A whole request, counted from the connection's start or the previous response: it bounds
  // both a slow sender and an idle kept-alive connection.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};  // a whole response
  int max_connections = 64;                        // beyond: closed at once
};

// The address is malformed, or cannot be bound (in use, not ours).
struct ListenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "HOST:PORT" with HOST an IPv4 address, [IPv6] or localhost; throws ListenError saying what
// is expected.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& address);

class Listener {
 public:
  // Binds and listens at once, so a taken port is reported before the daemon starts work.
  // `setting` names where the address came from, for the error ("--http / http_listen").
  Listener(const std::string& address, Router router, const std::string& setting,
           Limits limits = {});
  ~Listener();  // stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void start();  // serves on its own thread until stop()
  void stop();   // closes the listener and every open connection; idempotent
  unsigned short port() const { return port_; }  // the bound port (for ":0")

 private:
  void accept();
  void accept_later();  // after an accept error (e.g. out of descriptors): no busy loop

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  boost::asio::steady_timer retry_{io_};
  const Router router_;
  const Limits limits_;
  unsigned short port_ = 0;
  std::shared_ptr<std::atomic<int>> open_ = std::make_shared<std::atomic<int>>(0);
  std::thread thread_;
};

}  // namespace fcd::http
