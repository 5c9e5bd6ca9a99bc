#include "http/dashboard.h"

#include <cctype>
#include <charconv>

#include "http/dashboard_api.h"
#include "http/dashboard_assets.h"
#include "text_limits.h"

namespace fcd::http {

using nlohmann::json;

namespace {

// The page loads nothing but its own script, style and blob: images, and nothing may frame it:
// an injected string can run no script, and no other site can overlay it.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void harden(Response& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set("Content-Security-Policy", kPagePolicy);
}

Response json_response(const Request& req, bhttp::status status, const json& body) {
  // Paths and errors may hold bytes that are not UTF-8: replaced, never a throw.
  auto res = make_response(req, status, body.dump(-1, ' ', false, json::error_handler_t::replace),
                           "application/json");
  harden(res);
  return res;
}

Response error_response(const Request& req, bhttp::status status, const std::string& message) {
  auto res = json_response(req, status, {{"error", clip(message, 2000)}});
  if (status == bhttp::status::unauthorized)
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"facecycled\"");
  return res;
}

// Runs `body` as the request's user: 401 without a live token, the ApiError's status when the
// request is refused.
template <class F>
Response as_user(const Request& req, Auth& auth, F&& body) {
  const std::string token = bearer_token(std::string(req[bhttp::field::authorization]));
  if (token.empty())
    return error_response(req, bhttp::status::unauthorized,
                          "a token is required: Authorization: Bearer TOKEN (facecycled token "
                          "add NAME prints one)");
  auto check = auth.check_token(token);
  if (!check.user) return error_response(req, bhttp::status::unauthorized, check.refusal);
  try {
    return body(*check.user);
  } catch (const ApiError& e) {
    return error_response(req, e.status, e.what());
  }
}

// "/api/jobs/12/items" -> {"12", "items"}; "/api/jobs/12" -> {"12", ""}.
std::pair<std::string, std::string> split_job_path(const std::string& rest) {
  auto slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

Response job_route(const Request& req, DashboardApi& api, const User& u) {
  static const std::string prefix = "/api/jobs/";
  auto [id_text, what] = split_job_path(request_path(req).substr(prefix.size()));
  const int64_t id = parse_job_id(id_text);
  const Query q = parse_query(std::string(req.target()));
  std::lock_guard<std::mutex> lk(api.mutex());
  if (what.empty()) return json_response(req, bhttp::status::ok, api.job(u, id));
  if (what == "items") return json_response(req, bhttp::status::ok, api.items(u, id, q));
  if (what == "metrics") return json_response(req, bhttp::status::ok, api.metrics(u, id, q));
  if (what == "file" || what == "image") {
    FileReply f = what == "file" ? api.file(u, id, q) : api.image(u, id, q);
    auto res = make_response(req, bhttp::status::ok, std::move(f.body), f.content_type);
    harden(res);
    return res;
  }
  throw ApiError(bhttp::status::not_found, "no such API path: " + clip(request_path(req)));
}

void add_assets(Router& router) {
  for (const auto& a : dashboard_assets()) {
    const std::string path = a.name == "index.html" ? "/" : "/" + a.name;
    const std::string type = content_type_for(a.name) + "; charset=utf-8";
    router.get(path, [a, type](const Request& req) {
      auto res = make_response(req, bhttp::status::ok, std::string(a.text), type);
      harden(res);
      return res;
    });
  }
}

}  // namespace

void add_dashboard_routes(Router& router, const DashboardDeps& deps) {
  auto api = std::make_shared<DashboardApi>(deps);
  Auth& auth = deps.auth;
  add_assets(router);
  router.get("/api/whoami", [&auth](const Request& req) {
    return as_user(req, auth, [&](const User& u) {
      return json_response(req, bhttp::status::ok, {{"user", u.name}, {"admin", u.is_admin}});
    });
  });
  router.get("/api/jobs", [api, &auth](const Request& req) {
    return as_user(req, auth, [&](const User& u) {
      const Query q = parse_query(std::string(req.target()));
      std::lock_guard<std::mutex> lk(api->mutex());
      return json_response(req, bhttp::status::ok, api->jobs(u, q));
    });
  });
  router.get_prefix("/api/jobs/", [api, &auth](const Request& req) {
    return as_user(req, auth, [&](const User& u) { return job_route(req, *api, u); });
  });
  router.get("/api/runs/compare", [api, &auth](const Request& req) {
    return as_user(req, auth, [&](const User& u) {
      const Query q = parse_query(std::string(req.target()));
      std::lock_guard<std::mutex> lk(api->mutex());
      return json_response(req, bhttp::status::ok, api->compare(u, q));
    });
  });
  router.get("/api/models", [api, &auth](const Request& req) {
    return as_user(req, auth, [&](const User&) {
      std::lock_guard<std::mutex> lk(api->mutex());
      return json_response(req, bhttp::status::ok, api->models());
    });
  });
  // Any other /api/ path: a JSON 404 after the token check, like the others.
  router.get_prefix("/api/", [&auth](const Request& req) {
    return as_user(req, auth, [&](const User&) -> Response {
      throw ApiError(bhttp::status::not_found, "no such API path: " + clip(request_path(req)));
    });
  });
}

Query parse_query(const std::string& target) {
  Query q;
  auto at = target.find('?');
  if (at == std::string::npos) return q;
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() &&
                 std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::string_view rest(target);
  rest.remove_prefix(at + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    q[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return q;
}

int64_t query_int(const Query& q, const std::string& key, int64_t fallback, int64_t lo,
                  int64_t hi) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return fallback;
  int64_t v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    throw ApiError(bhttp::status::bad_request,
                   key + " must be a whole number from " + std::to_string(lo) + " to " +
                       std::to_string(hi) + ", not '" + clip(s, 40) + "'");
  return v;
}

int64_t parse_job_id(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || text[0] == '-' || text[0] == '+' || ec != std::errc() ||
      end != text.data() + text.size() || v <= 0)
    throw ApiError(bhttp::status::bad_request,
                   "'" + clip(text, 40) + "' is not a job id (a positive number)");
  return v;
}

std::string content_type_for(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string> types{
      {"html", "text/html"},        {"js", "text/javascript"}, {"css", "text/css"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},     {"jpeg", "image/jpeg"},
      {"webp", "image/webp"},       {"bmp", "image/bmp"},      {"csv", "text/csv"},
      {"json", "application/json"}, {"jsonl", "text/plain"},   {"toml", "text/plain"},
      {"txt", "text/plain"},        {"log", "text/plain"}};
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace fcd::http
