// Daemon settings: built-in defaults, then the TOML config file, then command-line flags.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "facecycle/core/device_choice.h"
#include "facecycle/plugin.h"

namespace fcd {

// The values a choice setting takes, for the config file and the flags alike (device and
// precision: fc::DeviceChoice and fc::PrecisionChoice).
inline const std::vector<std::string> kLogLevels{"trace", "debug", "info", "warn", "error", "off"};
inline const std::vector<std::string> kLogFormats{"text", "json"};

// A bad config file or flag; the message names the key and says what is expected.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string data_dir;  // empty: $FACECYCLE_DATA_DIR or ~/.local/share/facecycle
  std::string listen;    // empty: unix:<data_dir>/facecycled.sock
  int workers = 2;
  std::vector<std::string> plugin_dirs;    // empty: the plugins built/installed beside us
  std::vector<std::string> allowed_roots;  // besides the data dir
  fc::DeviceChoice device = fc::DeviceChoice::kAuto;
  int threads = 0;  // torch CPU threads; 0 = number of cores
  fc::PrecisionChoice precision = fc::PrecisionChoice::kAuto;  // auto: bf16 on AVX512-BF16 CPUs
  std::string models_dir;                                      // empty: <data_dir>/models
  // Training jobs' folders, <jobs_dir>/ID (empty: <data_dir>/jobs). On a shared queue, a folder
  // every daemon mounts at this path lets any daemon serve any job's files and resume a
  // training job that another daemon started.
  std::string jobs_dir;
  std::string active_model;  // empty: the registry's choice
  std::string log_level = "info";
  // Logging (logging.h): the file (empty: <data_dir>/facecycled.log), rotated at log_max_size
  // bytes keeping log_files old ones (0: never rotated), as "text" or "json" lines.
  std::string log_file;
  uint64_t log_max_size = 64ull << 20;
  int log_files = 5;
  std::string log_format = "text";
  // Finished jobs' events and folders are pruned after this many days, their summary row and
  // manifest kept (store/retention.h). 0: kept forever.
  int retention_days = 0;
  // Training jobs this daemon runs at once; 0: none (on a shared queue, another daemon runs
  // them, and resumes them from its own data dir).
  int train_concurrency = 1;
  // Sharing one daemon (store/fair_share.h). Above max_user_priority only admins and the local
  // user may submit; max_running_per_user caps each owner's running items (0 = no cap).
  int max_user_priority = 0;
  int max_running_per_user = 0;
  // The job store (store/open_job_store.h): empty = SQLite in the data dir; "postgresql://..." =
  // a PostgreSQL database (docs/SCALE.md).
  std::string database;
  // Claims are leases (store/lease_keeper.h), renewed every third of lease_seconds: a daemon
  // silent for longer loses its items to the others. claim_batch: the items one claim takes and
  // the most ends recorded in one commit (0: as many as workers).
  int lease_seconds = 30;
  int claim_batch = 0;
  // HOST:PORT of the HTTP listener (/metrics, /healthz; http/listener.h); empty: none.
  std::string http_listen;
  int max_batch = 16;
  int max_wait_ms = 5;
  bool keep_detail = true;  // fc::TranslatorOptions::keep_detail
  // TLS on TCP listeners (service/tls.h); the unix socket stays plain, it is local. With
  // tls_client_ca set, clients must also present a certificate that CA signed.
  std::string tls_cert, tls_key, tls_client_ca;
  // Tokens crossing a non-loopback TCP listener in plain text can be read off the wire, so the
  // daemon refuses to start that way unless this says the network is trusted.
  bool allow_plaintext_tokens = false;
  // Stage names per pipeline; "{task}" is replaced by the request's task.
  std::map<std::string, std::vector<std::string>> pipelines{
      {"transform", {"detect", "crop", "generate-{task}", "composite"}},
      {"whole_image", {"crop", "generate-{task}", "composite"}}};
  // [plugins.NAME] tables as TOML text, each handed whole to its plugin (fc::PluginConfig).
  std::map<std::string, std::string> plugin_tables;
};

// Reads a TOML file over `base`. Unknown keys and wrong types throw ConfigError naming the key.
Config load_config_file(const std::string& path, Config base = {});
// Same, from text (for tests and messages); `origin` names the source in errors.
Config parse_config(const std::string& toml_text, const std::string& origin, Config base = {});

// Fills data_dir, listen and models_dir defaults and checks ranges. Throws ConfigError.
void finalize_config(Config& c);

std::string default_data_dir();

// A size such as 1048576, "512K", "64M" or "1G" (powers of 1024), for log_max_size and
// --log-max-size. Throws ConfigError naming `key`.
uint64_t parse_size(const std::string& text, const std::string& key);

}  // namespace fcd
