// The dashboard's JSON API behind http/dashboard.h's routes (dashboard.cpp): what each endpoint
// answers, split by concern into dashboard_jobs.cpp, dashboard_runs.cpp and dashboard_files.cpp.
// The methods are called under mutex(); they read the queue through DashboardDeps::jobs.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "http/dashboard.h"
#include "store/job_store.h"

namespace fcd::http {

using Query = std::map<std::string, std::string>;

// A request the client got wrong (or may not make): its status and message are the answer.
struct ApiError : std::runtime_error {
  ApiError(bhttp::status s, const std::string& message) : std::runtime_error(message), status(s) {}
  bhttp::status status;
};

// A file to send whole.
struct FileReply {
  std::string body;
  std::string content_type;
};

// The request's query string, percent-decoded; a key given twice keeps its last value.
Query parse_query(const std::string& target);
// `key` as an integer in [lo, hi], `fallback` when absent; ApiError 400 otherwise.
int64_t query_int(const Query& q, const std::string& key, int64_t fallback, int64_t lo, int64_t hi);
// A job id from a path or a list: digits only, positive; ApiError 400 otherwise.
int64_t parse_job_id(const std::string& text);
// The MIME type the browser is told for a served file, by its extension.
std::string content_type_for(const std::string& path);

class DashboardApi {
 public:
  explicit DashboardApi(const DashboardDeps& deps) : d_(deps) {}
  std::mutex& mutex() { return mu_; }

  nlohmann::json jobs(const User& u, const Query& q);                 // the queue
  nlohmann::json job(const User& u, int64_t id);                      // one job, by kind
  nlohmann::json items(const User& u, int64_t id, const Query& q);    // a page of its items
  nlohmann::json metrics(const User& u, int64_t id, const Query& q);  // metrics.csv, thinned
  nlohmann::json compare(const User& u, const Query& q);              // 2-4 training runs
  nlohmann::json models();                                            // every card, the active one
  FileReply file(const User& u, int64_t id, const Query& q);          // a file in the job's folder
  FileReply image(const User& u, int64_t id, const Query& q);         // a transform's input/output

 private:
  JobStore& queue() { return d_.jobs; }
  // The job when `u` may see it; else ApiError 404, alike for a missing job and another
  // user's (ids must not reveal who runs what).
  JobRecord accessible_job(const User& u, int64_t id);
  nlohmann::json job_json(const JobRecord& j);
  nlohmann::json train_json(const JobRecord& j);
  // The newest progress event's payload of a job ({} when none).
  nlohmann::json last_progress(int64_t job_id);
  // A transform's own image at `path` (an item's input or output, its contact sheet), read when
  // the job's owner may still read it there; ApiError otherwise.
  FileReply owner_image(const JobRecord& j, const std::string& path);

  DashboardDeps d_;
  std::mutex mu_;
};

// A training config's [[stages]] as [{size, steps, batch, start}] (start: the first step of the
// stage); [] when the text does not parse: the page marks the stage changes with them.
nlohmann::json stages_of(const std::string& config_toml);

// Reads the whole open descriptor `fd` (of `size` bytes) and closes it.
std::string read_and_close(int fd, int64_t size);

}  // namespace fcd::http
