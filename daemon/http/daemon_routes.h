// facecycled's own routes on the HTTP listener: /metrics (Prometheus) and /healthz.
#pragma once

#include <atomic>

#include "http/router.h"
#include "metrics/metrics.h"
#include "service/auth.h"

namespace fcd::http {

// /metrics names every user with running or queued items, so it answers only to an admin's
// token ("Authorization: Bearer TOKEN", as gRPC takes it): 401 without one, 403 for another
// user's. /healthz needs nothing: 200 "ok", or 503 "stopping" once `stopping` is set.
void add_daemon_routes(Router& router, Metrics& metrics, Auth& auth,
                       const std::atomic<bool>& stopping);

// The listener speaks plain HTTP and /metrics takes an admin token: like the gRPC listener
// (service/tls.h), a non-loopback address is refused (ListenError, saying what to do) unless
// `allow_plaintext_tokens`. True when the address is not loopback (and allowed): warn then.
bool check_http_exposure(const std::string& address, bool allow_plaintext_tokens);

}  // namespace fcd::http
