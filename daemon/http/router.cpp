#include "http/router.h"

#include <spdlog/spdlog.h>

#include "text_limits.h"

namespace fcd::http {

Response make_response(const Request& req, bhttp::status status, std::string body,
                       const std::string& content_type) {
  Response res{status, req.version()};
  res.set(bhttp::field::server, "facecycled");
  res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string request_path(const Request& req) {
  std::string target(req.target());
  return target.substr(0, target.find('?'));
}

void Router::get(const std::string& path, Handler handler) { exact_[path] = std::move(handler); }

void Router::get_prefix(const std::string& prefix, Handler handler) {
  prefixes_[prefix] = std::move(handler);
}

const Handler* Router::find(const std::string& path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
  const Handler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, h] : prefixes_)
    if (path.compare(0, prefix.size(), prefix) == 0 && prefix.size() >= best_len) {
      best = &h;
      best_len = prefix.size();
    }
  return best;
}

Response Router::route(const Request& req) const {
  const std::string path = request_path(req);
  const Handler* h = find(path);
  if (!h) return make_response(req, bhttp::status::not_found, "not found: " + clip(path) + "\n");
  // Every route is read-only; nothing here changes state, so nothing but GET is allowed.
  if (req.method() != bhttp::verb::get) {
    auto res = make_response(req, bhttp::status::method_not_allowed, "only GET is allowed\n");
    res.set(bhttp::field::allow, "GET");
    return res;
  }
  try {
    return (*h)(req);
  } catch (const std::exception& e) {
    spdlog::error("http: GET {} failed: {}", clip(path), e.what());
  } catch (...) {
    spdlog::error("http: GET {} failed with an unknown error", clip(path));
  }
  return make_response(req, bhttp::status::internal_server_error,
                       "internal error (the daemon log has the reason)\n");
}

}  // namespace fcd::http
