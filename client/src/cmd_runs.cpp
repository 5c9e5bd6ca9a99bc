// runs and runs compare: training jobs as experiments, the way people read TensorBoard or
// MLflow: by name and tags, with their final evaluation, and two to four of them side by side.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "facecycle/core/text_fields.h"
#include "json_view.h"
#include "svg_plot.h"
#include "text_view.h"

namespace fcc {

namespace v1 = facecycle::v1;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json evaluation_of(const v1::Job& job) {
  json r = json::parse(job.result_json().empty() ? "{}" : job.result_json(), nullptr, false);
  if (!r.is_object() || !r.contains("evaluation") || !r["evaluation"].is_object())
    return json::object();
  return r["evaluation"];
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// One short cell per task and direction: the judged age after the edit, or the share of faces
// the judge reads as the target race.
std::string headline(const json& eval) {
  std::string out;
  const json tasks = eval.value("tasks", json::object());
  for (const auto& [task, t] : tasks.items())
    for (const char* dir : {"forward", "reverse"}) {
      if (!t.contains(dir) || !t[dir].is_object()) continue;
      const json& d = t[dir];
      std::string cell = task + (std::string(dir) == "forward" ? "→ " : "← ");
      if (d.contains("judged_age_after"))
        cell += fixed(d["judged_age_after"].get<double>(), 1) + "y";
      else if (d.contains("frac_target_after"))
        cell += fixed(100 * d["frac_target_after"].get<double>(), 0) + "%";
      else
        continue;
      out += (out.empty() ? "" : "  ") + cell;
    }
  return out.empty() ? "-" : out;
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string s;
  for (const auto& t : v) s += (s.empty() ? "" : ",") + t;
  return s;
}

std::string run_title(const v1::Job& j) {
  return "#" + std::to_string(j.id()) + (j.run_name().empty() ? "" : " " + j.run_name());
}

v1::Job get_summary(Connection& conn, int64_t id) {
  v1::GetJobRequest req;
  req.set_job_id(id);
  req.set_summary_only(true);
  v1::Job job;
  auto ctx = conn.context();
  conn.check(conn.stub().GetJob(ctx.get(), req, &job), "job " + std::to_string(id));
  if (job.kind() != v1::JOB_KIND_TRAIN)
    throw CliError("job " + std::to_string(id) + " is a transform job, not a training run",
                   kExitUsage);
  return job;
}

// Every number in an evaluation, by its path: "age/forward/judged_age_after" -> 50.7.
void flatten(const std::string& path, const json& v, std::map<std::string, double>& out) {
  if (v.is_number()) out[path] = v.get<double>();
  if (v.is_object())
    for (const auto& [k, child] : v.items()) flatten(path.empty() ? k : path + "/" + k, child, out);
}

}  // namespace

int cmd_runs(const GlobalOptions& g, const RunsOptions& o) {
  Connection conn(g);
  v1::ListJobsRequest req;
  req.set_kind(v1::JOB_KIND_TRAIN);
  req.set_limit(o.limit);
  req.set_all_users(o.all_users);
  v1::ListJobsResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListJobs(ctx.get(), req, &resp), "list runs");
  if (g.json) {
    json runs = json::array();
    for (const auto& j : resp.jobs()) {
      json r = to_json(j);
      r["evaluation"] = evaluation_of(j);
      r.erase("result");
      runs.push_back(std::move(r));
    }
    std::cout << runs.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "NAME", "STATE", "OWNER", "FINISHED", "TAGS", "EVALUATION (judge)"}};
  for (const auto& j : resp.jobs())
    rows.push_back({std::to_string(j.id()), j.run_name().empty() ? "-" : j.run_name(),
                    state_word(j.state()), j.owner(), format_time_ms(j.finished_ms()),
                    j.tags().empty() ? "-" : join(j.tags()), headline(evaluation_of(j))});
  if (rows.size() == 1) {
    std::cout << "no training runs yet: facecycle train --config FILE --name NAME\n";
    return kExitOk;
  }
  print_table(std::cout, rows);
  std::cout << "compare: facecycle runs compare ID ID [ID ID]\n";
  return kExitOk;
}

namespace {

// metrics.csv of a run as columns: name -> (step, value) points. Empty when the run has none
// (a run from before metrics.csv, or one that has not logged a step yet).
std::map<std::string, std::vector<std::pair<double, double>>> fetch_curves(Connection& conn,
                                                                           int64_t id) {
  std::string text;
  try {
    stream_job_file(conn, id, "metrics.csv", [&](const std::string& d) { text += d; });
  } catch (const CliError&) {
    return {};
  }
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  if (std::getline(in, line))
    for (auto name : fc::split_fields(line, ',')) names.emplace_back(name);
  while (std::getline(in, line)) {
    const auto c = fc::split_fields(line, ',');
    const double step = std::atof(std::string(c[0]).c_str());
    for (size_t i = 1; i < c.size() && i < names.size(); ++i)
      if (!c[i].empty()) curves[names[i]].emplace_back(step, std::atof(std::string(c[i]).c_str()));
  }
  return curves;
}

// One panel per loss every run logged (generator and discriminator objectives per task, then
// the cycle terms), each run one colour; losses are smoothed over ~1/50 of the run.
std::vector<PlotPanel> loss_panels(
    const std::vector<v1::Job>& jobs,
    const std::vector<std::map<std::string, std::vector<std::pair<double, double>>>>& curves) {
  std::vector<std::string> names;
  for (const char* suffix : {"/loss_G", "/loss_D_A", "/loss_cycle_A", "/loss_cls_fake"})
    for (const auto& [name, pts] : curves.front())
      if (name.size() > std::string(suffix).size() &&
          name.compare(name.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
        names.push_back(name);
  std::vector<PlotPanel> panels;
  for (const auto& name : names) {
    PlotPanel p{name, "step", "loss", name.find("/loss_G") != std::string::npos, {}};
    for (size_t r = 0; r < jobs.size(); ++r) {
      auto it = curves[r].find(name);
      if (it == curves[r].end()) continue;
      const int window = std::max<int>(1, static_cast<int>(it->second.size() / 50));
      p.series.push_back({run_title(jobs[r]), smooth(it->second, window)});
    }
    panels.push_back(std::move(p));
  }
  return panels;
}

void print_side_by_side(const std::vector<v1::Job>& jobs) {
  std::vector<std::map<std::string, double>> evals(jobs.size());
  std::map<std::string, int> paths;  // sorted, and each once
  for (size_t r = 0; r < jobs.size(); ++r) {
    flatten("", evaluation_of(jobs[r]).value("tasks", json::object()), evals[r]);
    for (const auto& [k, v] : evals[r]) paths[k] = 0;
  }
  std::vector<std::vector<std::string>> rows{{"METRIC"}};
  for (const auto& j : jobs) rows[0].push_back(run_title(j) + " (" + state_word(j.state()) + ")");
  for (const auto& [path, unused] : paths) {
    if (path.find("texture_source") != std::string::npos) continue;  // the input's, not the run's
    std::vector<std::string> row{path};
    for (const auto& e : evals) {
      auto it = e.find(path);
      row.push_back(it == e.end() ? "-" : fixed(it->second, 4));
    }
    rows.push_back(std::move(row));
  }
  if (rows.size() == 1)
    std::cout << "none of these runs has an evaluation yet (it comes with each checkpoint)\n";
  else
    print_table(std::cout, rows);
}

}  // namespace

int cmd_runs_compare(const GlobalOptions& g, const RunsOptions& o) {
  Connection conn(g);
  std::vector<v1::Job> jobs;
  for (int64_t id : o.compare) jobs.push_back(get_summary(conn, id));
  std::string plot = o.plot;
  if (plot.empty()) {
    plot = "runs-compare";
    for (int64_t id : o.compare) plot += "-" + std::to_string(id);
    plot += ".svg";
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(plot, ec)))
    throw CliError(plot + " exists: runs compare replaces no file (remove it or use --plot)");
  std::vector<std::map<std::string, std::vector<std::pair<double, double>>>> curves;
  for (int64_t id : o.compare) curves.push_back(fetch_curves(conn, id));
  const std::vector<PlotPanel> panels = loss_panels(jobs, curves);
  if (!panels.empty()) {
    std::ofstream(plot) << svg_plot(panels, 2);
  }
  if (g.json) {
    json out = json::array();
    for (const auto& j : jobs)
      out.push_back({{"id", j.id()}, {"run_name", j.run_name()}, {"evaluation", evaluation_of(j)}});
    std::cout << json{{"runs", out}, {"plot", panels.empty() ? "" : plot}}.dump(2) << "\n";
    return kExitOk;
  }
  print_side_by_side(jobs);
  if (panels.empty())
    std::cout << "no loss curves: the first run has no metrics.csv yet\n";
  else
    std::cout << "loss curves: " << plot << "\n";
  return kExitOk;
}

}  // namespace fcc
