// `facecycle show ID` pages a job's items: counts and the first page by default, then the failed
// items; --page, --page-size, --failed and --state; the same page in --json. `jobs --json` lists
// summaries without items, and a followed job (transform, watch) ends with a page of its failed
// items, not all of them.
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

// The client without --json (and not on a terminal: one line per event, then the summary).
RunResult cli_text(Daemon& d, const std::string& verb, std::vector<std::string> args) {
  std::vector<std::string> argv{client_binary(), "--server", d.server(), verb};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

RunResult show_text(Daemon& d, std::vector<std::string> args) {
  return cli_text(d, "show", std::move(args));
}

size_t count_of(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
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

TEST(Jobs, JsonListsSummariesWhoseSizeGrowsWithTheJobsNotTheirItems) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  const long long big = run_large_job(d, t);  // 48 items
  RunResult r =
      d.cli({"transform", "--task", "age", "--detach", "-o", t / "out/one", t / "in/img_000.png"});
  ASSERT_EQ(r.rc, 0) << r.err;
  wait_for_job(d, r.json()["job_id"].get<long long>());

  RunResult listed = d.cli({"jobs"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  const json jobs = listed.json();
  ASSERT_EQ(jobs.size(), 2u) << jobs.dump(2);
  for (const auto& j : jobs) {
    EXPECT_FALSE(j.contains("items")) << j.dump(2);
    EXPECT_FALSE(j["result"].contains("items")) << "the per-item list:\n" << j["result"].dump(2);
    EXPECT_TRUE(j["result"].contains("manifest")) << j.dump(2);
    EXPECT_FALSE(j["output_dir"].get<std::string>().empty());
  }
  const json& b = jobs[0]["id"] == big ? jobs[0] : jobs[1];
  EXPECT_EQ(b["items_total"], 48);
  EXPECT_EQ(b["items_failed"], 3);
  EXPECT_EQ(b["state"], d.cli({"show", std::to_string(big)}).json()["state"]) << b.dump(2);
  // No item is named, and the listing is a few hundred bytes a job, however many items.
  EXPECT_EQ(listed.out.find("img_0"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("x_bad_"), std::string::npos) << listed.out;
  EXPECT_LT(listed.out.size(), 2048u * jobs.size()) << listed.out;
  // The items are still there for those who ask: `show` pages them.
  EXPECT_GT(d.cli({"show", std::to_string(big), "--page-size", "48"}).out.size(),
            listed.out.size());
}

TEST(Follow, AnEndedJobPrintsAPageOfItsFailedItemsAndHowToSeeThemAll) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png_set(t / "in", 3, 16, 16);
  for (int i = 0; i < 25; ++i)
    write_file(t / ("in/x_bad_" + std::to_string(100 + i) + ".png"), "not a png");
  RunResult r = cli_text(d, "transform", {"--task", "age", "-o", t / "out", t / "in"});
  EXPECT_EQ(r.rc, 3) << r.out << r.err;
  const size_t summary = r.out.find(": 3/28 done, 25 failed");
  ASSERT_NE(summary, std::string::npos) << r.out;
  const std::string tail = r.out.substr(summary);
  // The first 20 failed items, by index, with their errors; then the way to the rest.
  EXPECT_EQ(count_of(tail, "\n  #"), 20u) << tail;
  EXPECT_NE(tail.find("x_bad_100.png: "), std::string::npos) << tail;
  EXPECT_NE(tail.find("x_bad_119.png: "), std::string::npos) << tail;
  EXPECT_EQ(tail.find("x_bad_120.png"), std::string::npos) << tail;
  const std::string id = std::to_string(d.cli({"jobs"}).json()[0]["id"].get<long long>());
  EXPECT_NE(
      tail.find("20 of 25 failed items shown; all of them: `facecycle show " + id + " --failed`"),
      std::string::npos)
      << tail;

  // watch of the ended job ends the same way.
  RunResult w = cli_text(d, "watch", {id});
  EXPECT_EQ(w.rc, 3) << w.err;
  const size_t wsummary = w.out.find(": 3/28 done, 25 failed");
  ASSERT_NE(wsummary, std::string::npos) << w.out;
  const std::string wtail = w.out.substr(wsummary);
  EXPECT_EQ(count_of(wtail, "\n  #"), 20u) << w.out;
  EXPECT_NE(wtail.find("`facecycle show " + id + " --failed`"), std::string::npos) << w.out;
}

TEST(Follow, AFewFailedItemsAreAllListedWithoutAPointer) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  const std::string id = std::to_string(run_large_job(d, t));
  RunResult w = cli_text(d, "watch", {id});
  EXPECT_EQ(w.rc, 3) << w.err;
  const size_t summary = w.out.find(": 45/48 done, 3 failed");
  ASSERT_NE(summary, std::string::npos) << w.out;
  const std::string tail = w.out.substr(summary);
  EXPECT_EQ(count_of(tail, "\n  #"), 3u) << tail;
  for (const char* name : {"x_bad_a.png: ", "x_bad_b.png: ", "x_bad_c.png: "})
    EXPECT_NE(tail.find(name), std::string::npos) << name << "\n" << tail;
  EXPECT_EQ(tail.find("--failed"), std::string::npos) << tail;
  EXPECT_EQ(tail.find("img_0"), std::string::npos) << "a succeeded item:\n" << tail;
}
