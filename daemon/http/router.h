// Maps request paths to handlers for the daemon's HTTP listener (http/listener.h). facecycled
// registers /metrics and /healthz (http/daemon_routes.h); the dashboard adds its pages here too.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <string>

namespace fcd::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using Handler = std::function<Response(const Request&)>;

// A complete response to `req` (its HTTP version), with Content-Length set.
Response make_response(const Request& req, bhttp::status status, std::string body,
                       const std::string& content_type = "text/plain; charset=utf-8");

// The request's path: its target without the query string.
std::string request_path(const Request& req);

class Router {
 public:
  // GET of exactly `path` ("/metrics").
  void get(const std::string& path, Handler handler);
  // GET of any path starting with `prefix` ("/api/"); the longest matching prefix wins, an
  // exact path beats every prefix.
  void get_prefix(const std::string& prefix, Handler handler);

  // The handler's response; 404 for an unknown path, 405 (Allow: GET) for another method on a
  // known one, 500 when the handler throws (the message goes to the log, not to the client).
  Response route(const Request& req) const;

 private:
  const Handler* find(const std::string& path) const;

  std::map<std::string, Handler> exact_;
  std::map<std::string, Handler> prefixes_;
};

}  // namespace fcd::http
