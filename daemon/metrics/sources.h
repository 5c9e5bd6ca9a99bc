// What a scrape reads at that moment rather than counts as it happens: the queue's jobs and
// items by state, each user's running and queued items, and the active model.
#pragma once

#include <string>

#include "metrics/metrics.h"
#include "models/model_registry.h"

namespace fcd {

// Reads the queue through a connection of its own to `db_path` (WAL: a scrape never waits for,
// nor joins, a worker's transaction).
Metrics::Source queue_source(const std::string& db_path);

// facecycle_model_info{model, device, precision} 1 for the resident model (none: no series).
Metrics::Source model_source(const ModelRegistry& models);

}  // namespace fcd
