#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace fcd {

namespace {

using prometheus::Histogram;

// Stage plugins run in milliseconds to seconds; a whole train item for hours.
const Histogram::BucketBoundaries kStageBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,    1,     2.5,  5,     10,   30};
const Histogram::BucketBoundaries kItemBuckets{0.01, 0.05, 0.1, 0.25, 0.5,  1,    2.5,   5,
                                               10,   30,   60,  300,  1800, 3600, 14400, 86400};
const Histogram::BucketBoundaries kBatchBuckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
// max_wait_ms is 5 by default: the interesting part lies below 10 ms.
const Histogram::BucketBoundaries kWaitBuckets{0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                               0.05,   0.1,    0.25,  0.5,   1,     2.5};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      items_finished_(prometheus::BuildCounter()
                          .Name("facecycle_items_finished_total")
                          .Help("Items that ended, by job kind and outcome (rate() gives items/s)")
                          .Register(*registry_)),
      item_seconds_(prometheus::BuildHistogram()
                        .Name("facecycle_item_duration_seconds")
                        .Help("Time a worker spent on an item, by job kind")
                        .Register(*registry_)),
      stage_seconds_(prometheus::BuildHistogram()
                         .Name("facecycle_stage_duration_seconds")
                         .Help("Time one transform stage plugin took on an item, by stage")
                         .Register(*registry_)),
      batch_size_(prometheus::BuildHistogram()
                      .Name("facecycle_generator_batch_size")
                      .Help("Faces per call of the shared generator (dynamic batching)")
                      .Register(*registry_)
                      .Add({}, kBatchBuckets)),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("facecycle_generator_queue_wait_seconds")
                      .Help("Time a face waited for the shared generator's batcher")
                      .Register(*registry_)
                      .Add({}, kWaitBuckets)),
      model_loads_(prometheus::BuildCounter()
                       .Name("facecycle_model_loads_total")
                       .Help("Model loads (activations), by result")
                       .Register(*registry_)),
      model_load_seconds_(prometheus::BuildGauge()
                              .Name("facecycle_model_load_seconds")
                              .Help("How long the last successful model load took")
                              .Register(*registry_)
                              .Add({})) {
  // Every series exists from the start at 0, so rate() and absent() work before the first item.
  for (auto kind : {JobKind::kTransform, JobKind::kTrain}) {
    const auto k = static_cast<int>(kind);
    item_hist_[k] = &item_seconds_.Add({{"kind", enum_name(kind)}}, kItemBuckets);
    for (auto outcome : {ItemOutcome::kSucceeded, ItemOutcome::kFailed, ItemOutcome::kCancelled})
      finished_[k][static_cast<int>(outcome)] = &items_finished_.Add(
          {{"kind", enum_name(kind)}, {"outcome", enum_name(item_state(outcome))}});
  }
  model_loads_.Add({{"result", "ok"}});
  model_loads_.Add({{"result", "failed"}});
}

void Metrics::item_finished(JobKind kind, ItemOutcome outcome, double seconds) {
  finished_[static_cast<int>(kind)][static_cast<int>(outcome)]->Increment();
  item_hist_[static_cast<int>(kind)]->Observe(seconds);
}

void Metrics::stage_done(const std::string& stage, double seconds) {
  prometheus::Histogram* h;
  {
    std::lock_guard<std::mutex> lk(stage_mu_);
    auto& slot = stage_hist_[stage];
    if (!slot) slot = &stage_seconds_.Add({{"stage", stage}}, kStageBuckets);
    h = slot;
  }
  h->Observe(seconds);
}

void Metrics::generator_batch(int size, const std::vector<double>& queue_wait_s) {
  batch_size_.Observe(size);
  for (double w : queue_wait_s) queue_wait_.Observe(w);
}

void Metrics::model_loaded(double seconds, bool ok) {
  model_loads_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
  if (ok) model_load_seconds_.Set(seconds);
}

void Metrics::add_source(std::string name, Source source) {
  std::lock_guard<std::mutex> lk(sources_mu_);
  sources_.emplace_back(std::move(name), std::move(source));
}

std::string Metrics::render() {
  auto families = registry_->Collect();
  {
    std::lock_guard<std::mutex> lk(sources_mu_);
    for (const auto& [name, source] : sources_) {
      std::vector<prometheus::MetricFamily> more;
      try {
        source(more);
      } catch (const std::exception& e) {
        spdlog::warn("metrics: source {} left out of this scrape: {}", name, e.what());
        continue;
      }
      families.insert(families.end(), more.begin(), more.end());
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

void add_gauge(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
               double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

}  // namespace fcd
