#include "watch.h"

#include <thread>

#include "json_view.h"

namespace fcc {

namespace v1 = facecycle::v1;

v1::Job get_job_summary(Connection& conn, int64_t job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  req.set_summary_only(true);
  v1::Job job;
  auto ctx = conn.context();
  conn.check(conn.stub().GetJob(ctx.get(), req, &job), "job " + std::to_string(job_id));
  return job;
}

namespace {

bool retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::CANCELLED ||
         s.error_code() == grpc::StatusCode::UNKNOWN ||
         s.error_code() == grpc::StatusCode::INTERNAL;
}

}  // namespace

v1::Job watch_job(Connection& conn, int64_t job_id, int64_t after_event_id,
                  const std::function<void(const v1::Event&)>& on_event,
                  std::chrono::seconds reconnect_window) {
  int64_t last_id = after_event_id;
  auto give_up_at = std::chrono::steady_clock::now() + reconnect_window;

  for (;;) {
    auto ctx = conn.context(std::chrono::seconds(0));
    v1::WatchJobRequest req;
    req.set_job_id(job_id);
    req.set_after_event_id(last_id);
    auto reader = conn.stub().WatchJob(ctx.get(), req);

    bool terminal = false;
    v1::Event ev;
    while (reader->Read(&ev)) {
      give_up_at = std::chrono::steady_clock::now() + reconnect_window;
      if (ev.id() > 0 && ev.id() <= last_id) continue;  // never hand out an event twice
      if (ev.id() > 0) last_id = ev.id();
      on_event(ev);
      // A retried job's stream replays its earlier end, then the "queued" state that re-opened it.
      if (ev.type() == v1::EVENT_TYPE_STATE) terminal = is_terminal(ev.job().state());
    }
    if (terminal) ctx->TryCancel();
    grpc::Status status = reader->Finish();
    if (terminal) return get_job_summary(conn, job_id);

    // A stream that ended OK without a terminal event (the daemon shutting down) is retried
    // like a drop: the next stream replays what was missed.
    if (!status.ok() && !retryable(status)) {
      conn.fail(status, "watch job " + std::to_string(job_id));
    }
    if (std::chrono::steady_clock::now() > give_up_at) {
      if (!status.ok()) conn.fail(status, "watch job " + std::to_string(job_id));
      throw CliError("watch job " + std::to_string(job_id) + ": the stream keeps ending");
    }
    // Callers have reached the daemon already (submit, GetJob), so an unreachable daemon is a
    // restart in progress: wait for it, within the window, instead of failing at once.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!status.ok()) {
      auto left = give_up_at - std::chrono::steady_clock::now();
      if (!conn.channel()->WaitForConnected(std::chrono::system_clock::now() + left))
        conn.fail(status, "watch job " + std::to_string(job_id));
    }
  }
}

}  // namespace fcc
