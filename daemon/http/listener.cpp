#include "http/listener.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "http/session.h"
#include "text_limits.h"

namespace fcd::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

tcp::endpoint parse_listen_address(const std::string& address) {
  const auto fail = [&]() -> tcp::endpoint {
    throw ListenError("'" + clip(address) +
                      "' is not HOST:PORT with HOST an IP address, [IPv6] or localhost (e.g. "
                      "127.0.0.1:9464)");
  };
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return fail();
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return fail();
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return fail();
  if (std::stoi(port) > 65535) return fail();
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto ip = net::ip::make_address(host, ec);
  if (ec) return fail();
  return {ip, static_cast<unsigned short>(std::stoi(port))};
}

Listener::Listener(const std::string& address, Router router, const std::string& setting,
                   Limits limits)
    : router_(std::move(router)), limits_(limits) {
  tcp::endpoint ep;
  try {
    ep = parse_listen_address(address);
  } catch (const ListenError& e) {
    throw ListenError(setting + ": " + e.what());
  }
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);  // TIME_WAIT only
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw ListenError("cannot listen for HTTP on " + clip(address) + " (" + setting +
                      "): " + ec.message());
  port_ = acceptor_.local_endpoint().port();
}

Listener::~Listener() { stop(); }

void Listener::start() {
  accept();
  thread_ = std::thread([this] {
    for (;;) {  // a handler that throws must not end the listener
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: {}", e.what());
      }
    }
  });
}

void Listener::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Listener::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("http: cannot accept a connection: {}", ec.message());
      return accept_later();
    }
    if (open_->load() >= limits_.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Session>(std::move(socket), router_, limits_, open_)->start();
    }
    accept();
  });
}

void Listener::accept_later() {
  retry_.expires_after(std::chrono::milliseconds(100));
  retry_.async_wait([this](boost::system::error_code ec) {
    if (!ec) accept();
  });
}

}  // namespace fcd::http
