// Following a job's events with WatchJob, surviving dropped streams and daemon restarts.
#pragma once

#include <cstdint>
#include <functional>

#include "connection.h"

namespace fcc {

// Streams events after `after_event_id` to `on_event` until the job reaches a terminal state.
// The caller must have reached the daemon already. After a dropped stream it reconnects with the
// last event id it saw, so no event is lost or repeated; it gives up when the daemon stays
// unreachable for `reconnect_window`. Returns the final job with its items.
facecycle::v1::Job watch_job(Connection& conn, int64_t job_id, int64_t after_event_id,
                             const std::function<void(const facecycle::v1::Event&)>& on_event,
                             std::chrono::seconds reconnect_window = std::chrono::seconds(120));

// GetJob with items, throwing CliError on failure.
facecycle::v1::Job get_job(Connection& conn, int64_t job_id, bool with_items);

}  // namespace fcc
