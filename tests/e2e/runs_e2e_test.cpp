// Training runs as experiments through the real daemon and client: names and tags from the
// command line or the config, `runs` with the final evaluation, `runs compare` with the
// evaluations side by side and the loss curves of metrics.csv overlaid in one SVG.
#include <gtest/gtest.h>

#include <filesystem>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A few seconds of training with a quickly trained judge, so that the run ends with an
// evaluation.
std::string tiny_run(const std::string& extra_top, const std::string& model) {
  return tiny_train_config(model, "[[stages]]\nsize = 16\nsteps = 6\nbatch = 2\n",
                           "[checkpoint]\nevery = 3\n[eval]\njudge_steps = 5\nfaces = 4\n",
                           extra_top);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

long long submit(Daemon& d, const std::vector<std::string>& args) {
  RunResult r = d.cli(args);
  EXPECT_EQ(r.rc, 0) << r.out << r.err << d.log();
  return r.rc == 0 ? r.json().value("job_id", -1LL) : -1;
}

}  // namespace

TEST(Runs, NamedRunsAreListedWithTheirEvaluationAndCompared) {
  TempDir t;
  DaemonOptions opts;
  opts.real_pipeline = true;  // build/plugins holds train.so
  Daemon d(t.path(), opts);
  d.start();
  write_file(t / "in/a.toml", tiny_run("", "runs-a"));
  write_file(t / "in/b.toml", tiny_run("run_name = \"from config\"\ntags = [\"cfg\"]", "runs-b"));

  const long long a = submit(d, {"train", "--config", t / "in/a.toml", "--detach", "--name",
                                 "baseline", "--tag", "race", "--tag", "lr=1e-4"});
  const long long b = submit(d, {"train", "--config", t / "in/b.toml", "--detach"});
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  for (long long id : {a, b})
    ASSERT_EQ(wait_for_job(d, id, "", std::chrono::seconds(170)).value("state", ""), "succeeded")
        << d.log();

  RunResult runs = d.cli({"runs"});
  ASSERT_EQ(runs.rc, 0) << runs.err;
  const json list = runs.json();
  ASSERT_EQ(list.size(), 2u) << list.dump(2);
  EXPECT_EQ(list[0]["run_name"], "from config") << "newest first";
  EXPECT_EQ(list[0]["tags"], json({"cfg"}));
  EXPECT_EQ(list[1]["run_name"], "baseline");
  EXPECT_EQ(list[1]["tags"], json({"race", "lr=1e-4"}));
  EXPECT_TRUE(list[1]["evaluation"]["tasks"].contains("age")) << list[1].dump(2);

  // The table a person reads: names, tags and one headline number per task and direction.
  RunResult table = run_program({client_binary(), "--server", d.server(), "runs"});
  EXPECT_NE(table.out.find("baseline"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("race,lr=1e-4"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("age→ "), std::string::npos) << table.out;

  const std::string plot = t / "cmp.svg";
  RunResult cmp = run_program({client_binary(), "--server", d.server(), "runs", "compare",
                               std::to_string(a), std::to_string(b), "--plot", plot});
  ASSERT_EQ(cmp.rc, 0) << cmp.out << cmp.err;
  EXPECT_NE(cmp.out.find("#" + std::to_string(a) + " baseline"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("age/forward/cycle_l1"), std::string::npos) << cmp.out;
  ASSERT_TRUE(fs::exists(plot)) << cmp.out;
  const std::string svg = read_file(plot);
  EXPECT_NE(svg.find(">age/loss_G<"), std::string::npos);
  EXPECT_GE(count(svg, "<polyline"), 4u) << "two runs on each loss panel";
  EXPECT_NE(svg.find("#" + std::to_string(b) + " from config"), std::string::npos);

  RunResult again = run_program({client_binary(), "--server", d.server(), "runs", "compare",
                                 std::to_string(a), std::to_string(b), "--plot", plot});
  EXPECT_EQ(again.rc, 1) << "an existing plot is not replaced";
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

  RunResult bad = d.cli({"train", "--config", t / "in/a.toml", "--tag", "two words"});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("tag"), std::string::npos) << bad.err;
}
