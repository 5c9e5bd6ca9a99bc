// The dashboard, the /metrics queue gauges and retention read the job store (issue 18), on both
// back ends: daemon A submits and runs jobs, and daemon B's gauges count them, B's dashboard
// lists them and B's retention prunes A's ended job. Before, these read the daemon's own SQLite
// file, so with a PostgreSQL store B saw an empty queue. On SQLite the two stores are two
// connections to one file, as the daemon's queue and its reading store are.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http/dashboard.h"
#include "metrics/sources.h"
#include "service/job_files.h"
#include "store/database.h"
#include "store/retention.h"
#include "store_backends.h"

namespace {

namespace fs = std::filesystem;
using fcd::ItemOutcome;
using fcd::JobKind;
using nlohmann::json;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// The value of one series in Prometheus text; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

template <typename Backend>
class SharedReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    a_ = backend_.open();
    a_->set_lease_holder(fcd::make_lease_holder("host-a", std::chrono::seconds(60)));
    b_ = backend_.open_another();
    b_->set_lease_holder(fcd::make_lease_holder("host-b", std::chrono::seconds(60)));
  }
  // A transform job of `n` items, submitted through daemon A.
  int64_t submit(const std::string& owner, int n, JobKind kind = JobKind::kTransform) {
    std::vector<fcd::NewItem> items;
    for (int i = 0; i < n; ++i) items.push_back({"in" + std::to_string(i), "out"});
    return a_->submit(kind, owner, 0, "{}", "/out", items);
  }
  // A runs the next queued item; ends it when `finish`.
  void run_one(bool finish) {
    auto c = a_->claim("w", true, true);
    ASSERT_TRUE(c);
    if (finish) a_->finish_item(c->job.id, c->item.idx, ItemOutcome::kSucceeded, "", "{}");
  }
  std::string folder(int64_t id) { return fcd::job_folder(tmp_ / "b/jobs", id); }

  Backend backend_;
  std::unique_ptr<fcd::JobStore> a_, b_;
  fcd_test::TempDir tmp_;
};
TYPED_TEST_SUITE(SharedReadsTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(SharedReadsTest, OneDaemonsGaugesCountAnothersJobs) {
  const int64_t ann = this->submit("ann", 3);
  this->run_one(true);   // ann's item 0 succeeded
  this->run_one(false);  // ann's item 1 running
  this->submit("bob", 2);
  fcd::Metrics metrics;
  metrics.add_source("queue", fcd::queue_source(*this->b_));
  const std::string text = metrics.render();
  EXPECT_EQ(sample(text, R"(facecycle_jobs{kind="transform",state="running"})"), 1) << text;
  EXPECT_EQ(sample(text, R"(facecycle_jobs{kind="transform",state="queued"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_jobs{kind="train",state="queued"})"), 0)
      << "a kind and state with no job reads 0, not absent";
  EXPECT_EQ(sample(text, R"(facecycle_items{state="succeeded"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_items{state="running"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_items{state="queued"})"), 3);
  EXPECT_EQ(sample(text, R"(facecycle_user_running_items{user="ann"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_user_running_items{user="bob"})"), -1)
      << "a user with nothing running has no series";
  EXPECT_EQ(sample(text, R"(facecycle_user_queued_items{user="ann"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_user_queued_items{user="bob"})"), 2);
  // And they follow A's work from scrape to scrape.
  this->a_->finish_item(ann, 1, ItemOutcome::kSucceeded, "", "{}");
  const std::string later = metrics.render();
  EXPECT_EQ(sample(later, R"(facecycle_items{state="succeeded"})"), 2) << later;
  EXPECT_EQ(sample(later, R"(facecycle_user_running_items{user="ann"})"), -1);
}

TYPED_TEST(SharedReadsTest, OneDaemonsDashboardListsAnothersJobs) {
  const int64_t job = this->submit("ann", 3);
  this->run_one(false);
  const int64_t train = this->submit("ann", 1, JobKind::kTrain);
  this->submit("bob", 1);
  fcd::Auth auth(this->backend_.tokens());
  const std::string ann = auth.add_token("ann", false);
  fcd::ModelRegistry models(this->backend_.catalog("host-b"),
                            std::vector<std::string>{this->tmp_ / "models"}, nullptr);
  fcd::AllowedRoots roots;
  roots.set_data_dir(this->tmp_ / "b");
  fcd::http::Router router;
  fcd::http::add_dashboard_routes(
      router, {this->tmp_ / "b/jobs", *this->b_, auth, models, roots, "host-b"});
  auto get = [&](const std::string& target) {
    fcd::http::Request req{fcd::http::bhttp::verb::get, target, 11};
    req.set(fcd::http::bhttp::field::authorization, "Bearer " + ann);
    auto res = router.route(req);
    EXPECT_EQ(res.result_int(), 200u) << target << ": " << res.body();
    return json::parse(res.body(), nullptr, false);
  };

  const json list = get("/api/jobs");
  std::vector<int64_t> ids;
  for (const auto& j : list["jobs"]) ids.push_back(j["id"].get<int64_t>());
  EXPECT_EQ(ids, (std::vector<int64_t>{job, train})) << list.dump(2);
  EXPECT_EQ(list["counts"], (json{{"running", 1}, {"queued", 1}})) << "ann's jobs only";
  const json items = get("/api/jobs/" + std::to_string(job) + "/items?state=queued");
  EXPECT_EQ(items["total"], 2) << items.dump(2);
  EXPECT_EQ(get("/api/jobs/" + std::to_string(job))["job"]["items_running"], 1);

  // A training job's progress is the trainer's newest progress event, written through A.
  auto trainer = this->a_->claim("w", /*allow_train=*/true, /*allow_transform=*/false);
  ASSERT_TRUE(trainer);
  ASSERT_EQ(trainer->job.id, train);
  this->a_->add_event(train, fcd::EventType::kProgress, {{"fraction", 0.1}});
  this->a_->add_event(train, fcd::EventType::kProgress, {{"fraction", 0.25}, {"message", "s"}});
  const json shown = get("/api/jobs/" + std::to_string(train))["job"];
  EXPECT_EQ(shown["state"], "running");
  EXPECT_DOUBLE_EQ(shown["progress"].get<double>(), 0.25) << shown.dump(2);
  EXPECT_EQ(shown["progress_message"], "s");
}

TYPED_TEST(SharedReadsTest, OneDaemonsRetentionPrunesAnothersEndedJob) {
  const int64_t ended = this->submit("ann", 1);
  this->run_one(true);
  this->a_->finalize_job(ended);
  const int64_t open = this->submit("ann", 1);
  for (int64_t id : {ended, open}) {
    fs::create_directories(this->folder(id) + "/checkpoints");
    std::ofstream(this->folder(id) + "/checkpoints/step_100.pt") << "weights";
  }
  const auto events = this->a_->events_after(ended, 0, 1000).size();
  ASSERT_GT(events, 0u);
  const auto open_events = this->a_->events_after(open, 0, 1000).size();

  EXPECT_EQ(this->b_->delete_ended_job_events(open), 0) << "an open job keeps its events";
  auto n =
      fcd::prune_finished_jobs(*this->b_, this->tmp_ / "b/jobs", 30, fcd::now_ms() + 31 * kDayMs);
  EXPECT_EQ(n.jobs, 1);
  EXPECT_EQ(n.events, static_cast<int64_t>(events));
  EXPECT_EQ(n.folders, 1);
  EXPECT_TRUE(this->a_->events_after(ended, 0, 1000).empty()) << "gone for daemon A too";
  EXPECT_FALSE(fs::exists(this->folder(ended)));
  auto kept = this->a_->get_job(ended);
  ASSERT_TRUE(kept) << "the summary row stays";
  EXPECT_EQ(kept->state, fcd::JobState::kSucceeded);
  EXPECT_EQ(kept->items_done, 1);
  EXPECT_EQ(this->a_->items(ended).size(), 1u);
  EXPECT_EQ(this->a_->events_after(open, 0, 1000).size(), open_events);
  EXPECT_TRUE(fs::exists(this->folder(open) + "/checkpoints/step_100.pt"));
  EXPECT_EQ(
      fcd::prune_finished_jobs(*this->b_, this->tmp_ / "b/jobs", 30, fcd::now_ms() + 31 * kDayMs)
          .jobs,
      0)
      << "a second pass finds nothing left to do";
  // A recent end is kept: 30 days have not passed.
  EXPECT_EQ(this->b_->jobs_ended_before(fcd::now_ms() - 30 * kDayMs).size(), 0u);
}

}  // namespace
