// The real photo pipeline through the real daemon and client: the stage plugins built in
// build/plugins, the daemon's default pipelines, and small deterministic models written by
// `fc-model init`. Covers whole-image edits, a photo without a face, swapping the resident model
// while a job runs, and an unknown task.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "e2e_support.h"
#include "facecycle/core/image_io.h"
#include "facecycle/core/synthetic_faces.h"

using namespace fce;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Writes <data dir>/models/NAME.pt and NAME.card.json with `fc-model init`.
void make_model(const std::string& models_dir, const std::string& name, int seed) {
  fs::create_directories(models_dir);
  RunResult r = run_program({model_tool_binary(), "init", "--width", "8", "--blocks", "1",
                             "--resolution", "64", "--seed", std::to_string(seed), "--name", name,
                             models_dir + "/" + name + ".pt"});
  ASSERT_EQ(r.rc, 0) << "fc-model init failed:\n" << r.out << r.err;
  ASSERT_TRUE(fs::exists(models_dir + "/" + name + ".pt"));
  ASSERT_TRUE(fs::exists(models_dir + "/" + name + ".card.json"));
}

// A daemon with the real stage plugins and default pipelines, models m1 and m2, m1 active.
DaemonOptions real_options(int workers, const std::string& extra = "") {
  DaemonOptions o;
  o.workers = workers;
  o.real_pipeline = true;
  o.extra_config = "active_model = \"m1\"\n" + extra;
  return o;
}

void start_with_models(Daemon& d) {
  make_model(d.data_dir() + "/models", "m1", 1);
  make_model(d.data_dir() + "/models", "m2", 2);
  d.start();
}

// A procedural face (synthetic_faces.h), stretched to a non-square size so that a size check
// means something.
cv::Mat face_image(int seed, cv::Size size) {
  fc::SyntheticAttributes attrs;
  attrs.age = (seed % 3) / 2.0f;
  attrs.skin = (seed % 2) ? 0.8f : 0.2f;
  cv::Mat face = fc::render_face(fc::random_identity(static_cast<uint64_t>(seed)), attrs, 200);
  cv::Mat out;
  cv::resize(face, out, size, 0, 0, cv::INTER_LINEAR);
  return out;
}

std::vector<std::string> write_faces(const std::string& dir, int count, cv::Size base) {
  fs::create_directories(dir);
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "face_%03d.png", i);
    std::string p = dir + "/" + name;
    cv::Size size(base.width + 8 * (i % 5), base.height + 6 * (i % 4));
    if (!cv::imwrite(p, face_image(i + 1, size))) throw std::runtime_error("imwrite " + p);
    paths.push_back(p);
  }
  return paths;
}

long long submit(Daemon& d, std::vector<std::string> args) {
  std::vector<std::string> full{"transform", "--detach"};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = d.cli(full);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  json j = r.json();
  EXPECT_TRUE(j.contains("job_id")) << r.out;
  return j.value("job_id", -1LL);
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;
}

std::string report_model(const json& item) {
  if (!item.contains("report") || !item["report"].is_object()) return "";
  return item["report"].value("model", "");
}

}  // namespace

TEST(Pipeline, WholeImageTransformEditsEveryImageAndMarksIt) {
  TempDir t;
  Daemon d(t.path(), real_options(1));
  ASSERT_NO_FATAL_FAILURE(start_with_models(d));

  // The real stages are loaded, not test-flip.
  RunResult p = d.cli({"plugins"});
  ASSERT_EQ(p.rc, 0) << p.err;
  std::set<std::string> loaded;
  for (const auto& pl : p.json())
    if (pl.value("status", "") == "loaded") loaded.insert(pl.value("name", ""));
  for (const char* s : {"detect", "crop", "generate-age", "generate-race", "composite"})
    EXPECT_TRUE(loaded.count(s)) << "stage " << s << " not loaded: " << p.out << "\n" << d.log();
  EXPECT_FALSE(loaded.count("test-flip"));

  auto inputs = write_faces(t / "in/faces", 5, {150, 180});
  // One JPEG input: --format png must turn it into a PNG output.
  cv::Mat jpg_face = face_image(42, {172, 164});
  ASSERT_TRUE(cv::imwrite(t / "in/faces/face_jpeg.jpg", jpg_face));
  inputs.push_back(t / "in/faces/face_jpeg.jpg");

  long long id = submit(d, {"--task", "age", "--whole-image", "--format", "png", "-o",
                            t / "out/whole", t / "in/faces"});
  RunResult w = d.cli({"watch", std::to_string(id)});
  EXPECT_EQ(w.rc, 0) << w.out << w.err;

  json job = d.cli({"show", std::to_string(id)}).json();
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << d.log();
  EXPECT_EQ(job["items_total"], 6);
  EXPECT_EQ(job["items_done"], 6);
  EXPECT_EQ(job["items_failed"], 0);
  ASSERT_EQ(job["items"].size(), 6u) << job.dump(2);

  std::set<std::string> seen_inputs;
  for (const auto& it : job["items"]) {
    const std::string in = it["input"], out = it["output"];
    SCOPED_TRACE(in);
    seen_inputs.insert(fs::path(in).filename().string());
    EXPECT_EQ(it["state"], "succeeded") << it.dump(2);
    EXPECT_EQ(fs::path(out).extension().string(), ".png") << out;
    EXPECT_EQ(fs::path(out).parent_path().string(), t / "out/whole");
    ASSERT_TRUE(it["report"].is_object()) << it.dump(2);
    const json& rep = it["report"];
    EXPECT_EQ(rep.value("model", ""), "m1");
    EXPECT_EQ(rep.value("faces_found", -1), 1) << rep.dump();
    EXPECT_EQ(rep.value("faces_edited", -1), 1) << rep.dump();
    EXPECT_EQ(rep["stages"], json({"crop", "generate-age", "composite"})) << rep.dump();

    cv::Mat a = cv::imread(in, cv::IMREAD_COLOR), b = cv::imread(out, cv::IMREAD_COLOR);
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty()) << "no output " << out;
    ASSERT_EQ(b.size(), a.size()) << out;
    // The model really edits: far from the input, and far from the input merely squeezed to
    // the model's 64 px and stretched back (what a pipeline that skipped the generator gives).
    cv::Mat small, round_trip;
    cv::resize(a, small, {64, 64}, 0, 0, cv::INTER_AREA);
    cv::resize(small, round_trip, a.size(), 0, 0, cv::INTER_CUBIC);
    const double d_in = mean_abs_diff(a, b), d_rt = mean_abs_diff(round_trip, b);
    RecordProperty(
        fs::path(in).filename().string(),
        "diff vs input " + std::to_string(d_in) + ", vs 64px round trip " + std::to_string(d_rt));
    EXPECT_GT(d_in, 8.0) << out;
    EXPECT_GT(d_rt, 8.0) << out;

    auto meta = fc::read_image_metadata(out);
    EXPECT_EQ(meta["facecycle"], "machine-edited") << out;
    EXPECT_EQ(meta["model"], "m1") << out;
    EXPECT_EQ(meta["task"], "age") << out;
    EXPECT_EQ(meta["direction"], "forward") << out;
  }
  for (const auto& in : inputs)
    EXPECT_TRUE(seen_inputs.count(fs::path(in).filename().string())) << in << " not an item";
  EXPECT_TRUE(fs::exists(t / "out/whole/face_jpeg.png"));

  // Outputs plus the job's before/after sheet and manifests, nothing else (no temporary files
  // left behind).
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(t / "out/whole"))
    files.insert(e.path().filename().string());
  const std::string sheet_name = "contact_sheet_job" + std::to_string(id) + ".png";
  EXPECT_EQ(files.size(), 9u);
  EXPECT_TRUE(files.count("manifest_job" + std::to_string(id) + ".csv"));
  ASSERT_TRUE(files.count(sheet_name));
  cv::Mat sheet = cv::imread(t / ("out/whole/" + sheet_name), cv::IMREAD_COLOR);
  ASSERT_FALSE(sheet.empty());
  EXPECT_GT(sheet.cols, 64);
  EXPECT_GT(sheet.rows, 64);
  EXPECT_EQ(job["result"].value("contact_sheet", ""), t / ("out/whole/" + sheet_name))
      << job["result"].dump();
}

// detect → crop → generate → composite on a photo with no face: the item succeeds, its report
// says no face was found, and the output is the input, pixel for pixel (PNG is lossless and
// composite leaves pixels away from faces untouched).
TEST(Pipeline, PhotoWithoutFaceSucceedsUnchanged) {
  TempDir t;
  Daemon d(t.path(), real_options(1));
  ASSERT_NO_FATAL_FAILURE(start_with_models(d));

  fs::create_directories(t / "in/plain");
  cv::Mat gradient(120, 160, CV_8UC3);
  for (int y = 0; y < gradient.rows; ++y)
    for (int x = 0; x < gradient.cols; ++x)
      gradient.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(x * 255 / 159), static_cast<uchar>(y * 255 / 119),
                    static_cast<uchar>((x + y) * 255 / 278));
  ASSERT_TRUE(cv::imwrite(t / "in/plain/gradient.png", gradient));

  long long id =
      submit(d, {"--task", "age", "--format", "png", "-o", t / "out/plain", t / "in/plain"});
  json job = wait_for_job(d, id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << d.log();
  EXPECT_EQ(job["items_done"], 1);
  EXPECT_EQ(job["items_failed"], 0);
  ASSERT_EQ(job["items"].size(), 1u) << job.dump(2);
  const json& it = job["items"][0];
  EXPECT_EQ(it["state"], "succeeded");
  EXPECT_EQ(it["error"], "");
  ASSERT_TRUE(it["report"].is_object()) << it.dump(2);
  const json& rep = it["report"];
  EXPECT_EQ(rep.value("faces_found", -1), 0) << rep.dump(2);
  EXPECT_EQ(rep.value("faces_edited", -1), 0) << rep.dump(2);
  EXPECT_EQ(rep.value("faces_detected", ""), "0") << rep.dump(2);
  EXPECT_EQ(rep.value("detector", ""), "yunet") << rep.dump(2);  // the shipped default
  EXPECT_EQ(rep["stages"], json({"detect", "crop", "generate-age", "composite"})) << rep.dump();

  const std::string out = t / "out/plain/gradient.png";
  EXPECT_EQ(it["output"], out);
  cv::Mat b = cv::imread(out, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(b.empty()) << out;
  ASSERT_EQ(b.size(), gradient.size());
  ASSERT_EQ(b.type(), gradient.type());
  EXPECT_EQ(cv::norm(gradient, b, cv::NORM_INF), 0.0) << "pixels changed without a face";
  // The output says it is unchanged, not machine-edited.
  auto meta = fc::read_image_metadata(out);
  EXPECT_EQ(meta["facecycle"], "unchanged");
  EXPECT_EQ(meta["task"], "age");
}

// Activating another model while a job runs: items already claimed keep the model they started
// with, items claimed later use the new one, and nothing fails.
TEST(Pipeline, ModelSwapWhileJobRunsFailsNothing) {
  TempDir t;
  // max_wait_ms makes each translation wait for a batch to fill, so that the job lasts a few
  // seconds and the swaps land while it runs. Two workers: swaps happen with items in flight.
  Daemon d(t.path(), real_options(2, "max_wait_ms = 100\n"));
  ASSERT_NO_FATAL_FAILURE(start_with_models(d));
  const int kItems = 40;
  write_faces(t / "in/many", kItems, {240, 200});

  long long id = submit(d, {"--task", "age", "--whole-image", "--format", "png", "-o",
                            t / "out/many", t / "in/many"});
  ASSERT_GT(id, 0);

  // Each round: note which items nobody has claimed yet, activate the other model, then wait
  // until one of those items succeeds with it. Until the activation returned the previous
  // model was the active one, so such an item proves that the swap reached a running job.
  // `show` lists 20 items a page; the rounds must see every item, or the queued ones they track
  // fall off the first page once the job passes item 20.
  auto show_all = [&] { return d.cli({"show", std::to_string(id), "--page-size", "1000"}).json(); };
  const std::vector<std::string> order{"m2", "m1", "m2", "m1"};
  for (size_t round = 0; round < order.size(); ++round) {
    const std::string& target = order[round];
    SCOPED_TRACE("activating " + target);
    json before = show_all();
    std::set<int> unclaimed;
    for (const auto& it : before["items"])
      if (it["state"] == "queued") unclaimed.insert(it["index"].get<int>());
    ASSERT_FALSE(unclaimed.empty())
        << "the job ran out of queued items before the swaps: make it longer\n"
        << before.dump(2);
    RecordProperty("queued_before_swap_" + std::to_string(round + 1),
                   static_cast<int>(unclaimed.size()));

    RunResult a = d.cli({"models", "activate", target});
    ASSERT_EQ(a.rc, 0) << a.out << a.err;
    EXPECT_EQ(a.json().value("name", ""), target) << a.out;

    bool used = false;
    json last;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         !used && std::chrono::steady_clock::now() < until;) {
      last = show_all();
      for (const auto& it : last["items"])
        if (unclaimed.count(it["index"].get<int>()) && it["state"] == "succeeded" &&
            report_model(it) == target)
          used = true;
      if (!used) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(used) << "no item claimed after activating " << target << " used it:\n"
                      << last.dump(2);
  }

  json job = wait_for_job(d, id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << d.log();
  job = show_all();
  ASSERT_EQ(job["items"].size(), static_cast<size_t>(kItems));
  EXPECT_EQ(job["items_total"], kItems);
  EXPECT_EQ(job["items_done"], kItems);
  EXPECT_EQ(job["items_failed"], 0);
  EXPECT_EQ(job["items_cancelled"], 0);
  std::map<std::string, int> per_model;
  for (const auto& it : job["items"]) {
    EXPECT_EQ(it["state"], "succeeded") << it.dump(2);
    EXPECT_EQ(it["attempts"], 1) << it.dump(2);
    const std::string model = report_model(it);
    ++per_model[model];
    // The mark in the file names the model that really made it.
    EXPECT_EQ(fc::read_image_metadata(it["output"].get<std::string>())["model"], model)
        << it.dump(2);
  }
  EXPECT_EQ(per_model.size(), 2u) << "models used: " << job.dump(2);
  EXPECT_GT(per_model["m1"], 0);
  EXPECT_GT(per_model["m2"], 0);
  // The job's result counts them, and following the job tells the user its outputs are mixed.
  EXPECT_EQ(job["result"]["models"], json(per_model)) << job["result"].dump(2);
  RunResult w = run_program({client_binary(), "--server", d.server(), "watch", std::to_string(id)},
                            {{"FACECYCLE_TOKEN", ""}, {"FACECYCLE_SERVER", ""}});
  ASSERT_EQ(w.rc, 0) << w.out << w.err;
  EXPECT_NE(w.out.find("2 models made these outputs"), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("m1 (" + std::to_string(per_model["m1"]) + ")"), std::string::npos) << w.out;
  RecordProperty("items_by_m1", per_model["m1"]);
  RecordProperty("items_by_m2", per_model["m2"]);

  RunResult m = d.cli({"models"});
  ASSERT_EQ(m.rc, 0) << m.err;
  json models = m.json();
  EXPECT_EQ(models["active"], "m1") << m.out;
  int active = 0;
  for (const auto& x : models["models"]) {
    if (x.value("active", false)) {
      ++active;
      EXPECT_EQ(x["name"], "m1") << m.out;
    }
  }
  EXPECT_EQ(active, 1) << m.out;

  // The daemon still serves, with m1: a fresh item is made by m1.
  long long id2 = submit(d, {"--task", "age", "--whole-image", "--format", "png", "-o",
                             t / "out/again", t / "in/many/face_000.png"});
  json job2 = wait_for_job(d, id2);
  ASSERT_EQ(job2["state"], "succeeded") << job2.dump(2);
  EXPECT_EQ(report_model(job2["items"][0]), "m1");
}

TEST(Pipeline, UnknownTaskIsRefusedNamingTheKnownTasks) {
  TempDir t;
  Daemon d(t.path(), real_options(1));
  ASSERT_NO_FATAL_FAILURE(start_with_models(d));
  write_faces(t / "in/faces", 1, {100, 100});

  for (bool whole : {false, true}) {
    std::vector<std::string> args{"transform", "--task", "wrinkle", "-o", t / "out/x"};
    if (whole) args.push_back("--whole-image");
    args.push_back(t / "in/faces");
    RunResult r = d.cli(args);
    SCOPED_TRACE(whole ? "whole image" : "detecting");
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_NE(r.err.find("INVALID_ARGUMENT"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("unknown task 'wrinkle'"), std::string::npos) << r.err;
    const size_t known = r.err.find("known tasks: ");
    ASSERT_NE(known, std::string::npos) << r.err;
    const std::string listed = r.err.substr(known);
    EXPECT_NE(listed.find("age"), std::string::npos) << r.err;
    EXPECT_NE(listed.find("race"), std::string::npos) << r.err;
  }
  // Refused whole: no job was queued and nothing was written.
  RunResult j = d.cli({"jobs"});
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_TRUE(j.json().empty()) << j.out;
  EXPECT_FALSE(fs::exists(t / "out/x"));
}
