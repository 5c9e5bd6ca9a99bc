// One function per subcommand; each returns the process exit code or throws CliError.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "connection.h"

namespace fcc {

struct TransformOptions {
  std::string task;
  bool reverse = false;
  double strength = 1.0;
  bool all_faces = false;
  bool whole_image = false;
  bool overwrite = false, skip_existing = false, recursive = false;
  std::string format = "same";
  int priority = 0;
  bool detach = false;
  std::string output_dir;
  std::vector<std::string> inputs;
};

struct TrainOptions {
  std::string config;
  std::string name;               // run name (else the config's run_name)
  std::vector<std::string> tags;  // run tags (else the config's tags)
  int priority = 0;
  bool detach = false;
};

// show: the job, then its items a page at a time.
struct ShowOptions {
  int64_t job_id = 0;
  int page = 1, page_size = 20;
  std::string state;    // "" = items in any state
  bool failed = false;  // --state failed
};

// runs: training jobs by name with their evaluation; runs compare ID ID...: side by side.
struct RunsOptions {
  bool all_users = false;
  int limit = 0;
  std::vector<int64_t> compare;  // job ids, 2..4
  std::string plot;              // compare: where the SVG of overlaid curves goes
};

struct FetchOptions {
  int64_t job_id = 0;
  std::vector<std::string> files;  // relative to the job's folder; empty: the usual ones
  std::string out_dir = ".";
  bool list = false;
};

int cmd_health(const GlobalOptions& g);
int cmd_plugins(const GlobalOptions& g);
int cmd_models_list(const GlobalOptions& g);
// `everywhere`: every daemon on the shared database (ActivateModelRequest.everywhere).
int cmd_models_activate(const GlobalOptions& g, const std::string& name, bool everywhere);
int cmd_jobs(const GlobalOptions& g, const std::string& state, int limit, bool all_users);
int cmd_show(const GlobalOptions& g, const ShowOptions& o);
int cmd_watch(const GlobalOptions& g, int64_t job_id, int64_t after_event_id);
int cmd_cancel(const GlobalOptions& g, int64_t job_id);
int cmd_transform(const GlobalOptions& g, const TransformOptions& o);
int cmd_train(const GlobalOptions& g, const TrainOptions& o);
// Re-queues a finished job's failed items, then follows it like transform (or --detach).
int cmd_retry(const GlobalOptions& g, int64_t job_id, bool detach);
int cmd_fetch(const GlobalOptions& g, const FetchOptions& o);
int cmd_runs(const GlobalOptions& g, const RunsOptions& o);
int cmd_runs_compare(const GlobalOptions& g, const RunsOptions& o);
// The client's version; the daemon's, its active model and plugin ABI when it answers.
int cmd_version(const GlobalOptions& g);

// One file of a job's folder, chunk by chunk into `sink`; returns its size. Throws CliError.
int64_t stream_job_file(Connection& conn, int64_t job_id, const std::string& name,
                        const std::function<void(const std::string&)>& sink);

// A training job's folder on the daemon (ListJobFiles), and its lines for `show`.
facecycle::v1::ListJobFilesResponse list_job_files(Connection& conn, int64_t job_id);
void print_job_files(std::ostream& out, const facecycle::v1::ListJobFilesResponse& files,
                     int64_t job_id);

// Shared by transform, train and watch: follow the job to its end, then the exit code.
int follow_job(Connection& conn, const GlobalOptions& g, const facecycle::v1::Job& job,
               int64_t after_event_id);

}  // namespace fcc
