// Worker threads: each claims an item, runs it with its own stage instances, records the end.
// Claims take up to claim_batch items at once (one transaction); the items the claimer does not
// run wait in this pool for the next free worker, leased to this daemon. Ends are recorded by
// group commit: while one worker commits, the others' ends gather and go in the next commit.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "metrics/metrics.h"
#include "models/model_registry.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "store/job_store.h"

namespace fcd {

class WorkerPool {
 public:
  // `metrics`: where items' outcomes and times go; null: a private Metrics nobody reads.
  WorkerPool(const Config& config, JobStore& queue, PluginHost& plugins, ModelRegistry& models,
             const AllowedRoots& roots, Metrics* metrics = nullptr);
  ~WorkerPool();

  void start();
  // Flips the cancel flag of the job's in-flight items (the queue has marked the job). Once none
  // of them runs, a transform job's manifest and contact sheet are written (at once when none
  // ran).
  void cancel_job(int64_t job_id);
  // Stops claiming; running transform items finish, running train items are asked to stop
  // (they checkpoint) and go back to the queue. Blocks until every worker has returned.
  void stop();
  // This daemon's leases lapsed (store/lease_keeper.h): another daemon may have taken its
  // items. Running train items are asked to stop and handed back, so that two daemons do not
  // train one job in a shared jobs_dir; whoever claims it next resumes from its newest
  // checkpoint. Transform items run on: their outputs are renamed into place whole.
  void stop_training(const std::string& why);
  // Writes a transform job's per-item summary and contact sheet, then finalizes it. Also used at
  // start-up for jobs whose last item ended just before a crash.
  void end_job(int64_t job_id);

 private:
  struct InFlight {
    int64_t job_id;
    JobKind kind = JobKind::kTransform;
    std::shared_ptr<std::atomic<bool>> cancel;
    std::shared_ptr<std::atomic<bool>> shutdown;  // set: release instead of cancel
  };

  // An item's end (or a job's finalisation, idx < 0) that the database refused, e.g. a full
  // disk: kept and retried, so the item does not stay `running` until the next restart.
  struct PendingEnd {
    int64_t job_id;
    int idx;
    ItemOutcome outcome;
    std::string error, report_json;
    int retries = 0;  // for the log: the first failure and every 60th are reported
  };

  void worker_main(int n);
  // The next item for this worker: one a batch claim left waiting, else a new batch claim. Each
  // claimed item is registered in flight at once, so a cancel reaches it while it waits. Caller
  // holds mu_.
  std::optional<Claim> next_claim_locked(const std::string& worker, InFlight& flight);
  // At stop: the claimed items no worker started go back to the queue.
  void release_waiting();
  // Records an item's end, or keeps it for a retry; ends the job when it was the last item.
  void record_end(const PendingEnd& e);
  // Commits the ends gathered so far in one transaction. Returns once the caller's end is
  // committed, by this thread or by the one that held the commit before it.
  void flush_ends();
  // Retries what could not be recorded. True when nothing is left waiting.
  bool retry_pending();
  void finalize_or_keep(int64_t job_id, const nlohmann::json& result);
  fc::HostContext item_context(int64_t job_id, int idx, const InFlight& f);
  void run_claim(const Claim& c, const InFlight& f, class StageCache& stages,
                 std::unique_ptr<fc::Trainer>& trainer);
  // Unregisters the claim; true when it was the last in-flight item of a cancelled job.
  bool finish_flight(const Claim& c);
  // A transform job's contact sheet and manifests; returns their paths and per-item states.
  nlohmann::json write_job_files(const JobRecord& job);
  void end_cancelled_job(int64_t job_id);
  // At a job's end: the temporary files its items' interrupted runs left beside their outputs.
  void remove_item_temp_files(const JobRecord& job);

  const Config& config_;
  JobStore& queue_;
  PluginHost& plugins_;
  ModelRegistry& models_;
  const AllowedRoots& roots_;
  std::unique_ptr<Metrics> own_metrics_;
  Metrics& metrics_;

  std::atomic<bool> stopping_{false};
  std::string lapse_why_;  // under mu_: why stop_training handed items back
  std::mutex mu_;          // guards in_flight_ and running_train_, and makes claim+register atomic
  std::map<std::pair<int64_t, int>, InFlight> in_flight_;
  std::set<int64_t> cancelled_running_;  // cancelled jobs with items still in flight
  int running_train_ = 0;
  std::deque<Claim> waiting_;  // claimed, not started; guarded by mu_
  const int claim_batch_;
  std::vector<std::thread> threads_;
  std::mutex pending_mu_;
  std::vector<PendingEnd> pending_;
  std::mutex ends_mu_;  // guards ends_
  std::vector<PendingEnd> ends_;
  std::mutex flush_mu_;  // one commit of ends at a time
};

}  // namespace fcd
