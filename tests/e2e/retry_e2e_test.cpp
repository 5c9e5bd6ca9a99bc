// `facecycle retry ID` against a real daemon: an input that cannot be decoded fails its item;
// once it is fixed, retry runs that item alone, and the job's manifest is rewritten in place.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A job over in/ (three good photos and broken.png, which is not an image) that has ended.
json run_with_a_broken_input(Daemon& d, const TempDir& t, std::vector<std::string> flags = {},
                             const std::string& token = "") {
  write_png_set(t / "in", 3);
  write_file(t / "in/broken.png", "not a png");
  std::vector<std::string> args{"transform", "--task", "age", "--detach"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"-o", t / "out", t / "in"});
  RunResult r = d.cli(args, token);
  EXPECT_EQ(r.rc, 0) << r.err;
  if (r.rc != 0) return json();
  return wait_for_job(d, r.json()["job_id"].get<long long>(), token);
}

void fix_broken_input(const TempDir& t) {
  ASSERT_TRUE(cv::imwrite(t / "in/broken.png", make_test_image(64, 48, 9)));
}

std::map<std::string, json> items_by_name(const json& job) {
  std::map<std::string, json> out;
  for (const auto& it : job["items"])
    out[fs::path(it["input"].get<std::string>()).filename().string()] = it;
  return out;
}

ino_t inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST(Retry, OnlyTheFailedItemRunsAgainAndTheManifestIsRewrittenInPlace) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  json job = run_with_a_broken_input(d, t);
  ASSERT_EQ(job["items_failed"], 1) << job.dump(2);
  ASSERT_EQ(job["items_done"], 3);
  const std::string id = std::to_string(job["id"].get<long long>());
  const std::string csv_path = job["result"]["manifest"]["csv"];
  const ino_t kept = inode(t / "out/img_001.png");
  ASSERT_NE(kept, 0u);

  fix_broken_input(t);
  RunResult r = d.cli({"retry", id});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;

  json after = d.cli({"show", id}).json();
  EXPECT_EQ(after["state"], "succeeded");
  EXPECT_EQ(after["items_done"], 4);
  EXPECT_EQ(after["items_failed"], 0);
  auto items = items_by_name(after);
  EXPECT_EQ(items["broken.png"]["attempts"], 2);
  for (const char* name : {"img_000.png", "img_001.png", "img_002.png"})
    EXPECT_EQ(items[name]["attempts"], 1) << name << " ran again";
  EXPECT_EQ(inode(t / "out/img_001.png"), kept) << "a succeeded output was rewritten";
  EXPECT_TRUE(is_flipped_copy(t / "in/broken.png", t / "out/broken.png"));

  EXPECT_EQ(after["result"]["manifest"]["csv"], csv_path) << "the retry wrote a second CSV";
  const std::string csv = read_file(csv_path);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  EXPECT_EQ(csv.find(",failed,"), std::string::npos) << csv;
  const std::string jsonl = read_file(after["result"]["manifest"]["jsonl"]);
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 4) << jsonl;

  RunResult again = d.cli({"retry", id});
  EXPECT_EQ(again.rc, 1);
  EXPECT_NE(again.err.find("no failed items"), std::string::npos) << again.err;
}

TEST(Retry, SkippedItemsStaySkippedAndOnlyTheOwnerOrAnAdminMayRetry) {
  TempDir t;
  Daemon d(t.path(), {});
  const std::string alice = d.add_token("alice", false);
  const std::string bob = d.add_token("bob", false);
  const std::string root = d.add_token("root", true);
  d.start();
  ASSERT_EQ(run_with_a_broken_input(d, t, {}, alice)["items_done"], 3);
  // The same command again with --skip-existing: the three outputs are kept, broken.png fails.
  json job = run_with_a_broken_input(d, t, {"--skip-existing"}, alice);
  ASSERT_EQ(job["items_failed"], 1) << job.dump(2);
  const std::string id = std::to_string(job["id"].get<long long>());

  fix_broken_input(t);
  RunResult refused = d.cli({"retry", "--detach", id}, bob);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.err.find("no job " + id + " of yours"), std::string::npos) << refused.err;

  RunResult r = d.cli({"retry", "--detach", id}, root);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.json()["items_requeued"], 1);
  json after = wait_for_job(d, std::stoll(id), alice);
  EXPECT_EQ(after["items_done"], 4);
  auto items = items_by_name(after);
  EXPECT_EQ(items["broken.png"]["attempts"], 2);
  EXPECT_EQ(items["img_002.png"]["attempts"], 1);
  const std::string jsonl = read_file(after["result"]["manifest"]["jsonl"]);
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 4) << jsonl;
  int skipped = 0;
  for (size_t at = jsonl.find("\"skipped\""); at != std::string::npos;
       at = jsonl.find("\"skipped\"", at + 1))
    ++skipped;
  EXPECT_EQ(skipped, 3) << jsonl;
  EXPECT_TRUE(is_flipped_copy(t / "in/broken.png", t / "out/broken.png"));
}
