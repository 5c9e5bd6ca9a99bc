// transform and train: submit, then either print the job id (--detach) or follow the job.
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
  req.set_whole_image(o.whole_image);
  req.set_format(o.format);
  req.set_priority(o.priority);
  v1::SubmitResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().SubmitTransform(ctx.get(), req, &resp), "transform");
  return after_submit(conn, g, resp, o.detach);
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
  v1::SubmitResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().SubmitTrain(ctx.get(), req, &resp), "train");
  return after_submit(conn, g, resp, o.detach);
}

}  // namespace fcc
