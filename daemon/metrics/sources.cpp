#include "metrics/sources.h"

#include <map>

namespace fcd {

namespace {

using Families = std::vector<prometheus::MetricFamily>;

constexpr JobKind kKinds[] = {JobKind::kTransform, JobKind::kTrain};
constexpr JobState kJobStates[] = {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                                   JobState::kFailed, JobState::kCancelled};
constexpr ItemState kItemStates[] = {ItemState::kQueued, ItemState::kRunning, ItemState::kSucceeded,
                                     ItemState::kFailed, ItemState::kCancelled};

void job_counts(const QueueCounts& counts, Families& out) {
  std::map<std::pair<std::string, std::string>, int64_t> n;
  // Every kind and state appears, at 0 when there is none: a series that vanishes reads as
  // "unknown" in Prometheus, not as zero.
  for (auto k : kKinds)
    for (auto s : kJobStates) n[{enum_name(k), enum_name(s)}] = 0;
  for (const auto& [key, count] : counts.jobs)
    n[{enum_name(key.first), enum_name(key.second)}] = count;
  auto f = gauge_family("facecycle_jobs", "Jobs in the queue's database, by kind and state");
  for (const auto& [key, count] : n)
    add_gauge(f, {{"kind", key.first}, {"state", key.second}}, static_cast<double>(count));
  out.push_back(std::move(f));
}

void item_counts(const QueueCounts& counts, Families& out) {
  std::map<std::string, int64_t> n;
  for (auto s : kItemStates) n[enum_name(s)] = 0;
  for (const auto& [state, count] : counts.items) n[enum_name(state)] = count;
  auto f = gauge_family("facecycle_items", "Items in the queue's database, by state");
  for (const auto& [state, count] : n) add_gauge(f, {{"state", state}}, static_cast<double>(count));
  out.push_back(std::move(f));
}

// Per user: only users with such items appear, so the label set stays as small as the active
// users.
void user_counts(const std::map<std::string, int64_t>& by_owner, const char* name, const char* help,
                 Families& out) {
  auto f = gauge_family(name, help);
  for (const auto& [owner, count] : by_owner)
    add_gauge(f, {{"user", owner}}, static_cast<double>(count));
  out.push_back(std::move(f));
}

}  // namespace

Metrics::Source queue_source(JobStore& jobs) {
  return [&jobs](Families& out) {
    const QueueCounts n = jobs.queue_counts();  // one read: the counts agree with each other
    job_counts(n, out);
    item_counts(n, out);
    user_counts(n.running_by_owner, "facecycle_user_running_items",
                "Items running now, by the owner of their job", out);
    user_counts(n.queued_by_owner, "facecycle_user_queued_items",
                "Items waiting to run, by the owner of their job", out);
  };
}

Metrics::Source model_source(const ModelRegistry& models) {
  return [&models](Families& out) {
    auto f = gauge_family("facecycle_model_info",
                          "The resident model (value 1), with its device and precision");
    if (auto m = models.current())
      add_gauge(f,
                {{"model", m->card().name}, {"device", m->device()}, {"precision", m->precision()}},
                1);
    out.push_back(std::move(f));
  };
}

}  // namespace fcd
