// `facecycle show ID` pages a job's items: counts and the first page by default, then the failed
// items; --page, --page-size, --failed and --state; the same page in --json.
#include <gtest/gtest.h>

#include "e2e_support.h"

using namespace fce;
using nlohmann::json;

namespace {

// 45 photos and 3 files that are not images, named to sort last: a job of 48 items whose
// last 3 failed.
long long run_large_job(Daemon& d, const TempDir& t) {
  write_png_set(t / "in", 45, 16, 16);
  for (const char* name : {"x_bad_a.png", "x_bad_b.png", "x_bad_c.png"})
    write_file(t / ("in/" + std::string(name)), "not a png");
  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", t / "out", t / "in"});
  EXPECT_EQ(r.rc, 0) << r.err;
  const long long id = r.json()["job_id"].get<long long>();
  EXPECT_EQ(wait_for_job(d, id)["items_failed"], 3);
  return id;
}

RunResult show_text(Daemon& d, std::vector<std::string> args) {
  std::vector<std::string> argv{client_binary(), "--server", d.server(), "show"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

}  // namespace

TEST(Show, TheDefaultPageHoldsTwentyItemsThenTheFailedOnesAndSaysHowToSeeMore) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  const std::string id = std::to_string(run_large_job(d, t));
  RunResult r = show_text(d, {id});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("items:    48 total, 45 done, 3 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("items 1-20 of 48 (page 1 of 3):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed items 1-3 of 3:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x_bad_c.png"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("img_030.png"), std::string::npos) << "page 2 printed too:\n" << r.out;
  EXPECT_NE(r.out.find("`facecycle show " + id + " --page 2`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`facecycle show " + id + " --failed`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("manifest_job" + id + ".csv"), std::string::npos) << r.out;

  RunResult last = show_text(d, {id, "--page", "3"});
  EXPECT_NE(last.out.find("items 41-48 of 48 (page 3 of 3):"), std::string::npos) << last.out;
  EXPECT_EQ(last.out.find("--page 4"), std::string::npos) << last.out;
  RunResult past = show_text(d, {id, "--page", "4"});
  EXPECT_EQ(past.rc, 2);
  EXPECT_NE(past.err.find("past the end"), std::string::npos) << past.err;
}

TEST(Show, JsonCarriesThePageAndNotTheWholeJob) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  const std::string id = std::to_string(run_large_job(d, t));
  json page = d.cli({"show", id, "--page", "2", "--page-size", "10"}).json();
  ASSERT_EQ(page["items"].size(), 10u) << page.dump(2);
  EXPECT_EQ(page["items"][0]["index"], 10);
  EXPECT_EQ(page["items_page"]["total"], 48);
  EXPECT_EQ(page["items_page"]["page"], 2);
  EXPECT_EQ(page["items_total"], 48);
  EXPECT_FALSE(page["result"].contains("items")) << "the result repeats every item";

  json failed = d.cli({"show", id, "--failed"}).json();
  ASSERT_EQ(failed["items"].size(), 3u) << failed.dump(2);
  for (const auto& it : failed["items"]) EXPECT_EQ(it["state"], "failed");
  EXPECT_EQ(failed["items_page"]["state"], "failed");
  EXPECT_EQ(d.cli({"show", id, "--state", "succeeded"}).json()["items_page"]["total"], 45);
}
