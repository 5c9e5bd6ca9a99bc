#include "workers/worker_pool.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "workers/crash_note.h"
#include "workers/job_artifacts.h"
#include "workers/train_runner.h"
#include "workers/transform_runner.h"

namespace fcd {

using nlohmann::json;

namespace {
// A transform item claimed this often never finished: it probably takes the daemon down.
// Crashes an item may plausibly cause (crash_note.h) before it fails instead of running again.
constexpr int kMaxItemCrashes = 3;
// How often a refused database write (disk full, I/O error) is tried again.
constexpr int kRetryPendingMs = 1000;

// Log and progress events are for watchers; failing to store one must not fail the item.
void add_event_or_log(JobStore& queue, int64_t job_id, EventType type, const json& p) {
  try {
    queue.add_event(job_id, type, p);
  } catch (const std::exception& e) {
    spdlog::warn("job {}: {} event not stored: {}", job_id, enum_name(type), e.what());
  }
}
}  // namespace

WorkerPool::WorkerPool(const Config& config, JobStore& queue, PluginHost& plugins,
                       ModelRegistry& models, const AllowedRoots& roots, Metrics* metrics)
    : config_(config),
      queue_(queue),
      plugins_(plugins),
      models_(models),
      roots_(roots),
      own_metrics_(metrics ? nullptr : std::make_unique<Metrics>()),
      metrics_(metrics ? *metrics : *own_metrics_),
      claim_batch_(config.claim_batch > 0 ? config.claim_batch : config.workers) {}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  for (int i = 0; i < config_.workers; ++i) threads_.emplace_back([this, i] { worker_main(i); });
}

void WorkerPool::cancel_job(int64_t job_id) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    bool running = false;
    for (auto& [key, f] : in_flight_)
      if (f.job_id == job_id) {
        f.cancel->store(true);
        running = true;
      }
    // The worker whose item of this job ends last writes the job's files (worker_main).
    if (running) {
      cancelled_running_.insert(job_id);
      return;
    }
  }
  end_cancelled_job(job_id);
}

void WorkerPool::stop() {
  if (stopping_.exchange(true)) {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [key, f] : in_flight_) {
      if (f.kind != JobKind::kTrain) continue;
      f.shutdown->store(true);
      f.cancel->store(true);
    }
  }
  queue_.notify_work();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  release_waiting();
  if (!retry_pending())  // what stays unrecorded shows as running, and is re-run at the next start
    spdlog::error("stopping with item results the database refused; those items run again");
}

void WorkerPool::stop_training(const std::string& why) {
  std::lock_guard<std::mutex> lk(mu_);
  lapse_why_ = why;
  for (auto& [key, f] : in_flight_) {
    if (f.kind != JobKind::kTrain) continue;
    f.shutdown->store(true);
    f.cancel->store(true);
  }
}

void WorkerPool::worker_main(int n) {
  const std::string name = "pid" + std::to_string(::getpid()) + "/w" + std::to_string(n);
  StageCache stages(plugins_, &metrics_);
  std::unique_ptr<fc::Trainer> trainer;
  while (!stopping_) {
    // Results first: new work whose end cannot be recorded either would only pile up.
    if (!retry_pending()) {
      queue_.wait_for_work(std::chrono::milliseconds(kRetryPendingMs));
      continue;
    }
    std::optional<Claim> claim;
    InFlight flight;
    try {
      std::lock_guard<std::mutex> lk(mu_);
      if (stopping_) break;
      claim = next_claim_locked(name, flight);
    } catch (const std::exception& e) {
      spdlog::error("worker {}: cannot claim work: {}", name, e.what());
    }
    if (!claim) {
      queue_.wait_for_work(std::chrono::milliseconds(500));
      continue;
    }
    run_claim(*claim, flight, stages, trainer);
    if (finish_flight(*claim)) end_cancelled_job(claim->job.id);
  }
}

std::optional<Claim> WorkerPool::next_claim_locked(const std::string& worker, InFlight& flight) {
  if (waiting_.empty()) {
    const bool allow_train = running_train_ < config_.train_concurrency;
    for (auto& c : queue_.claim_batch(worker, allow_train, true, claim_batch_)) {
      in_flight_[{c.job.id, c.item.idx}] = {c.job.id, c.job.kind,
                                            std::make_shared<std::atomic<bool>>(false),
                                            std::make_shared<std::atomic<bool>>(false)};
      if (c.job.kind == JobKind::kTrain) ++running_train_;
      waiting_.push_back(std::move(c));
    }
  }
  if (waiting_.empty()) return std::nullopt;
  Claim c = std::move(waiting_.front());
  waiting_.pop_front();
  flight = in_flight_[{c.job.id, c.item.idx}];
  return c;
}

void WorkerPool::release_waiting() {
  std::deque<Claim> left;
  {
    std::lock_guard<std::mutex> lk(mu_);
    left.swap(waiting_);
    for (const auto& c : left) in_flight_.erase({c.job.id, c.item.idx});
  }
  for (const auto& c : left) {
    try {
      queue_.release_item(c.job.id, c.item.idx, "the daemon is stopping before it started it");
    } catch (const std::exception& e) {  // still `running`: its lease runs out, or a restart
      spdlog::error("job {} item {}: cannot hand it back: {}", c.job.id, c.item.idx, e.what());
    }
  }
}

bool WorkerPool::finish_flight(const Claim& c) {
  std::lock_guard<std::mutex> lk(mu_);
  in_flight_.erase({c.job.id, c.item.idx});
  if (c.job.kind == JobKind::kTrain) --running_train_;
  if (!cancelled_running_.count(c.job.id)) return false;
  for (const auto& [key, f] : in_flight_)
    if (f.job_id == c.job.id) return false;
  cancelled_running_.erase(c.job.id);
  return true;
}

// What a plugin sees of its item: the cancel flag, the model resident now (kept for the whole
// item, so a swap fails nothing), and log and progress calls that become the job's events.
fc::HostContext WorkerPool::item_context(int64_t job_id, int idx, const InFlight& f) {
  fc::HostContext ctx;
  ctx.cancelled = f.cancel.get();
  ctx.model = models_.current();
  ctx.log = [this, job_id, idx](fc::LogLevel level, const std::string& msg) {
    static const char* names[] = {"debug", "info", "warn", "error"};
    const char* lv = names[std::clamp(static_cast<int>(level), 0, 3)];
    spdlog::log(
        static_cast<spdlog::level::level_enum>(std::clamp(static_cast<int>(level), 0, 3) + 1),
        "job {} item {}: {}", job_id, idx, msg);
    if (level != fc::LogLevel::kDebug)
      add_event_or_log(queue_, job_id, EventType::kLog,
                       {{"item_index", idx}, {"level", lv}, {"message", msg}});
  };
  // Progress is stored as events: keep it to a few per item.
  auto last_time = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  double last_fraction = -1;
  ctx.progress = [this, job_id, idx, last_time, last_fraction](double fraction,
                                                               const std::string& msg) mutable {
    auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && fraction - last_fraction < 0.05 &&
        now - last_time < std::chrono::seconds(1))
      return;
    last_time = now;
    last_fraction = fraction;
    add_event_or_log(queue_, job_id, EventType::kProgress,
                     {{"item_index", idx}, {"fraction", fraction}, {"message", msg}});
  };
  return ctx;
}

void WorkerPool::run_claim(const Claim& c, const InFlight& f, StageCache& stages,
                           std::unique_ptr<fc::Trainer>& trainer) {
  const int64_t job_id = c.job.id;
  const int idx = c.item.idx;
  const auto started = std::chrono::steady_clock::now();
  fc::HostContext ctx = item_context(job_id, idx, f);

  ItemOutcome outcome = ItemOutcome::kSucceeded;
  std::string error;
  json report = json::object();
  try {
    if (c.job.kind == JobKind::kTransform && c.item.crashes >= kMaxItemCrashes)
      throw std::runtime_error("this item crashed the daemon " + std::to_string(c.item.crashes) +
                               " times; giving up on it (the daemon log has the signal)");
    CurrentItem blame_me(job_id, idx);
    if (c.job.kind == JobKind::kTrain) {
      if (!trainer) trainer = plugins_.create_trainer(kTrainerPlugin);
      run_train_item(c, *trainer, {config_.jobs_dir, config_.models_dir, roots_}, queue_, models_,
                     ctx);
    } else {
      report = run_transform_item(c, config_, plugins_, roots_, stages, ctx, queue_);
    }
  } catch (const std::exception& e) {
    outcome = ItemOutcome::kFailed;
    error = e.what();
  } catch (...) {
    outcome = ItemOutcome::kFailed;
    error = "unknown error";
  }
  // A cancelled item ends as cancelled whatever it threw; a shutdown hands it back.
  if (f.shutdown->load()) {
    std::string why = "the daemon is stopping; it resumes at the next start";
    if (!stopping_) {
      std::lock_guard<std::mutex> lk(mu_);
      why = lapse_why_ + "; it resumes from its newest checkpoint wherever it runs next";
    }
    try {
      queue_.release_item(job_id, idx, why);
    } catch (const std::exception& e) {  // still `running`: the next start re-queues it
      spdlog::error("job {} item {}: cannot hand it back: {}", job_id, idx, e.what());
    }
    return;
  }
  bool cancelled = f.cancel->load() || report.value("cancelled", false);
  if (cancelled && !(outcome == ItemOutcome::kSucceeded && c.job.kind == JobKind::kTransform &&
                     report.contains("output"))) {
    outcome = ItemOutcome::kCancelled;
    error = enum_name(ItemState::kCancelled);
  }
  if (outcome == ItemOutcome::kFailed)
    spdlog::warn("job {} item {} failed: {}", job_id, idx, error);
  metrics_.item_finished(
      c.job.kind, outcome,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (c.job.kind == JobKind::kTransform)
    append_manifest_row(c.job, c.item, outcome, error,
                        outcome == ItemOutcome::kSucceeded ? report.dump() : "");
  record_end(
      {job_id, idx, outcome, error, outcome == ItemOutcome::kSucceeded ? report.dump() : ""});
}

void WorkerPool::record_end(const PendingEnd& e) {
  if (e.idx < 0) return finalize_or_keep(e.job_id, json::parse(e.report_json, nullptr, false));
  {
    std::lock_guard<std::mutex> lk(ends_mu_);
    ends_.push_back(e);
  }
  flush_ends();
}

void WorkerPool::flush_ends() {
  std::vector<int64_t> closed;
  {
    std::lock_guard<std::mutex> commit(flush_mu_);
    std::vector<PendingEnd> batch;
    {
      std::lock_guard<std::mutex> lk(ends_mu_);
      batch.swap(ends_);
    }
    if (batch.empty()) return;  // the commit before this one took ours
    std::vector<ItemEnd> ends;
    for (const auto& b : batch)
      ends.push_back({b.job_id, b.idx, b.outcome, b.error, b.report_json});
    try {
      closed = queue_.finish_items(ends);
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lk(pending_mu_);
      for (const auto& b : batch) {
        if (b.retries % 60 == 0)
          spdlog::error(
              "job {} item {}: cannot record its end ({}); it shows as running until a retry "
              "succeeds (every {} ms, no new work is claimed meanwhile)",
              b.job_id, b.idx, ex.what(), kRetryPendingMs);
        pending_.push_back(b);
        ++pending_.back().retries;
      }
      return;
    }
  }
  for (int64_t job_id : closed) end_job(job_id);
}

bool WorkerPool::retry_pending() {
  std::vector<PendingEnd> todo;
  {
    std::lock_guard<std::mutex> lk(pending_mu_);
    if (pending_.empty()) return true;
    todo.swap(pending_);
  }
  for (const auto& e : todo) record_end(e);  // a failure puts it back
  std::lock_guard<std::mutex> lk(pending_mu_);
  if (pending_.empty()) spdlog::info("the database accepts writes again: recorded results kept");
  return pending_.empty();
}

void WorkerPool::finalize_or_keep(int64_t job_id, const json& result) {
  try {
    queue_.finalize_job(job_id, result);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record its end ({}); retrying", job_id, e.what());
    std::lock_guard<std::mutex> lk(pending_mu_);
    pending_.push_back({job_id, -1, ItemOutcome::kSucceeded, "", result.dump()});
  }
}

json WorkerPool::write_job_files(const JobRecord& job) {
  json result = json::object();
  auto items = queue_.items(job.id);
  json per_item = json::array();
  for (const auto& it : items)
    per_item.push_back({{"index", it.idx},
                        {"input", it.input},
                        {"output", it.state == ItemState::kSucceeded ? it.output : ""},
                        {"state", enum_name(it.state)},
                        {"error", it.error}});
  result["items"] = per_item;
  if (json used = models_used(items); !used.empty()) result["models"] = used;
  try {
    auto sheet = write_contact_sheet(job, items);
    if (!sheet.empty()) result["contact_sheet"] = sheet;
  } catch (const std::exception& e) {
    spdlog::warn("job {}: no contact sheet: {}", job.id, e.what());
  }
  try {
    auto [jsonl, csv] = write_manifests(job, items);
    result["manifest"] = {{"jsonl", jsonl}, {"csv", csv}};
  } catch (const std::exception& e) {
    spdlog::warn("job {}: no manifest: {}", job.id, e.what());
  }
  return result;
}

void WorkerPool::remove_item_temp_files(const JobRecord& job) {
  // Items that ran twice (their daemon killed mid-write, on this host or another) can leave a
  // temporary file beside their output; with every item ended nobody writes them any more.
  std::vector<std::string> outputs;
  for (const auto& it : queue_.items(job.id)) outputs.push_back(it.output);
  if (int n = remove_temp_files_of(outputs))
    spdlog::info("job {}: removed {} half-written temporary file(s)", job.id, n);
}

void WorkerPool::end_job(int64_t job_id) {
  json result = json::object();
  try {
    auto job = queue_.get_job(job_id);
    if (job && job->kind == JobKind::kTransform) {
      remove_item_temp_files(*job);
      result = write_job_files(*job);
    }
  } catch (const std::exception& e) {
    spdlog::error("job {}: {}", job_id, e.what());
  }
  finalize_or_keep(job_id, result);
}

void WorkerPool::end_cancelled_job(int64_t job_id) {
  try {
    auto job = queue_.get_job(job_id);
    if (!job || job->kind != JobKind::kTransform || job->state != JobState::kCancelled) return;
    // The job ended at the cancel; its items that finished keep their outputs, and the manifest
    // and sheet say which they are, as for a job that ran to its end.
    json result = json::parse(job->result_json.empty() ? "{}" : job->result_json, nullptr, false);
    if (!result.is_object()) result = json::object();
    result.update(write_job_files(*job));
    job = queue_.get_job(job_id);  // the counts after the last in-flight item ended
    result["summary"] = {{"items_total", job->items_total},
                         {"items_succeeded", job->items_done},
                         {"items_failed", job->items_failed},
                         {"items_cancelled", job->items_cancelled}};
    queue_.set_result(job_id, result.dump());
  } catch (const std::exception& e) {
    spdlog::error("job {}: cancelled, but its manifest and sheet were not recorded: {}", job_id,
                  e.what());
  }
}

}  // namespace fcd
