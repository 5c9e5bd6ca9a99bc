// No job replaces a file it did not write: other jobs' and users' outputs, inputs, files that
// appear while a job runs. Also --recursive, --skip-existing, the per-job manifest and sheet.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void write_png(const std::string& path, int seed) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(cv::imwrite(path, make_test_image(64, 48, seed)));
}

RunResult transform(Daemon& d, std::vector<std::string> args, const std::string& token = "") {
  std::vector<std::string> full{"transform", "--task", "age", "--detach"};
  full.insert(full.end(), args.begin(), args.end());
  return d.cli(full, token);
}

json run_job(Daemon& d, std::vector<std::string> args, const std::string& token = "") {
  RunResult r = transform(d, args, token);
  EXPECT_EQ(r.rc, 0) << r.err;
  if (r.rc != 0) return json();
  return wait_for_job(d, r.json()["job_id"].get<long long>(), token);
}

}  // namespace

// women/dup.png used to replace the dup.png an earlier job made from men/dup.png.
TEST(Outputs, ASecondJobIntoTheSameFolderIsRefusedAndTheFirstOutputsStay) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png(t / "in/men/dup.png", 1);
  write_png(t / "in/women/dup.png", 2);
  EXPECT_EQ(run_job(d, {"-o", t / "out", t / "in/men"})["state"], "succeeded");
  const std::string first = read_file(t / "out/dup.png");
  ASSERT_TRUE(is_flipped_copy(t / "in/men/dup.png", t / "out/dup.png"));

  RunResult r = transform(d, {"-o", t / "out", t / "in/women"});
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.err.find(t / "out/dup.png"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--skip-existing"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t / "out/dup.png"), first);
}

TEST(Outputs, SameNamedInputsOfOneJobStayApart) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png(t / "in/men/dup.png", 1);
  write_png(t / "in/women/dup.png", 2);
  EXPECT_EQ(run_job(d, {"-o", t / "out", t / "in/men", t / "in/women"})["items_done"], 2);
  EXPECT_TRUE(is_flipped_copy(t / "in/men/dup.png", t / "out/dup.png"));
  EXPECT_TRUE(is_flipped_copy(t / "in/women/dup.png", t / "out/dup-2.png"));
}

TEST(Outputs, TheOutputFolderBeingTheInputFolderNeverReplacesAnInput) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png(t / "in/ok.png", 3);
  const std::string original = read_file(t / "in/ok.png");
  for (std::string flag : {"--skip-existing", "--overwrite"}) {
    RunResult r = transform(d, {flag, "-o", t / "in", t / "in"});
    EXPECT_NE(r.rc, 0) << flag << ": " << r.out;
    EXPECT_NE(r.err.find("an input of this job"), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_file(t / "in/ok.png"), original);
  EXPECT_EQ(d.cli({"jobs"}).json().size(), 0u);
}

TEST(Outputs, OverwriteReplacesOnlyTheSameUsersOwnOutputs) {
  TempDir t;
  Daemon d(t.path(), {});
  std::string alice = d.add_token("alice", false), bob = d.add_token("bob", false);
  d.start();
  write_png(t / "in/a/x.png", 4);
  write_png(t / "in/b/x.png", 5);
  EXPECT_EQ(run_job(d, {"-o", t / "out", t / "in/a"}, alice)["state"], "succeeded");
  const std::string alices = read_file(t / "out/x.png");

  RunResult r = transform(d, {"--overwrite", "-o", t / "out", t / "in/b"}, bob);
  EXPECT_NE(r.rc, 0) << "bob replaced alice's output";
  EXPECT_EQ(read_file(t / "out/x.png"), alices);

  EXPECT_EQ(run_job(d, {"--overwrite", "-o", t / "out", t / "in/b"}, alice)["items_done"], 1);
  EXPECT_TRUE(is_flipped_copy(t / "in/b/x.png", t / "out/x.png"));

  // A file nobody's job wrote is not "own", even for --overwrite.
  write_png(t / "out/mine.png", 6);
  write_png(t / "in/c/mine.png", 7);
  const std::string users = read_file(t / "out/mine.png");
  EXPECT_NE(transform(d, {"--overwrite", "-o", t / "out", t / "in/c"}, alice).rc, 0);
  EXPECT_EQ(read_file(t / "out/mine.png"), users);
}

// The submit-time check is not enough: a file may appear while the job waits or runs.
TEST(Outputs, AFileThatAppearsAfterSubmitIsNotReplaced) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 400));
  d.start();
  auto inputs = write_png_set(t / "in", 3);
  RunResult r = transform(d, {"-o", t / "out", t / "in"});
  ASSERT_EQ(r.rc, 0) << r.err;
  write_file(t / "out/img_002.png", "someone else's file");
  json job = wait_for_job(d, r.json()["job_id"].get<long long>());
  EXPECT_EQ(read_file(t / "out/img_002.png"), "someone else's file");
  EXPECT_EQ(job["items_done"], 2);
  std::string error;
  for (const auto& it : job["items"])
    if (it["state"] == "failed") error = it["error"];
  EXPECT_NE(error.find("was not written by this job"), std::string::npos) << job.dump(2);
  for (const auto& e : fs::directory_iterator(t / "out"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(Outputs, EachJobHasItsOwnContactSheetAndManifest) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  auto inputs = write_png_set(t / "in/one", 20);
  write_png(t / "in/two/other.png", 9);
  json a = run_job(d, {"-o", t / "out", t / "in/one"});
  json b = run_job(d, {"-o", t / "out", t / "in/two"});
  const std::string ia = std::to_string(a["id"].get<long long>());
  const std::string ib = std::to_string(b["id"].get<long long>());
  EXPECT_TRUE(fs::exists(t / ("out/contact_sheet_job" + ia + ".png")));
  EXPECT_TRUE(fs::exists(t / ("out/contact_sheet_job" + ib + ".png")));
  EXPECT_FALSE(fs::exists(t / "out/contact_sheet.png"));
  // 16 of 20 sampled across the whole job, each row labelled: taller than 16 bare 256 px rows.
  cv::Mat sheet = cv::imread(t / ("out/contact_sheet_job" + ia + ".png"));
  EXPECT_GT(sheet.rows, 16 * (256 + 26));

  std::ifstream jsonl(t / ("out/manifest_job" + ia + ".jsonl"));
  int rows = 0;
  for (std::string line; std::getline(jsonl, line); ++rows) {
    json row = json::parse(line);
    EXPECT_EQ(row["state"], "succeeded") << line;
    EXPECT_EQ(row["sha256"].get<std::string>().size(), 64u) << line;
    EXPECT_TRUE(fs::exists(row["output"].get<std::string>())) << line;
  }
  EXPECT_EQ(rows, 20);
  std::string csv = read_file(t / ("out/manifest_job" + ia + ".csv"));
  EXPECT_EQ(csv.rfind("index,input,output,state,error,faces_found,faces_edited,sha256,model", 0),
            0u)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 21);
  EXPECT_EQ(a["result"]["manifest"]["csv"], t / ("out/manifest_job" + ia + ".csv"));
}

TEST(Outputs, SkipExistingSkipsOutputsMadeTheSameWayAndKeepsThem) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png_set(t / "in", 3);
  json first = run_job(d, {"-o", t / "out", t / "in"});
  ASSERT_EQ(first["items_done"], 3);
  struct stat before {};
  ASSERT_EQ(::stat((t / "out/img_001.png").c_str(), &before), 0);

  json again = run_job(d, {"--skip-existing", "-o", t / "out", t / "in"});
  EXPECT_EQ(again["items_done"], 3) << again.dump(2);
  struct stat after {};
  ASSERT_EQ(::stat((t / "out/img_001.png").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "a skipped output was rewritten";
  std::string id = std::to_string(again["id"].get<long long>());
  std::string jsonl = read_file(t / ("out/manifest_job" + id + ".jsonl"));
  EXPECT_EQ(jsonl.find("\"succeeded\""), std::string::npos) << jsonl;
  EXPECT_NE(jsonl.find("\"skipped\""), std::string::npos) << jsonl;

  // Another direction or strength is another edit: not skipped, and not replaced either.
  RunResult r = transform(d, {"--reverse", "--skip-existing", "-o", t / "out", t / "in"});
  EXPECT_NE(r.rc, 0) << r.out;
  r = transform(d, {"--strength", "1.5", "--skip-existing", "-o", t / "out", t / "in"});
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.err.find("strength"), std::string::npos) << r.err;
  // The strength is part of the edit's record: the same strength is skipped again.
  json strong = run_job(d, {"--strength", "1.5", "-o", t / "out/strong", t / "in"});
  ASSERT_EQ(strong["items_done"], 3) << strong.dump(2);
  EXPECT_EQ(strong["strength"], 1.5);
  json skipped =
      run_job(d, {"--strength", "1.5", "--skip-existing", "-o", t / "out/strong", t / "in"});
  EXPECT_EQ(skipped["items_done"], 3) << skipped.dump(2);
  std::string sid = std::to_string(skipped["id"].get<long long>());
  EXPECT_EQ(read_file(t / ("out/strong/manifest_job" + sid + ".jsonl")).find("\"succeeded\""),
            std::string::npos);
}

TEST(Outputs, RecursiveMirrorsTheTreeAndRefusesLoopsAndEscapes) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png(t / "in/tree/a/x.png", 1);
  write_png(t / "in/tree/a/deep/y.png", 2);
  write_png(t / "in/tree/b/x.png", 3);
  write_png(t / "secret/s.png", 4);
  fs::create_directory_symlink(t / "in/tree", t / "in/tree/a/loop");
  fs::create_directory_symlink(t / "secret", t / "in/tree/b/escape");

  RunResult flat = transform(d, {"-o", t / "out/flat", t / "in/tree"});
  EXPECT_NE(flat.rc, 0);
  EXPECT_NE(flat.err.find("--recursive"), std::string::npos) << flat.err;
  EXPECT_FALSE(fs::exists(t / "out/flat")) << "a refused request created its output folder";

  RunResult r = transform(d, {"--recursive", "-o", t / "out/tree", t / "in/tree"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json job = wait_for_job(d, r.json()["job_id"].get<long long>());
  EXPECT_EQ(job["items_total"], 3) << job.dump(2);
  EXPECT_TRUE(is_flipped_copy(t / "in/tree/a/x.png", t / "out/tree/a/x.png"));
  EXPECT_TRUE(is_flipped_copy(t / "in/tree/a/deep/y.png", t / "out/tree/a/deep/y.png"));
  EXPECT_TRUE(is_flipped_copy(t / "in/tree/b/x.png", t / "out/tree/b/x.png"));
  EXPECT_FALSE(fs::exists(t / "out/tree/b/escape"));
  std::string warnings = r.json().contains("warnings") ? r.json()["warnings"].dump() : "";
  EXPECT_NE(warnings.find("loop"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("outside the allowed folders"), std::string::npos) << warnings;
}

TEST(Outputs, CtrlCWhileWaitingSaysHowToFollowTheJobAndExits130) {
  TempDir t;
  Daemon d(t.path(), DaemonOptions::with(1, 500));
  d.start();
  write_png_set(t / "in", 4);
  Child c = spawn({client_binary(), "--server", d.server(), "transform", "--task", "age", "-o",
                   t / "out", t / "in"},
                  t / "client.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_TRUE(c.running()) << read_file(t / "client.out");
  ::kill(c.pid, SIGINT);
  EXPECT_EQ(c.wait(std::chrono::seconds(10)), 130);
  std::string out = read_file(t / "client.out");
  EXPECT_NE(out.find("continues: `facecycle watch 1` / `facecycle cancel 1`"), std::string::npos)
      << out;
  EXPECT_EQ(d.cli({"show", "1"}).json()["state"] == "cancelled", false);

  RunResult v = run_program({client_binary(), "--version"});
  EXPECT_EQ(v.rc, 0);
  EXPECT_EQ(v.out.rfind("facecycle ", 0), 0u) << v.out;
}
