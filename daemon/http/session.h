// One HTTP connection of the Listener: reads a request under the size and time limits, answers
// it from the Router, and keeps the connection while the client asks for keep-alive.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <memory>
#include <optional>

#include "http/listener.h"

namespace fcd::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `open` counts live sessions (for Limits::max_connections); this one counts until destroyed.
  Session(boost::asio::ip::tcp::socket socket, const Router& router, const Limits& limits,
          std::shared_ptr<std::atomic<int>> open);
  ~Session();
  void start();

 private:
  void read();
  void on_read(boost::beast::error_code ec);
  void write(Response res);
  void close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const Router& router_;
  const Limits& limits_;
  std::shared_ptr<std::atomic<int>> open_;
};

}  // namespace fcd::http
