// transform, train and retry: submit, then either print the job id (--detach) or follow the job.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"

namespace fcc {

namespace v1 = facecycle::v1;
namespace fs = std::filesystem;

namespace {

// The daemon resolves paths itself; it needs them absolute because its cwd is not ours.
std::string absolute_path(const std::string& p) { return fs::absolute(fs::path(p)).string(); }

// Ctrl-C while waiting stops the client, not the job: say how to find it again. Only
// async-signal-safe calls in the handler, so the text is made before it is installed.
char interrupt_text[200];
size_t interrupt_len = 0;

extern "C" void on_interrupt(int) {
  ssize_t ignored = ::write(STDERR_FILENO, interrupt_text, interrupt_len);
  (void)ignored;
  ::_exit(130);
}

void explain_interrupt(int64_t job_id) {
  const long long id = static_cast<long long>(job_id);
  int n = std::snprintf(interrupt_text, sizeof interrupt_text,
                        "\nfacecycle: job %lld continues: `facecycle watch %lld` / `facecycle "
                        "cancel %lld`\n",
                        id, id, id);
  interrupt_len = n > 0 ? std::min(static_cast<size_t>(n), sizeof interrupt_text - 1) : 0;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
}

int after_submit(Connection& conn, const GlobalOptions& g, const v1::SubmitResponse& resp,
                 bool detach) {
  for (const auto& w : resp.warnings()) std::cerr << "facecycle: warning: " << w << "\n";
  if (detach) {
    if (g.json) {
      nlohmann::json out{{"job_id", resp.job().id()}, {"items_total", resp.job().items_total()}};
      if (resp.warnings_size() > 0)
        out["warnings"] = std::vector<std::string>(resp.warnings().begin(), resp.warnings().end());
      std::cout << out.dump() << "\n";
    } else
      std::cout << resp.job().id() << "\n";
    return kExitOk;
  }
  explain_interrupt(resp.job().id());
  return follow_job(conn, g, resp.job(), 0);
}

}  // namespace

int cmd_transform(const GlobalOptions& g, const TransformOptions& o) {
  Connection conn(g);
  v1::SubmitTransformRequest req;
  for (const auto& in : o.inputs) req.add_inputs(absolute_path(in));
  req.set_output_dir(absolute_path(o.output_dir));
  req.set_task(o.task);
  req.set_reverse(o.reverse);
  req.set_strength(o.strength);
  req.set_whole_image(o.whole_image);
  req.set_all_faces(o.all_faces);
  req.set_overwrite(o.overwrite);
  req.set_skip_existing(o.skip_existing);
  req.set_recursive(o.recursive);
  req.set_format(o.format);
  req.set_priority(o.priority);
  v1::SubmitResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().SubmitTransform(ctx.get(), req, &resp), "transform");
  return after_submit(conn, g, resp, o.detach);
}

int cmd_retry(const GlobalOptions& g, int64_t job_id, bool detach) {
  Connection conn(g);
  v1::RetryJobRequest req;
  req.set_job_id(job_id);
  v1::RetryJobResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().RetryJob(ctx.get(), req, &resp), "retry job " + std::to_string(job_id));
  if (detach) {
    if (g.json)
      std::cout << nlohmann::json{{"job_id", job_id}, {"items_requeued", resp.items_requeued()}}
                << "\n";
    else
      std::cout << "job " << job_id << ": " << resp.items_requeued()
                << " failed item(s) queued again\n";
    return kExitOk;
  }
  if (!g.json)
    std::cout << "job " << job_id << ": retrying " << resp.items_requeued() << " failed item(s)\n";
  explain_interrupt(job_id);
  return follow_job(conn, g, resp.job(), resp.after_event_id());
}

int cmd_train(const GlobalOptions& g, const TrainOptions& o) {
  std::ifstream in(o.config);
  if (!in) throw CliError("cannot read config file " + o.config + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  Connection conn(g);
  v1::SubmitTrainRequest req;
  req.set_config_toml(text.str());
  req.set_config_path(absolute_path(o.config));
  req.set_priority(o.priority);
  req.set_run_name(o.name);
  for (const auto& t : o.tags) req.add_tags(t);
  v1::SubmitResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().SubmitTrain(ctx.get(), req, &resp), "train");
  return after_submit(conn, g, resp, o.detach);
}

}  // namespace fcc
