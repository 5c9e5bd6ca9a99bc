#include "config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "data_dir_zones.h"  // kJobsFolder, is_under
#include "facecycle/core/toml_limits.h"
#include "facecycle/core/toml_reader.h"
#include "text_limits.h"

namespace fcd {

namespace {

namespace fs = std::filesystem;

using fc::config::fail;

const std::vector<std::string> kPipelines{"transform", "whole_image"};

void check_choice(const std::string& v, const std::string& key,
                  const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw ConfigError("settings: key '" + key + "' must be one of: " + list + " (got '" + clip(v) +
                    "')");
}

// Where the daemon listens, what it may read, and the hardware it runs on. Each getter's
// default is the value so far, so the file only overrides what it names.
void read_service_keys(fc::TomlReader& r, Config& c) {
  c.data_dir = r.string("data_dir", c.data_dir);
  c.listen = r.string("listen", c.listen);
  c.workers = int(r.integer("workers", c.workers, 1, 256));
  if (r.has("plugin_dirs")) c.plugin_dirs = r.strings("plugin_dirs");
  if (r.has("allowed_roots")) c.allowed_roots = r.strings("allowed_roots");
  c.device = r.choice("device", c.device);
  c.precision = r.choice("precision", c.precision);
  c.threads = int(r.integer("threads", c.threads, 0, 1024));
  c.models_dir = r.string("models_dir", c.models_dir);
  c.jobs_dir = r.string("jobs_dir", c.jobs_dir);
  c.active_model = r.string("active_model", c.active_model);
  c.train_concurrency = int(r.integer("train_concurrency", c.train_concurrency, 0, 64));
  c.max_user_priority = int(r.integer("max_user_priority", c.max_user_priority, -100, 100));
  c.max_running_per_user =
      int(r.integer("max_running_per_user", c.max_running_per_user, 0, 100000));
  c.http_listen = r.string("http_listen", c.http_listen);
  c.database = r.string("database", c.database);
  c.lease_seconds = int(r.integer("lease_seconds", c.lease_seconds, 1, 3600));
  c.claim_batch = int(r.integer("claim_batch", c.claim_batch, 0, 1024));
  c.max_batch = int(r.integer("max_batch", c.max_batch, 1, 1024));
  c.max_wait_ms = int(r.integer("max_wait_ms", c.max_wait_ms, 0, 10000));
  c.keep_detail = r.boolean("keep_detail", c.keep_detail);
  c.tls_cert = r.string("tls_cert", c.tls_cert);
  c.tls_key = r.string("tls_key", c.tls_key);
  c.tls_client_ca = r.string("tls_client_ca", c.tls_client_ca);
  c.allow_plaintext_tokens = r.boolean("allow_plaintext_tokens", c.allow_plaintext_tokens);
}

// The operator's keys: the log, its rotation and format, and retention.
void read_operations_keys(fc::TomlReader& r, const std::string& origin, Config& c) {
  c.log_level = r.one_of("log_level", c.log_level, kLogLevels);
  c.log_file = r.string("log_file", c.log_file);
  // A byte count, or a size with a unit ("64M") as --log-max-size takes it.
  if (const toml::node* n = r.node("log_max_size"); n && n->is_integer())
    c.log_max_size = uint64_t(r.integer("log_max_size", 0, 0, std::numeric_limits<int>::max()));
  else if (n)
    c.log_max_size = parse_size(r.string("log_max_size", ""), origin + ": key 'log_max_size'");
  c.log_files = int(r.integer("log_files", c.log_files, 1, 1000));
  c.log_format = r.one_of("log_format", c.log_format, kLogFormats);
  c.retention_days = int(r.integer("retention_days", c.retention_days, 0, 36500));
}

// [pipelines]: stage names per pipeline; a pipeline not named keeps its default.
void read_pipelines(fc::TomlReader& top, Config& c) {
  const toml::table* t = top.table("pipelines");
  if (!t) return;
  fc::TomlReader r(*t, "pipelines.");
  for (const auto& name : kPipelines) {
    if (!r.has(name)) continue;
    auto stages = r.strings(name);
    if (stages.empty()) fail(r.key(name), "must name at least one stage");
    c.pipelines[name] = std::move(stages);
  }
  r.finish();
}

// [plugins.NAME]: each plugin's table, passed whole as TOML text (plugin ABI 3): the plugin reads
// and checks its own keys with the same typed reader (facecycle/plugin_settings.h). Any name: a
// plugin not loaded ignores its table.
void read_plugins(fc::TomlReader& top, Config& c) {
  const toml::table* t = top.table("plugins");
  if (!t) return;
  for (const auto& [pk, pn] : *t) {
    const std::string name(pk.str());
    const toml::table* pt = pn.as_table();
    if (!pt)
      fail("plugins." + name, "must be a table: [plugins." + fc::config::clip(name) + "] (got " +
                                  fc::config::describe(pn) + ")");
    std::ostringstream text;
    text << *pt;
    c.plugin_tables[name] = text.str();
  }
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
  try {
    fc::TomlReader r(root, "");
    read_service_keys(r, c);
    read_operations_keys(r, origin, c);
    read_pipelines(r, c);
    read_plugins(r, c);
    r.finish();
  } catch (const fc::ConfigError& e) {
    throw ConfigError(e.in_file(origin));
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

namespace {

// The data dir's zones (data_dir_zones.h) decide who reads what inside it: a jobs folder
// elsewhere in it, or one holding it, would put job folders beside the database.
void check_jobs_dir(const Config& c) {
  const fs::path jobs(c.jobs_dir), data(c.data_dir);
  if (is_under(jobs, data))
    throw ConfigError("settings: key 'jobs_dir' (" + c.jobs_dir + ") holds the data dir " +
                      c.data_dir + "; give a folder of its own, e.g. /shared/facecycle/jobs");
  if (is_under(data, jobs) && jobs != data / kJobsFolder)
    throw ConfigError("settings: key 'jobs_dir' (" + c.jobs_dir + ") lies inside the data dir " +
                      c.data_dir + "; leave it unset for " + c.data_dir + "/" + kJobsFolder +
                      ", or give a folder outside it");
}

}  // namespace

void finalize_config(Config& c) {
  if (c.data_dir.empty()) c.data_dir = default_data_dir();
  c.data_dir = fs::absolute(c.data_dir).lexically_normal().string();
  if (c.data_dir.size() > 1 && c.data_dir.back() == '/') c.data_dir.pop_back();
  if (c.listen.empty()) c.listen = "unix:" + c.data_dir + "/facecycled.sock";
  if (c.models_dir.empty()) c.models_dir = c.data_dir + "/models";
  if (c.jobs_dir.empty()) c.jobs_dir = c.data_dir + "/" + kJobsFolder;
  c.jobs_dir = fs::absolute(c.jobs_dir).lexically_normal().string();
  if (c.jobs_dir.size() > 1 && c.jobs_dir.back() == '/') c.jobs_dir.pop_back();
  check_jobs_dir(c);
  if (c.log_file.empty()) c.log_file = c.data_dir + "/facecycled.log";
  check_choice(c.log_format, "log_format", kLogFormats);
  if (c.log_files < 1) throw ConfigError("settings: key 'log_files' must be at least 1");
  if (c.retention_days < 0)
    throw ConfigError("settings: key 'retention_days' must be 0 (keep forever) or more");
  check_choice(c.log_level, "log_level", kLogLevels);
  if (c.workers < 1) throw ConfigError("settings: key 'workers' must be at least 1");
  if (c.train_concurrency < 0)
    throw ConfigError("settings: key 'train_concurrency' must be 0 (no training here) or more");
  if (c.max_user_priority < -100 || c.max_user_priority > 100)
    throw ConfigError("settings: key 'max_user_priority' must be between -100 and 100");
  if (c.max_running_per_user < 0)
    throw ConfigError("settings: key 'max_running_per_user' must be 0 (no cap) or more");
}

}  // namespace fcd
