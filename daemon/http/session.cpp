#include "http/session.h"

#include <boost/beast/http.hpp>
#include <optional>

namespace fcd::http {

namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

namespace {

// The answer to a request that could not be read, or none when the connection just ended
// (timeout, reset, a client gone mid-request).
std::optional<std::pair<bhttp::status, const char*>> read_error_answer(beast::error_code ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return std::make_pair(bhttp::status::request_header_fields_too_large,
                          "request line and headers too large\n");
  if (ec == bhttp::error::body_limit)
    return std::make_pair(bhttp::status::payload_too_large, "request body too large\n");
  // The client closed between requests, or in the middle of one: nobody to answer.
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
    return std::make_pair(bhttp::status::bad_request, "malformed HTTP request\n");
  return std::nullopt;
}

}  // namespace

Session::Session(tcp::socket socket, const Router& router, const Limits& limits,
                 std::shared_ptr<std::atomic<int>> open)
    : stream_(std::move(socket)),
      buffer_(limits.max_header_bytes + limits.max_body_bytes),
      router_(router),
      limits_(limits),
      open_(std::move(open)) {
  ++*open_;
}

Session::~Session() { --*open_; }

void Session::start() { read(); }

void Session::read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser_->body_limit(limits_.max_body_bytes);
  stream_.expires_after(limits_.read_timeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void Session::on_read(beast::error_code ec) {
  if (ec) {
    auto answer = read_error_answer(ec);
    if (!answer) return close();
    Request unread;  // what was read may be half a request: answer in HTTP/1.1 and close
    auto res = make_response(unread, answer->first, answer->second);
    res.keep_alive(false);
    return write(std::move(res));
  }
  const Request& req = parser_->get();
  Response res = router_.route(req);
  res.keep_alive(req.keep_alive());
  write(std::move(res));
}

void Session::write(Response res) {
  auto owned = std::make_shared<Response>(std::move(res));
  stream_.expires_after(limits_.write_timeout);
  bhttp::async_write(stream_, *owned,
                     [self = shared_from_this(), owned](beast::error_code ec, std::size_t) {
                       if (ec || !owned->keep_alive()) return self->close();
                       self->read();
                     });
}

void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace fcd::http
