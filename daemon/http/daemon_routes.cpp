#include "http/daemon_routes.h"

#include "facecycle/core/loopback.h"
#include "http/listener.h"
#include "text_limits.h"

namespace fcd::http {

namespace {

// The text exposition format Prometheus expects from a plain-text scrape.
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Null when the request may see metrics; else the refusal to send.
std::optional<Response> refuse_unless_admin(const Request& req, Auth& auth) {
  const std::string token = bearer_token(std::string(req[bhttp::field::authorization]));
  if (token.empty()) {
    auto res = make_response(req, bhttp::status::unauthorized,
                             "/metrics needs an admin token: Authorization: Bearer TOKEN "
                             "(facecycled token add NAME --admin)\n");
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"facecycled\"");
    return res;
  }
  auto check = auth.check_token(token);
  if (!check.user) {
    auto res = make_response(req, bhttp::status::unauthorized, check.refusal + "\n");
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"facecycled\", error=\"invalid_token\"");
    return res;
  }
  if (!check.user->is_admin)
    return make_response(req, bhttp::status::forbidden,
                         "/metrics names every user, so it needs an admin's token; " +
                             check.user->name + " is not an admin\n");
  return std::nullopt;
}

}  // namespace

bool check_http_exposure(const std::string& address, bool allow_plaintext_tokens) {
  parse_listen_address(address);  // throws ListenError naming the expected form
  // The gRPC listener's rule (core/loopback.h), so ::ffff:127.0.0.1 counts here as it does there.
  if (fc::is_loopback_address(address)) return false;
  if (allow_plaintext_tokens) return true;
  throw ListenError("refusing to serve HTTP on " + clip(address) +
                    " (--http / http_listen): it is not a loopback address, and scrapers send "
                    "an admin token to /metrics in plain text; bind it to 127.0.0.1 (Prometheus "
                    "on this host, or a TLS proxy in front), or set allow_plaintext_tokens = true "
                    "(--allow-plaintext-tokens) on a network you trust");
}

void add_daemon_routes(Router& router, Metrics& metrics, Auth& auth,
                       const std::atomic<bool>& stopping) {
  router.get("/metrics", [&metrics, &auth](const Request& req) {
    if (auto refusal = refuse_unless_admin(req, auth)) return std::move(*refusal);
    return make_response(req, bhttp::status::ok, metrics.render(), kMetricsContentType);
  });
  router.get("/healthz", [&stopping](const Request& req) {
    if (stopping.load())
      return make_response(req, bhttp::status::service_unavailable, "stopping\n");
    return make_response(req, bhttp::status::ok, "ok\n");
  });
}

}  // namespace fcd::http
