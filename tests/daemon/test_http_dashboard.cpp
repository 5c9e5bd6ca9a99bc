// The dashboard's JSON API (http/dashboard.h) through its Router, in-process: tokens (none, bad,
// another user's), bad ids and queries, and the files it serves (inside the job's folder only,
// a transform's recorded images only while they are what the job wrote).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "http/dashboard.h"
#include "service/job_files.h"
#include "store/job_queue.h"
#include "store/migrations.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace http = fcd::http;
using nlohmann::json;

void write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_ / "data";
    fs::create_directories(data_);
    fs::create_directories(tmp_ / "photos");
    db_ = std::make_unique<fcd::Database>(data_ + "/facecycle.db");
    fcd::apply_migrations(*db_);
    queue_ = std::make_unique<fcd::JobQueue>(*db_);
    auth_ = std::make_unique<fcd::Auth>(*db_);
    alice_ = auth_->add_token("alice", false);
    bob_ = auth_->add_token("bob", false);
    admin_ = auth_->add_token("root", true);
    roots_.set_data_dir(data_);
    roots_.add(tmp_ / "photos");
    models_ = std::make_unique<fcd::ModelRegistry>(*db_, std::vector<std::string>{tmp_ / "models"},
                                                   nullptr);
    http::add_dashboard_routes(
        router_, {data_ + "/jobs", *queue_, *auth_, *models_, roots_, "host-a:" + data_});
  }

  http::Response get(const std::string& target, const std::string& token = "") {
    http::Request req{http::bhttp::verb::get, target, 11};
    if (!token.empty()) req.set(http::bhttp::field::authorization, "Bearer " + token);
    return router_.route(req);
  }
  int status(const std::string& target, const std::string& token) {
    return static_cast<int>(get(target, token).result_int());
  }
  json get_json(const std::string& target, const std::string& token) {
    auto res = get(target, token);
    EXPECT_EQ(res.result_int(), 200u) << target << ": " << res.body();
    return json::parse(res.body(), nullptr, false);
  }

  int64_t train_job(const std::string& owner) {
    json req{
        {"config_toml", "[[stages]]\nsize = 16\nsteps = 6\n[[stages]]\nsize = 32\nsteps = 4\n"},
        {"run_name", "r-" + owner},
        {"tags", {"t"}}};
    return queue_->submit(fcd::JobKind::kTrain, owner, 0, req.dump(), data_ + "/models",
                          {{"cfg.toml", data_ + "/models"}});
  }
  // One finished item: photos/in.png -> photos/out.png, its SHA-256 recorded as the runner does.
  int64_t transform_job(const std::string& owner) {
    write(tmp_ / "photos/in.png", "input-bytes.png");
    write(tmp_ / "photos/out.png", "output-bytes.png");
    json req{{"task", "age"}, {"output_dir", tmp_ / "photos"}};
    int64_t id = queue_->submit(fcd::JobKind::kTransform, owner, 0, req.dump(), tmp_ / "photos",
                                {{tmp_ / "photos/in.png", tmp_ / "photos/out.png"}});
    auto c = queue_->claim("w", false, true);
    EXPECT_TRUE(c);
    json report{{"sha256", fcd::sha256_hex("output-bytes.png")}, {"faces_found", 1}};
    queue_->finish_item(id, 0, fcd::ItemOutcome::kSucceeded, "", report.dump());
    queue_->finalize_job(id);
    return id;
  }

  fcd_test::TempDir tmp_;
  std::string data_;
  std::unique_ptr<fcd::Database> db_;
  std::unique_ptr<fcd::JobQueue> queue_;
  std::unique_ptr<fcd::Auth> auth_;
  std::unique_ptr<fcd::ModelRegistry> models_;
  fcd::AllowedRoots roots_;
  http::Router router_;
  std::string alice_, bob_, admin_;
};

TEST_F(DashboardApiTest, ThePageIsPublicAndTheApiNeedsAToken) {
  auto page = get("/");
  EXPECT_EQ(page.result_int(), 200u);
  EXPECT_NE(page.body().find("<script src=\"/dashboard.js\""), std::string::npos);
  EXPECT_NE(std::string(page["Content-Security-Policy"]).find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(get("/dashboard.js").result_int(), 200u);
  EXPECT_EQ(get("/dashboard.css").result_int(), 200u);

  for (const char* path : {"/api/jobs", "/api/jobs/1", "/api/models", "/api/whoami",
                           "/api/runs/compare?ids=1,2", "/api/nothing"}) {
    EXPECT_EQ(status(path, ""), 401) << path;
    EXPECT_EQ(status(path, "fc_not-a-token"), 401) << path;
  }
  auto refusal = get("/api/jobs");
  EXPECT_EQ(std::string(refusal[http::bhttp::field::www_authenticate]).rfind("Bearer", 0), 0u);
  EXPECT_EQ(get_json("/api/whoami", alice_)["user"], "alice");
  EXPECT_EQ(status("/api/nothing", alice_), 404);
}

TEST_F(DashboardApiTest, AUserSeesOnlyTheirOwnJobsAndAnAdminSeesAll) {
  const int64_t a = train_job("alice");
  const int64_t b = transform_job("bob");
  auto ids = [&](const std::string& token) {
    std::vector<int64_t> out;
    const json list = get_json("/api/jobs", token);
    for (const auto& j : list["jobs"]) out.push_back(j["id"]);
    return out;
  };
  EXPECT_EQ(ids(alice_), std::vector<int64_t>{a});
  EXPECT_EQ(ids(bob_), std::vector<int64_t>{b});
  EXPECT_EQ(ids(admin_).size(), 2u);
  // Another user's job answers as a missing one, on every path under it.
  for (const std::string sub : {"", "/items", "/metrics", "/file?path=metrics.csv"}) {
    EXPECT_EQ(status("/api/jobs/" + std::to_string(a) + sub, bob_), 404) << sub;
    EXPECT_EQ(status("/api/jobs/" + std::to_string(a) + sub, alice_) == 404,
              sub == "/file?path=metrics.csv")
        << sub << ": the owner reaches it (no metrics.csv written here)";
  }
  EXPECT_EQ(status("/api/jobs/" + std::to_string(b) + "/image?idx=0&side=output", alice_), 404);
  EXPECT_EQ(status("/api/runs/compare?ids=" + std::to_string(a) + "," + std::to_string(b), bob_),
            404);

  const json job = get_json("/api/jobs/" + std::to_string(a), alice_);
  EXPECT_EQ(job["job"]["run_name"], "r-alice");
  ASSERT_EQ(job["train"]["stages"].size(), 2u);
  EXPECT_EQ(job["train"]["stages"][1]["start"], 6) << "the second stage starts after 6 steps";
  const json counts = get_json("/api/jobs", admin_)["counts"];
  EXPECT_EQ(counts.value("queued", 0) + counts.value("succeeded", 0), 2);
}

TEST_F(DashboardApiTest, BadIdsAndQueriesAreRefusedWith4xx) {
  const int64_t t = transform_job("alice");
  const std::string job = "/api/jobs/" + std::to_string(t);
  for (const std::string& path : std::vector<std::string>{
           "/api/jobs/abc",
           "/api/jobs/-1",
           "/api/jobs/0",
           "/api/jobs/1x",
           "/api/jobs/+1",
           "/api/jobs/99999999999999999999999",
           "/api/jobs?limit=0",
           "/api/jobs?limit=abc",
           "/api/jobs?kind=photo",
           "/api/jobs?state=done",
           job + "/items?offset=-1",
           job + "/items?limit=100000",
           job + "/items?state=x",
           job + "/file",
           job + "/image?idx=-2",
           job + "/image?idx=0&side=left",
           "/api/runs/compare?ids=1",
           "/api/runs/compare?ids=",
           "/api/runs/compare?ids=1,2,3,4,5",
           "/api/runs/compare?ids=" + std::to_string(t) + ",a",
           "/api/runs/compare?ids=" + std::to_string(t) + "," + std::to_string(t)}) {
    const int s = status(path, alice_);
    EXPECT_GE(s, 400) << path;
    EXPECT_LT(s, 500) << path;
  }
  EXPECT_EQ(status("/api/jobs/424242", alice_), 404);
  EXPECT_EQ(status(job + "/nothing", alice_), 404);
  EXPECT_EQ(status(job + "/image?idx=7", alice_), 404);
  EXPECT_EQ(status(job + "/metrics", alice_), 404) << "a transform has no metrics";
  const int64_t r = train_job("alice");
  EXPECT_EQ(status("/api/runs/compare?ids=" + std::to_string(t) + "," + std::to_string(r), alice_),
            400)
      << "a transform is not a run";
  EXPECT_EQ(get_json("/api/runs/compare?ids=" + std::to_string(r) + "," + std::to_string(r + 0) +
                         "," + std::to_string(train_job("alice")),
                     alice_)["runs"]
                .size(),
            2u)
      << "an id given twice counts once";
}

TEST_F(DashboardApiTest, JobFilesAreServedFromInsideTheJobFolderOnly) {
  const int64_t id = train_job("alice");
  const std::string dir = fcd::job_folder(data_ + "/jobs", id);
  write(dir + "/samples.png", "png-bytes");
  std::string csv = "step,age/loss_G,lr\n";
  for (int s = 1; s <= 1000; ++s) csv += std::to_string(s) + "," + std::to_string(1.0 / s) + ",\n";
  write(dir + "/metrics.csv", csv);
  write(tmp_ / "secret.txt", "secret");
  fs::create_symlink(tmp_ / "secret.txt", dir + "/link.png");
  const std::string job = "/api/jobs/" + std::to_string(id);

  auto png = get(job + "/file?path=samples.png", alice_);
  EXPECT_EQ(png.result_int(), 200u);
  EXPECT_EQ(png.body(), "png-bytes");
  EXPECT_EQ(std::string(png[http::bhttp::field::content_type]), "image/png");
  EXPECT_EQ(status(job + "/file?path=..%2F..%2Ffacecycle.db", alice_), 403);
  EXPECT_EQ(status(job + "/file?path=%2Fetc%2Fpasswd", alice_), 403);
  EXPECT_EQ(status(job + "/file?path=link.png", alice_), 403) << "a symlink out of the folder";
  EXPECT_EQ(status(job + "/file?path=missing.png", alice_), 404);
  EXPECT_EQ(status(job + "/file?path=samples.png", bob_), 404);

  const json m = get_json(job + "/metrics?points=100", alice_);
  EXPECT_EQ(m["rows"], 1000);
  EXPECT_EQ(m["steps"].size(), 100u) << "thinned to the points asked for";
  EXPECT_EQ(m["steps"].back(), 1000);
  EXPECT_EQ(m["columns"], json({"age/loss_G", "lr"}));
  EXPECT_TRUE(m["series"]["lr"][0].is_null()) << "a column with no value in a bucket";
  EXPECT_NEAR(m["series"]["age/loss_G"][99].get<double>(), 0.00105, 1e-4);
}

// A training job another daemon ran has its folder in that daemon's data dir: the job page says
// so instead of "no pictures yet".
TEST_F(DashboardApiTest, ATrainingJobFromAnotherDaemonSaysWhereItRan) {
  const int64_t id = train_job("alice");
  const std::string job = "/api/jobs/" + std::to_string(id);
  EXPECT_EQ(get_json(job, alice_)["train"].value("elsewhere", "?"), "") << "not run yet";
  queue_->set_result(id, R"({"ran_on": "host-b:/srv/fc"})");
  EXPECT_NE(get_json(job, alice_)["train"]
                .value("elsewhere", "")
                .find("ran on the daemon at host-b:/srv/fc"),
            std::string::npos);
  queue_->set_result(id, json{{"ran_on", "host-a:" + data_}}.dump());
  EXPECT_EQ(get_json(job, alice_)["train"].value("elsewhere", "?"), "") << "it ran here";
}

TEST_F(DashboardApiTest, TransformImagesAreServedOnlyWhileTheyAreWhatTheJobRecorded) {
  const int64_t id = transform_job("alice");
  const std::string job = "/api/jobs/" + std::to_string(id);
  EXPECT_EQ(get(job + "/image?idx=0&side=input", alice_).body(), "input-bytes.png");
  EXPECT_EQ(get(job + "/image?idx=0&side=output", alice_).body(), "output-bytes.png");
  EXPECT_EQ(get(job + "/image?idx=0&side=output", admin_).result_int(), 200u);
  const json items = get_json(job + "/items", alice_);
  EXPECT_EQ(items["total"], 1);
  EXPECT_EQ(items["items"][0]["faces_found"], 1);

  write(tmp_ / "photos/out.png", "someone else's bytes");
  EXPECT_EQ(status(job + "/image?idx=0&side=output", alice_), 409) << "changed since";
  // A recorded input replaced by a link into the data dir (the database) is refused.
  fs::remove(tmp_ / "photos/in.png");
  fs::create_symlink(data_ + "/facecycle.db", tmp_ / "photos/in.png");
  EXPECT_EQ(status(job + "/image?idx=0&side=input", alice_), 403);
  EXPECT_EQ(status(job + "/image?sheet=1", alice_), 404) << "no contact sheet recorded";
}

TEST_F(DashboardApiTest, ModelsListEveryCardAndTheActiveOne) {
  write(tmp_ / "models/m1.pt", "weights");
  write(tmp_ / "models/m1.card.json", R"({"name": "m1", "metrics": {"tasks": {}}})");
  models_->scan();
  const json m = get_json("/api/models", bob_);
  ASSERT_EQ(m["models"].size(), 1u) << m.dump();
  EXPECT_EQ(m["models"][0]["name"], "m1");
  EXPECT_EQ(m["models"][0]["card"]["name"], "m1");
}

}  // namespace
