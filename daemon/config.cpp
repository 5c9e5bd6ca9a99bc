#include "config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "facecycle/core/toml_limits.h"
#include "text_limits.h"

namespace fcd {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& origin, const std::string& key, const std::string& why) {
  throw ConfigError(origin + ": key '" + clip(key) + "' " + why);
}

std::string get_string(const toml::node& n, const std::string& origin, const std::string& key) {
  if (auto v = n.value<std::string>(); v && n.is_string()) return *v;
  bad(origin, key, "must be a string");
}

int get_int(const toml::node& n, const std::string& origin, const std::string& key, int lo,
            int hi) {
  if (!n.is_integer()) bad(origin, key, "must be an integer");
  int64_t v = *n.value<int64_t>();
  if (v < lo || v > hi)
    bad(origin, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(v);
}

bool get_bool(const toml::node& n, const std::string& origin, const std::string& key) {
  if (!n.is_boolean()) bad(origin, key, "must be true or false");
  return *n.value<bool>();
}

std::vector<std::string> get_strings(const toml::node& n, const std::string& origin,
                                     const std::string& key) {
  const auto* arr = n.as_array();
  if (!arr) bad(origin, key, "must be an array of strings, e.g. [\"a\", \"b\"]");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    if (!e.is_string()) bad(origin, key, "must be an array of strings, e.g. [\"a\", \"b\"]");
    out.push_back(*e.value<std::string>());
  }
  return out;
}

std::string scalar_to_string(const toml::node& n, const std::string& origin,
                             const std::string& key) {
  if (n.is_string()) return *n.value<std::string>();
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_floating_point()) {
    std::ostringstream os;
    os << *n.value<double>();
    return os.str();
  }
  bad(origin, key, "must be a string, number or boolean");
}

std::string check_choice(const std::string& v, const std::string& origin, const std::string& key,
                         const std::set<std::string>& allowed) {
  if (allowed.count(v)) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  bad(origin, key, "must be one of: " + list + " (got '" + clip(v) + "')");
}

const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
const std::set<std::string> kDevices{"cpu", "cuda", "auto"};
const std::set<std::string> kPrecisions{"fp32", "bf16", "auto"};
const std::set<std::string> kLogFormats{"text", "json"};

// The operator's keys (log files, retention); false when `key` is none of them. Kept apart from
// parse_config's chain so that chain stays readable.
bool parse_operations_key(const std::string& key, const toml::node& node, const std::string& origin,
                          Config& c) {
  if (key == "log_file")
    c.log_file = get_string(node, origin, key);
  else if (key == "log_max_size")
    c.log_max_size =
        node.is_integer()
            ? uint64_t(get_int(node, origin, key, 0, std::numeric_limits<int>::max()))
            : parse_size(get_string(node, origin, key), origin + ": key '" + key + "'");
  else if (key == "log_files")
    c.log_files = get_int(node, origin, key, 1, 1000);
  else if (key == "log_format")
    c.log_format = check_choice(get_string(node, origin, key), origin, key, kLogFormats);
  else if (key == "retention_days")
    c.retention_days = get_int(node, origin, key, 0, 36500);
  else
    return false;
  return true;
}

}  // namespace

Config parse_config(const std::string& text, const std::string& origin, Config c) {
  // Checked before toml++ sees the text: some inputs overflow its recursive parser.
  if (auto why = fc::toml_limits_problem(text); !why.empty())
    throw ConfigError(origin + ": " + why);
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ":" << e.source().begin.line << ": " << e.description();
    throw ConfigError(os.str());
  }
  for (const auto& [k, node] : root) {
    std::string key(k.str());
    if (parse_operations_key(key, node, origin, c)) continue;
    if (key == "data_dir")
      c.data_dir = get_string(node, origin, key);
    else if (key == "listen")
      c.listen = get_string(node, origin, key);
    else if (key == "workers")
      c.workers = get_int(node, origin, key, 1, 256);
    else if (key == "plugin_dirs")
      c.plugin_dirs = get_strings(node, origin, key);
    else if (key == "allowed_roots")
      c.allowed_roots = get_strings(node, origin, key);
    else if (key == "device")
      c.device = check_choice(get_string(node, origin, key), origin, key, kDevices);
    else if (key == "precision")
      c.precision = check_choice(get_string(node, origin, key), origin, key, kPrecisions);
    else if (key == "threads")
      c.threads = get_int(node, origin, key, 0, 1024);
    else if (key == "models_dir")
      c.models_dir = get_string(node, origin, key);
    else if (key == "active_model")
      c.active_model = get_string(node, origin, key);
    else if (key == "log_level")
      c.log_level = check_choice(get_string(node, origin, key), origin, key, kLevels);
    else if (key == "train_concurrency")
      c.train_concurrency = get_int(node, origin, key, 1, 64);
    else if (key == "max_user_priority")
      c.max_user_priority = get_int(node, origin, key, -100, 100);
    else if (key == "max_running_per_user")
      c.max_running_per_user = get_int(node, origin, key, 0, 100000);
    else if (key == "http_listen")
      c.http_listen = get_string(node, origin, key);
    else if (key == "max_batch")
      c.max_batch = get_int(node, origin, key, 1, 1024);
    else if (key == "max_wait_ms")
      c.max_wait_ms = get_int(node, origin, key, 0, 10000);
    else if (key == "keep_detail")
      c.keep_detail = get_bool(node, origin, key);
    else if (key == "tls_cert")
      c.tls_cert = get_string(node, origin, key);
    else if (key == "tls_key")
      c.tls_key = get_string(node, origin, key);
    else if (key == "tls_client_ca")
      c.tls_client_ca = get_string(node, origin, key);
    else if (key == "allow_plaintext_tokens")
      c.allow_plaintext_tokens = get_bool(node, origin, key);
    else if (key == "pipelines") {
      const auto* t = node.as_table();
      if (!t) bad(origin, key, "must be a table: [pipelines] transform = [\"detect\", ...]");
      for (const auto& [pk, pn] : *t) {
        std::string name(pk.str());
        if (name != "transform" && name != "whole_image")
          bad(origin, "pipelines." + name, "is unknown (known: transform, whole_image)");
        auto stages = get_strings(pn, origin, "pipelines." + name);
        if (stages.empty()) bad(origin, "pipelines." + name, "must name at least one stage");
        c.pipelines[name] = stages;
      }
    } else if (key == "plugins") {
      const auto* t = node.as_table();
      if (!t) bad(origin, key, "must hold tables: [plugins.NAME] key = value");
      for (const auto& [pk, pn] : *t) {
        std::string name(pk.str());
        const auto* pt = pn.as_table();
        if (!pt) bad(origin, "plugins." + name, "must be a table: [plugins." + clip(name) + "]");
        auto& pc = c.plugin_configs[name];
        for (const auto& [sk, sn] : *pt) {
          std::string full = "plugins." + name + "." + std::string(sk.str());
          pc[std::string(sk.str())] = scalar_to_string(sn, origin, full);
        }
      }
    } else {
      throw ConfigError(
          origin + ": unknown key '" + clip(key) +
          "' (known: data_dir, listen, workers, plugin_dirs, allowed_roots, "
          "device, precision, threads, models_dir, active_model, log_level, "
          "log_file, log_max_size, log_files, log_format, retention_days, "
          "train_concurrency, max_user_priority, max_running_per_user, http_listen, max_batch, "
          "max_wait_ms, "
          "keep_detail, tls_cert, tls_key, tls_client_ca, allow_plaintext_tokens, "
          "[pipelines], [plugins.NAME])");
    }
  }
  return c;
}

Config load_config_file(const std::string& path, Config base) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw ConfigError("config file " + path + " does not exist or is not a file");
  // Refuse a huge file before reading it whole; parse_config checks the text itself again.
  const auto size = fs::file_size(path, ec);
  if (!ec && size > fc::TomlLimits{}.max_bytes)
    throw ConfigError("config file " + path + " is " + std::to_string(size) +
                      " bytes, more than the limit of " +
                      std::to_string(fc::TomlLimits{}.max_bytes));
  auto text = [&] {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return parse_config(text, path, std::move(base));
}

std::string default_data_dir() {
  if (const char* env = std::getenv("FACECYCLE_DATA_DIR"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/facecycle";
}

uint64_t parse_size(const std::string& text, const std::string& key) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])))
      n = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  const std::map<std::string, int> shifts{{"", 0}, {"K", 10}, {"M", 20}, {"G", 30}};
  auto it = shifts.find(unit);
  if (used == 0 || it == shifts.end() || n > (~0ull >> it->second))
    throw ConfigError(key + " must be a size in bytes, e.g. 1048576, 512K, 64M or 1G (got '" +
                      clip(text) + "')");
  return uint64_t(n) << it->second;
}

void finalize_config(Config& c) {
  if (c.data_dir.empty()) c.data_dir = default_data_dir();
  c.data_dir = fs::absolute(c.data_dir).lexically_normal().string();
  if (c.data_dir.size() > 1 && c.data_dir.back() == '/') c.data_dir.pop_back();
  if (c.listen.empty()) c.listen = "unix:" + c.data_dir + "/facecycled.sock";
  if (c.models_dir.empty()) c.models_dir = c.data_dir + "/models";
  if (c.log_file.empty()) c.log_file = c.data_dir + "/facecycled.log";
  check_choice(c.log_format, "settings", "log_format", kLogFormats);
  if (c.log_files < 1) throw ConfigError("settings: key 'log_files' must be at least 1");
  if (c.retention_days < 0)
    throw ConfigError("settings: key 'retention_days' must be 0 (keep forever) or more");
  check_choice(c.device, "settings", "device", kDevices);
  check_choice(c.precision, "settings", "precision", kPrecisions);
  check_choice(c.log_level, "settings", "log_level", kLevels);
  if (c.workers < 1) throw ConfigError("settings: key 'workers' must be at least 1");
  if (c.train_concurrency < 1)
    throw ConfigError("settings: key 'train_concurrency' must be at least 1");
  if (c.max_user_priority < -100 || c.max_user_priority > 100)
    throw ConfigError("settings: key 'max_user_priority' must be between -100 and 100");
  if (c.max_running_per_user < 0)
    throw ConfigError("settings: key 'max_running_per_user' must be 0 (no cap) or more");
}

}  // namespace fcd
