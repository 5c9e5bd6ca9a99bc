#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "json_view.h"
#include "text_view.h"

namespace fcc {

namespace v1 = facecycle::v1;

namespace {

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

}  // namespace

void apply_event(ProgressState& st, const v1::Event& e) {
  switch (e.type()) {
    case v1::EVENT_TYPE_STATE:
      if (e.has_job()) {
        st.state = e.job().state();
        if (e.job().items_total() > 0) st.total = e.job().items_total();
        st.snapshot_done = e.job().items_done();
        st.snapshot_failed = e.job().items_failed();
        // A training run's last progress event comes before its end (often at the last
        // evaluation, well short of 1): success is the whole run.
        if (st.train && e.job().state() == v1::JOB_STATE_SUCCEEDED) st.fraction = 1;
      }
      break;
    case v1::EVENT_TYPE_ITEM:
      if (e.item_state() == v1::JOB_STATE_SUCCEEDED) st.done.insert(e.item_index());
      if (e.item_state() == v1::JOB_STATE_FAILED) st.failed.insert(e.item_index());
      // Transform: the next item starts at 0. Train: the one item is the run.
      st.fraction = st.train && e.item_state() == v1::JOB_STATE_SUCCEEDED ? 1 : 0;
      break;
    case v1::EVENT_TYPE_PROGRESS:
      st.fraction = e.fraction();
      break;
    case v1::EVENT_TYPE_METRIC:
      st.step = std::max(st.step, e.metric_step());
      st.losses[e.metric_name()] = e.metric_value();
      break;
    default:
      break;
  }
}

void apply_final(ProgressState& st, const v1::Job& job) {
  st.snapshot_done = job.items_done();
  st.snapshot_failed = job.items_failed();
  st.state = job.state();
  if (st.train && job.state() == v1::JOB_STATE_SUCCEEDED) st.fraction = 1;
}

std::string render_bar(const ProgressState& st, int64_t job_id, int width, double elapsed) {
  std::string tail;
  double frac;
  char buf[160];
  if (st.train) {
    frac = st.fraction;
    std::snprintf(buf, sizeof buf, " %3d%%  step %ld", static_cast<int>(frac * 100), st.step);
    tail = buf;
    for (const auto& [name, v] : st.losses) {
      if (name.find("loss") == std::string::npos) continue;
      std::snprintf(buf, sizeof buf, "  %s %.3f", name.c_str(), v);
      tail += buf;
    }
  } else {
    int finished = st.n_done() + st.n_failed();
    frac = st.total > 0 ? (finished + st.fraction) / st.total : 0;
    int since = finished - std::max(0, st.finished_at_start);
    double rate = elapsed > 0 ? since / elapsed : 0;
    std::snprintf(buf, sizeof buf, " %d/%d done  %d failed  %.1f items/s", st.n_done(), st.total,
                  st.n_failed(), rate);
    tail = buf;
    if (rate > 0 && st.total > finished)
      tail += "  ETA " + format_duration((st.total - finished) / rate);
  }
  if (st.train && frac > 0.001 && frac < 1)
    tail += "  ETA " + format_duration(elapsed / frac * (1 - frac));
  std::string head = "job " + std::to_string(job_id) + " " + state_word(st.state) + " ";
  int bar = std::max(10, std::min(40, width - static_cast<int>(head.size() + tail.size()) - 3));
  int filled = static_cast<int>(std::clamp(frac, 0.0, 1.0) * bar);
  std::string line =
      head + "[" + std::string(filled, '#') + std::string(bar - filled, '.') + "]" + tail;
  if (static_cast<int>(line.size()) >= width) line.resize(width - 1);
  return line;
}

namespace {

// The model that made the outputs, or each of several when one was activated while the job ran
// (items in flight keep theirs, later items take the new one).
void print_models(const v1::Job& job) {
  const nlohmann::json result = embedded_json(job.result_json());
  if (!result.is_object() || !result.contains("models") || !result["models"].is_object()) return;
  const nlohmann::json& used = result["models"];
  if (used.size() == 1) {
    std::cout << "  model: " << used.begin().key() << "\n";
    return;
  }
  std::cout << "  note: " << used.size()
            << " models made these outputs, as a model was activated while the job ran:";
  for (auto it = used.begin(); it != used.end(); ++it)
    std::cout << (it == used.begin() ? " " : ", ") << it.key() << " (" << it.value() << ")";
  std::cout << ". The manifest's model column names the one behind each output.\n";
}

void print_summary(const v1::Job& job) {
  std::cout << "job " << job.id() << " " << state_word(job.state()) << ": " << job.items_done()
            << "/" << job.items_total() << " done, " << job.items_failed() << " failed";
  if (job.items_cancelled() > 0) std::cout << ", " << job.items_cancelled() << " cancelled";
  if (!job.output_dir().empty()) std::cout << ", outputs in " << job.output_dir();
  std::cout << "\n";
  if (!job.error().empty()) std::cout << "  error: " << job.error() << "\n";
  print_models(job);
  // The failed items follow (print_failed_after_follow), a page of them.
}

// Redraws one line in place, at most ten times a second.
class BarView : public EventView {
 public:
  explicit BarView(const v1::Job& job) : id_(job.id()) {
    st_.train = job.kind() == v1::JOB_KIND_TRAIN;
    st_.total = job.items_total();
    st_.snapshot_done = job.items_done();
    st_.snapshot_failed = job.items_failed();
    st_.finished_at_start = job.items_done() + job.items_failed();
  }

  void on_event(const v1::Event& e) override {
    apply_event(st_, e);
    if (e.type() == v1::EVENT_TYPE_LOG && (e.level() == "warn" || e.level() == "error")) {
      clear();
      std::cout << e.level() << ": " << e.message() << "\n";
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ > std::chrono::milliseconds(100) || e.type() != v1::EVENT_TYPE_PROGRESS)
      draw(now);
  }

  void finish(const v1::Job& job) override {
    apply_final(st_, job);
    draw(std::chrono::steady_clock::now());
    std::cout << "\n";
    print_summary(job);
  }

 private:
  void clear() { std::cout << "\r\033[K"; }

  void draw(std::chrono::steady_clock::time_point now) {
    last_draw_ = now;
    double elapsed = std::chrono::duration<double>(now - st_.started).count();
    clear();
    std::cout << render_bar(st_, id_, terminal_width(), elapsed) << std::flush;
  }

  ProgressState st_;
  int64_t id_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// For logs and pipes: every event on its own line.
class LineView : public EventView {
 public:
  explicit LineView(bool json) : json_(json) {}
  void on_event(const v1::Event& e) override {
    if (json_)
      std::cout << to_json(e).dump() << "\n" << std::flush;
    else
      std::cout << event_line(e) << "\n" << std::flush;
  }
  void finish(const v1::Job& job) override {
    if (!json_) print_summary(job);  // with --json the last state event holds the snapshot
  }

 private:
  bool json_;
};

}  // namespace

std::unique_ptr<EventView> make_event_view(const v1::Job& job, bool json) {
  if (!json && isatty(STDOUT_FILENO)) return std::make_unique<BarView>(job);
  return std::make_unique<LineView>(json);
}

}  // namespace fcc
