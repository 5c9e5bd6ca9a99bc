// The daemon's Prometheus metrics: what the workers and the generator record as they run, plus
// sources read at scrape time (queue counts, the active model). Recording is a few atomic
// operations whether or not anything ever scrapes, so the workers always have a Metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/job_records.h"

namespace fcd {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A worker ended an item (succeeded, failed or cancelled) after `seconds`.
  void item_finished(JobKind kind, ItemOutcome outcome, double seconds);
  // A transform stage plugin returned from process() after `seconds`.
  void stage_done(const std::string& stage, double seconds);
  // The shared generator took a batch of `size` faces; each waited queue_wait_s[i] seconds.
  void generator_batch(int size, const std::vector<double>& queue_wait_s);
  // A model load (activation) ended: how long it took, and whether it worked.
  void model_loaded(double seconds, bool ok);

  // Called at every scrape to append families read then (queue counts, the active model). A
  // source that throws is left out of that scrape and logged; the others still answer.
  using Source = std::function<void(std::vector<prometheus::MetricFamily>&)>;
  void add_source(std::string name, Source source);

  // Everything, in the text exposition format 0.0.4.
  std::string render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& items_finished_;
  prometheus::Family<prometheus::Histogram>& item_seconds_;
  prometheus::Family<prometheus::Histogram>& stage_seconds_;
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& queue_wait_;
  prometheus::Family<prometheus::Counter>& model_loads_;
  prometheus::Gauge& model_load_seconds_;
  // Series looked up once: Family::Add builds a whole histogram before finding the existing one.
  prometheus::Counter* finished_[2][3] = {};  // [JobKind][ItemOutcome]
  prometheus::Histogram* item_hist_[2] = {};  // [JobKind]
  std::mutex stage_mu_;
  std::map<std::string, prometheus::Histogram*> stage_hist_;
  std::mutex sources_mu_;  // sources_, and one scrape at a time
  std::vector<std::pair<std::string, Source>> sources_;
};

// Helpers for sources: a family of one type, and a sample with labels.
prometheus::MetricFamily gauge_family(std::string name, std::string help);
void add_gauge(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
               double value);

}  // namespace fcd
