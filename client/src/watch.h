// Following a job's events with WatchJob, surviving dropped streams and daemon restarts.
#pragma once

#include <cstdint>
#include <functional>

#include "connection.h"

namespace fcc {

// Streams events after `after_event_id` to `on_event` until the job reaches a terminal state.
// The caller must have reached the daemon already. After a dropped stream it reconnects with the
// last event id it saw, so no event is lost or repeated; it gives up when the daemon stays
// unreachable for `reconnect_window`. Returns the final job as a summary: counts, no items (a
// 20,000-item job is never fetched whole; page its items with fetch_item_page).
facecycle::v1::Job watch_job(Connection& conn, int64_t job_id, int64_t after_event_id,
                             const std::function<void(const facecycle::v1::Event&)>& on_event,
                             std::chrono::seconds reconnect_window = std::chrono::seconds(120));

// GetJob without the items or the result's per-item list (summary_only), throwing CliError on
// failure. A daemon older than summary_only sends them anyway.
facecycle::v1::Job get_job_summary(Connection& conn, int64_t job_id);

}  // namespace fcc
