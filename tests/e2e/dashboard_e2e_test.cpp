// The web dashboard in a real browser: a real facecycled with --http on 127.0.0.1 runs two small
// training runs and a transform job (real train plugin and pipeline), then headless Chromium
// (Debian's `chromium`) opens the page with each user's token in the URL fragment and the test
// reads the DOM it rendered: both jobs listed with their states, the run's loss curves drawn and
// its pictures loaded, the transform's pairs and failure, and nothing of alice's for bob.
// Screenshots go to build/test-artifacts/. Without a Chromium that starts, the test skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A few seconds of training, two stages so that the curves show a stage change, and an
// evaluation at the end.
std::string tiny_run(const std::string& model, int seed) {
  return tiny_train_config(model,
                           "[[stages]]\nsize = 16\nsteps = 6\nbatch = 2\n"
                           "[[stages]]\nsize = 24\nsteps = 4\nbatch = 2\n",
                           "[checkpoint]\nevery = 3\n[eval]\njudge_steps = 5\nfaces = 4\n", "",
                           seed);
}

// The status code of GET `path` (0 when nothing answers).
int http_status(int port, const std::string& path, const std::string& token = "") {
  const std::string reply = http_get(port, path, token);
  return reply.size() > 12 ? std::atoi(reply.c_str() + 9) : 0;
}

// Debian's chromium (or FC_CHROMIUM): the first of the usual names on PATH.
std::string find_chromium() {
  if (const char* env = std::getenv("FC_CHROMIUM")) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::vector<std::string> folders;
  for (std::string dir; std::getline(dirs, dir, ':');) folders.push_back(dir);
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    for (const auto& dir : folders)
      if (::access((fs::path(dir) / name).c_str(), X_OK) == 0) return fs::path(dir) / name;
  return "";
}

class Browser {
 public:
  Browser(std::string binary, std::string profile)
      : binary_(std::move(binary)), profile_(std::move(profile)) {}

  // The DOM after the page's script has run (virtual time: its fetches and a poll or two).
  RunResult dom(const std::string& url) { return run({"--dump-dom", url}); }
  RunResult screenshot(const std::string& url, const std::string& png, int height) {
    return run({"--screenshot=" + png, "--window-size=1360," + std::to_string(height), url});
  }

 private:
  RunResult run(std::vector<std::string> args) {
    std::vector<std::string> argv{binary_,
                                  "--headless=new",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--hide-scrollbars",
                                  "--no-first-run",
                                  "--disable-extensions",
                                  "--user-data-dir=" + profile_,
                                  "--virtual-time-budget=6000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, {{"HOME", profile_}}, std::chrono::seconds(90));
  }
  std::string binary_, profile_;
};

std::string artifacts_dir() {
  const std::string dir = std::string(FC_BINARY_DIR) + "/test-artifacts";
  fs::create_directories(dir);
  return dir;
}

long long submit(Daemon& d, const std::vector<std::string>& args, const std::string& token) {
  RunResult r = d.cli(args, token);
  EXPECT_EQ(r.rc, 0) << r.out << r.err << d.log();
  return r.rc == 0 ? r.json().value("job_id", -1LL) : -1;
}

std::string row(long long id, const std::string& state) {
  return "data-job-id=\"" + std::to_string(id) + "\" data-state=\"" + state + "\"";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

TEST(DashboardBrowser, ShowsTheQueueRunsAndTransformsToTheirOwnerOnly) {
  const std::string chromium = find_chromium();
  if (chromium.empty())
    GTEST_SKIP() << "no Chromium: install Debian's chromium (apt-get install chromium) to run "
                    "the dashboard's browser test";
  TempDir t;
  Browser browser(chromium, t / "profile");
  RunResult probe = browser.dom("data:text/html,<p>chromium-ok</p>");
  if (!has(probe.out, "chromium-ok"))
    GTEST_SKIP() << "Chromium (" << chromium << ") cannot start here (rc " << probe.rc
                 << "): " << probe.err.substr(probe.err.size() > 600 ? probe.err.size() - 600 : 0);

  const int port = free_port();
  DaemonOptions opts;
  opts.real_pipeline = true;  // build/plugins: train.so and the photo pipeline
  opts.extra_config = "http_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n";
  Daemon d(t.path(), opts);
  d.start();
  const std::string alice = d.add_token("alice", false);
  const std::string bob = d.add_token("bob", false);
  EXPECT_EQ(http_status(port, "/api/jobs"), 401) << "no token, no jobs";

  write_file(t / "in/a.toml", tiny_run("dash-a", 3));
  write_file(t / "in/b.toml", tiny_run("dash-b", 4));
  const long long run_a = submit(
      d, {"train", "--config", t / "in/a.toml", "--detach", "--name", "baseline", "--tag", "demo"},
      alice);
  const long long run_b = submit(
      d, {"train", "--config", t / "in/b.toml", "--detach", "--name", "seed 4", "--tag", "demo"},
      alice);
  write_png_set(t / "in/photos", 3, 64, 64);
  write_file(t / "in/photos/broken.png", "not a picture");
  const long long xf = submit(d,
                              {"transform", "--task", "age", "--whole-image", "--format", "png",
                               "-o", t / "out/aged", t / "in/photos", "--detach"},
                              alice);
  ASSERT_GT(run_a, 0);
  ASSERT_GT(run_b, 0);
  ASSERT_GT(xf, 0);
  for (long long id : {run_a, run_b, xf})
    ASSERT_EQ(wait_for_job(d, id, alice, std::chrono::seconds(200)).value("state", ""), "succeeded")
        << d.log();
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/";
  const std::string art = artifacts_dir();

  // The queue: every job of alice's with its state; the token is not echoed into the page.
  RunResult queue = browser.dom(base + "#token=" + alice);
  ASSERT_EQ(queue.rc, 0) << queue.err;
  EXPECT_TRUE(has(queue.out, row(run_a, "succeeded"))) << queue.out;
  EXPECT_TRUE(has(queue.out, row(run_b, "succeeded"))) << queue.out;
  EXPECT_TRUE(has(queue.out, row(xf, "succeeded"))) << queue.out;
  EXPECT_FALSE(has(queue.out, alice));
  browser.screenshot(base + "#token=" + alice, art + "/dashboard-queue.png", 900);

  // A run: its loss curves as SVG lines with axes, and its pictures loaded as blob: images.
  RunResult run = browser.dom(base + "#token=" + alice + "&/job/" + std::to_string(run_a));
  EXPECT_TRUE(has(run.out, "class=\"chart\"")) << run.out;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("<polyline[^>]* points=\"[0-9.]+,[0-9.]+ ")))
      << "a curve with points";
  EXPECT_TRUE(has(run.out, ">step<")) << "an axis label";
  EXPECT_TRUE(has(run.out, "24 px")) << "the stage change is marked";
  EXPECT_TRUE(
      std::regex_search(run.out, std::regex("data-src=\"[^\"]*samples.png\"[^>]*src=\"blob:")))
      << run.out;
  browser.screenshot(base + "#token=" + alice + "&/job/" + std::to_string(run_a),
                     art + "/dashboard-run.png", 1250);

  // A transform: before/after pairs loaded, the broken input listed with its error.
  RunResult xform = browser.dom(base + "#token=" + alice + "&/job/" + std::to_string(xf));
  EXPECT_GE(count(xform.out, "src=\"blob:"), 6u) << "three pairs loaded: " << xform.out;
  EXPECT_TRUE(has(xform.out, "class=\"failure\"")) << xform.out;
  EXPECT_TRUE(has(xform.out, "broken.png")) << xform.out;
  browser.screenshot(base + "#token=" + alice + "&/job/" + std::to_string(xf),
                     art + "/dashboard-transform.png", 1400);

  // Two runs side by side.
  const std::string ids = std::to_string(run_a) + "," + std::to_string(run_b);
  RunResult cmp = browser.dom(base + "#token=" + alice + "&/compare/" + ids);
  EXPECT_TRUE(has(cmp.out, "Comparing 2 runs")) << cmp.out;
  EXPECT_TRUE(has(cmp.out, "seed 4")) << cmp.out;
  browser.screenshot(base + "#token=" + alice + "&/compare/" + ids, art + "/dashboard-compare.png",
                     1600);

  // Bob sees none of alice's jobs, in the list or by id.
  RunResult bobs = browser.dom(base + "#token=" + bob);
  EXPECT_FALSE(has(bobs.out, "job-row")) << bobs.out;
  EXPECT_TRUE(has(bobs.out, "no jobs yet")) << bobs.out;
  RunResult bobs_run = browser.dom(base + "#token=" + bob + "&/job/" + std::to_string(run_a));
  EXPECT_TRUE(has(bobs_run.out, "no job " + std::to_string(run_a) + " of yours")) << bobs_run.out;
  EXPECT_FALSE(has(bobs_run.out, "class=\"chart\""));
  browser.screenshot(base + "#token=" + bob, art + "/dashboard-bob.png", 500);
}
