// What a scrape reads at that moment rather than counts as it happens: the queue's jobs and
// items by state, each user's running and queued items, and the active model.
#pragma once

#include <string>

#include "metrics/metrics.h"
#include "models/model_registry.h"
#include "store/job_store.h"

namespace fcd {

// Reads the queue through `jobs` (JobStore::queue_counts), which must outlive the source: on a
// shared store every daemon's scrape counts the whole queue. The daemon hands it a store on a
// connection of its own, so a scrape does not wait behind the workers' commits.
Metrics::Source queue_source(JobStore& jobs);

// facecycle_model_info{model, device, precision} 1 for the resident model (none: no series).
Metrics::Source model_source(const ModelRegistry& models);

}  // namespace fcd
