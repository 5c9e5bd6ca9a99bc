// Transform jobs through the real daemon and client: outputs, formats, bad inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "e2e_support.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

long long submit(Daemon& d, std::vector<std::string> args, const std::string& token = "") {
  std::vector<std::string> full{"transform", "--task", "age", "--detach"};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = d.cli(full, token);
  EXPECT_EQ(r.rc, 0) << r.err;
  json j = r.json();
  EXPECT_TRUE(j.contains("job_id")) << r.out;
  return j.value("job_id", -1LL);
}

const json* item_for(const json& job, const std::string& input_suffix) {
  for (const auto& it : job["items"])
    if (it["input"].get<std::string>().size() >= input_suffix.size() &&
        it["input"].get<std::string>().compare(
            it["input"].get<std::string>().size() - input_suffix.size(), input_suffix.size(),
            input_suffix) == 0)
      return &it;
  return nullptr;
}

}  // namespace

TEST(Transform, FolderGivesOneFlippedOutputPerImage) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  auto inputs = write_png_set(t / "in/photos", 5);
  long long id = submit(d, {"-o", t / "out/a", t / "in/photos"});

  // Waiting without --detach prints one JSON object per event and exits 0 on success.
  RunResult w = d.cli({"watch", std::to_string(id)});
  EXPECT_EQ(w.rc, 0) << w.err;
  EXPECT_NE(w.out.find("\"succeeded\""), std::string::npos) << w.out;

  json job = d.cli({"show", std::to_string(id)}).json();
  EXPECT_EQ(job["state"], "succeeded");
  EXPECT_EQ(job["items_total"], 5);
  EXPECT_EQ(job["items_done"], 5);
  EXPECT_EQ(job["items_failed"], 0);
  for (const auto& in : inputs) {
    std::string out = t / ("out/a/" + fs::path(in).filename().string());
    EXPECT_TRUE(is_flipped_copy(in, out)) << out;
  }
}

TEST(Transform, WaitingWithoutDetachExitsZeroAndPrintsEvents) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  auto inputs = write_png_set(t / "in", 2);
  RunResult r = d.cli({"transform", "--task", "age", "-o", t / "out", inputs[0], inputs[1]});
  EXPECT_EQ(r.rc, 0) << r.err;
  int lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_GE(lines, 3) << r.out;  // at least: running, two items, succeeded
  EXPECT_TRUE(is_flipped_copy(inputs[1], t / "out/img_001.png"));
}

TEST(Transform, FormatOptionChangesExtension) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  fs::create_directories(t / "in");
  cv::Mat img = make_test_image(80, 60, 7);
  ASSERT_TRUE(cv::imwrite(t / "in/photo.jpg", img));
  ASSERT_TRUE(cv::imwrite(t / "in/pic.png", img));

  long long id = submit(d, {"--format", "png", "-o", t / "out/png", t / "in/photo.jpg"});
  EXPECT_EQ(wait_for_job(d, id)["state"], "succeeded");
  EXPECT_TRUE(fs::exists(t / "out/png/photo.png"));
  EXPECT_FALSE(fs::exists(t / "out/png/photo.jpg"));
  // PNG is lossless: the output is exactly the mirror of the decoded JPEG.
  EXPECT_TRUE(is_flipped_copy(t / "in/photo.jpg", t / "out/png/photo.png"));

  id = submit(d, {"--format", "jpg", "-o", t / "out/jpg", t / "in/pic.png"});
  EXPECT_EQ(wait_for_job(d, id)["state"], "succeeded");
  ASSERT_TRUE(fs::exists(t / "out/jpg/pic.jpg"));
  EXPECT_FALSE(fs::exists(t / "out/jpg/pic.png"));
  cv::Mat out = cv::imread(t / "out/jpg/pic.jpg"), flipped;
  ASSERT_FALSE(out.empty());
  cv::flip(img, flipped, 1);
  EXPECT_GT(cv::PSNR(out, flipped), 28.0) << "JPEG output is not the flipped input";
}

TEST(Transform, BadInputsFailPerItemAndTheDaemonKeepsRunning) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  auto good = write_png_set(t / "in", 1);
  write_file(t / "in/notes.png", "this is text, not an image\n");
  std::vector<uchar> jpg;
  cv::imencode(".jpg", make_test_image(120, 90, 3), jpg);
  write_file(t / "in/cut.jpg", std::string(jpg.begin(), jpg.begin() + jpg.size() / 2));
  fs::create_directories(t / "secret");  // outside every allowed root
  ASSERT_TRUE(cv::imwrite(t / "secret/outside.png", make_test_image(40, 30, 9)));
  ASSERT_EQ(symlink((t / "secret/outside.png").c_str(), (t / "in/link.png").c_str()), 0);

  std::vector<std::string> bad{t / "in/missing.png", t / "in/notes.png", t / "in/cut.jpg",
                               t / "in/../secret/outside.png", t / "in/link.png"};
  std::vector<std::string> args{"transform", "--task", "age", "--detach", "-o", t / "out"};
  args.push_back(good[0]);
  args.insert(args.end(), bad.begin(), bad.end());
  RunResult r = d.cli(args);
  ASSERT_EQ(r.rc, 0) << r.err;
  json submitted = r.json();
  json job = wait_for_job(d, submitted["job_id"].get<long long>());

  EXPECT_TRUE(is_flipped_copy(good[0], t / "out/img_000.png"));
  std::string warnings = submitted.contains("warnings") ? submitted["warnings"].dump() : "";
  for (const auto& b : bad) {
    std::string name = fs::path(b).filename().string();
    const json* it = item_for(job, name);
    RecordProperty(name,
                   it ? "item: " + (*it)["error"].get<std::string>() : "dropped with a warning");
    if (it) {  // queued, then failed with a reason
      EXPECT_EQ((*it)["state"], "failed") << b << ": " << it->dump();
      EXPECT_FALSE((*it)["error"].get<std::string>().empty()) << b;
    } else {  // dropped before queueing, with a warning naming it
      EXPECT_NE(warnings.find(name), std::string::npos) << b << " neither an item nor a warning";
    }
  }
  // Nothing was read from outside the roots.
  EXPECT_FALSE(fs::exists(t / "out/link.png"));
  EXPECT_GE(job["items_failed"].get<int>(), 3) << job.dump(2);
  EXPECT_EQ(job["items_done"], 1);
  EXPECT_EQ(d.cli({"health"}).rc, 0) << "daemon died on bad inputs:\n" << d.log();
}

TEST(Transform, RequestWithoutValidItemIsRefused) {
  TempDir t;
  Daemon d(t.path(), {});
  d.start();
  write_png_set(t / "secret", 1);
  fs::create_directories(t / "in/empty");
  RunResult r = d.cli({"transform", "--task", "age", "--detach", "-o", t / "out",
                       t / "in/../secret/img_000.png", t / "in/empty"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("facecycle: ", 0), 0u) << r.err;
  EXPECT_EQ(d.cli({"health"}).rc, 0) << d.log();
  EXPECT_EQ(d.cli({"jobs"}).json().size(), 0u) << "a job was queued for nothing";
}
