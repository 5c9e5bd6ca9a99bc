// What a waiting `transform`, `train` or `watch` shows: a redrawn bar on a terminal, otherwise
// one line (or one JSON object with --json) per event.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "facecycle/v1/facecycle.pb.h"

namespace fcc {

class EventView {
 public:
  virtual ~EventView() = default;
  virtual void on_event(const facecycle::v1::Event& e) = 0;
  // Called once with the final job: a summary, without its items.
  virtual void finish(const facecycle::v1::Job& job) = 0;
};

// `job` is what is known before the first event (from the submit response or GetJob).
std::unique_ptr<EventView> make_event_view(const facecycle::v1::Job& job, bool json);

// Counts and rates behind the bar; public so that tests can drive it without a terminal.
struct ProgressState {
  int total = 0;
  std::set<int> done, failed;  // item indices seen finishing in ITEM events
  int snapshot_done = 0, snapshot_failed = 0;
  double fraction = 0;  // of the current item (transform) or of the run (train)
  long step = 0;
  std::map<std::string, double> losses;  // latest value per metric name
  facecycle::v1::JobState state = facecycle::v1::JOB_STATE_QUEUED;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int finished_at_start = -1;  // items already finished when we started watching
  bool train = false;          // one item, the whole run: the bar shows `fraction`

  int n_done() const { return std::max<int>(done.size(), snapshot_done); }
  int n_failed() const { return std::max<int>(failed.size(), snapshot_failed); }
};

void apply_event(ProgressState& st, const facecycle::v1::Event& e);
// The job as it ended (from GetJob after the terminal event).
void apply_final(ProgressState& st, const facecycle::v1::Job& job);
// The bar's one line, at most `width` - 1 characters.
std::string render_bar(const ProgressState& st, int64_t job_id, int width, double elapsed_s);

}  // namespace fcc
