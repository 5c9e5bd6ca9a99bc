#include <gtest/gtest.h>

#include <memory>

#include "store_backends.h"

namespace {

using fcd::EventType;
using fcd::ItemOutcome;
using fcd::ItemState;
using fcd::JobKind;
using fcd::JobState;

template <typename Backend>
class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    open();
  }
  void open() {  // a daemon (re)starting on the same database
    queue_.reset();
    queue_ = backend_.open();
  }
  int64_t submit(int priority, int n, JobKind kind = JobKind::kTransform,
                 const std::string& owner = "ann") {
    std::vector<fcd::NewItem> items;
    for (int i = 0; i < n; ++i) items.push_back({"in" + std::to_string(i), "out"});
    return queue_->submit(kind, owner, priority, "{}", "/out", items);
  }
  fcd::Claim claim(bool train = true) {
    auto c = queue_->claim("w", train, true);
    EXPECT_TRUE(c);
    return c ? *c : fcd::Claim{};
  }
  JobState state(int64_t job) { return queue_->get_job(job)->state; }

  Backend backend_;
  std::unique_ptr<fcd::JobStore> queue_;
};
TYPED_TEST_SUITE(JobQueueTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(JobQueueTest, HigherPriorityFirstThenFifo) {
  int64_t a = this->submit(0, 2);
  int64_t b = this->submit(5, 1);
  int64_t c = this->submit(0, 1);
  int64_t d = this->submit(5, 1);
  std::vector<std::pair<int64_t, int>> order;
  while (auto cl = this->queue_->claim("w", true, true))
    order.emplace_back(cl->job.id, cl->item.idx);
  std::vector<std::pair<int64_t, int>> expected{{b, 0}, {d, 0}, {a, 0}, {a, 1}, {c, 0}};
  EXPECT_EQ(order, expected);
}

TYPED_TEST(JobQueueTest, ClaimStartsJobAndCompletionFinishesIt) {
  int64_t job = this->submit(0, 2);
  EXPECT_EQ(this->state(job), JobState::kQueued);
  auto c1 = this->claim();
  EXPECT_EQ(c1.item.state, ItemState::kRunning);
  EXPECT_EQ(c1.item.attempts, 1);
  EXPECT_EQ(this->state(job), JobState::kRunning);
  EXPECT_FALSE(
      this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", R"({"faces_found":1})"));
  auto c2 = this->claim();
  EXPECT_TRUE(this->queue_->finish_item(job, 1, ItemOutcome::kSucceeded, "", "{}"))
      << "closing the last item must tell the caller to finalize";
  EXPECT_EQ(this->state(job), JobState::kRunning);
  this->queue_->finalize_job(job, {{"extra", 1}});
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_done, 2);
  EXPECT_GT(j.finished_ms, 0);
  auto result = nlohmann::json::parse(j.result_json);
  EXPECT_EQ(result["extra"], 1);
  EXPECT_EQ(result["summary"]["items_succeeded"], 2);
  EXPECT_EQ(this->queue_->items(job)[0].report_json, R"({"faces_found":1})");
}

TYPED_TEST(JobQueueTest, AllItemsFailedMeansJobFailed) {
  int64_t job = this->submit(0, 2);
  this->claim();
  this->claim();
  this->queue_->finish_item(job, 0, ItemOutcome::kFailed, "not an image", "");
  EXPECT_TRUE(this->queue_->finish_item(job, 1, ItemOutcome::kFailed, "no such file", ""));
  this->queue_->finalize_job(job);
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_EQ(j.items_failed, 2);
  EXPECT_NE(j.error.find("not an image"), std::string::npos) << j.error;
  auto items = this->queue_->items(job);
  EXPECT_EQ(items[1].error, "no such file");
}

TYPED_TEST(JobQueueTest, SomeItemsFailedMeansSucceededWithCount) {
  int64_t job = this->submit(0, 3);
  for (int i = 0; i < 3; ++i) this->claim();
  this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  this->queue_->finish_item(job, 1, ItemOutcome::kFailed, "bad", "");
  this->queue_->finish_item(job, 2, ItemOutcome::kSucceeded, "", "{}");
  this->queue_->finalize_job(job);
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_failed, 1);
  auto summary = nlohmann::json::parse(j.result_json)["summary"];
  EXPECT_NE(summary.value("note", "").find("1 of 3 items failed"), std::string::npos);
}

TYPED_TEST(JobQueueTest, CancelEndsQueuedItemsAndStopsClaims) {
  int64_t job = this->submit(0, 3);
  auto running = this->claim();
  EXPECT_TRUE(this->queue_->cancel_job(job, "ann"));
  EXPECT_EQ(this->state(job), JobState::kCancelled);
  EXPECT_FALSE(this->queue_->claim("w", true, true))
      << "a cancelled job's items must not be claimed";
  // The in-flight item reports back later; the job stays cancelled.
  EXPECT_FALSE(
      this->queue_->finish_item(job, running.item.idx, ItemOutcome::kCancelled, "cancelled", ""));
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kCancelled);
  EXPECT_EQ(j.items_cancelled, 3);
  EXPECT_FALSE(this->queue_->cancel_job(job, "ann")) << "cancelling an ended job is refused";
}

TYPED_TEST(JobQueueTest, FinishedItemsStayFinishedWhenCancelled) {
  int64_t job = this->submit(0, 2);
  this->claim();
  this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  this->queue_->cancel_job(job, "ann");
  auto items = this->queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kSucceeded);
  EXPECT_EQ(items[1].state, ItemState::kCancelled);
}

TYPED_TEST(JobQueueTest, CrashRecoveryRequeuesRunningItemsAndCompletesEachOnce) {
  int64_t job = this->submit(0, 3);
  this->claim();
  this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  this->claim();  // item 1 in flight when the daemon is killed
  this->open();   // a new daemon on the same file
  auto rec = this->queue_->recover();
  EXPECT_EQ(rec.items_requeued, 1);
  auto items = this->queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kSucceeded);
  EXPECT_EQ(items[1].state, ItemState::kQueued);
  EXPECT_EQ(items[1].attempts, 1);
  EXPECT_EQ(this->state(job), JobState::kRunning) << "a job with finished items stays running";

  auto again = this->claim();
  EXPECT_EQ(again.item.idx, 1);
  EXPECT_EQ(again.item.attempts, 2);
  this->queue_->finish_item(job, 1, ItemOutcome::kSucceeded, "", "{}");
  this->claim();
  EXPECT_TRUE(this->queue_->finish_item(job, 2, ItemOutcome::kSucceeded, "", "{}"));
  // A stale completion of an item that is no longer running is ignored.
  EXPECT_FALSE(this->queue_->finish_item(job, 1, ItemOutcome::kFailed, "late", ""));
  this->queue_->finalize_job(job);
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_done, 3);
}

TYPED_TEST(JobQueueTest, RecoveryPutsUnstartedJobBackToQueued) {
  int64_t job = this->submit(0, 1);
  this->claim();
  this->open();
  this->queue_->recover();
  EXPECT_EQ(this->state(job), JobState::kQueued);
}

TYPED_TEST(JobQueueTest, RecoveryFinalizesJobsWhoseItemsAllEnded) {
  int64_t job = this->submit(0, 1);
  this->claim();
  EXPECT_TRUE(this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}"));
  this->open();  // killed before finalize_job
  auto rec = this->queue_->recover();
  ASSERT_EQ(rec.jobs_to_finalize.size(), 1u);
  this->queue_->finalize_job(rec.jobs_to_finalize[0]);
  EXPECT_EQ(this->state(job), JobState::kSucceeded);
}

TYPED_TEST(JobQueueTest, RecoveryCancelsInFlightItemsOfCancelledJobs) {
  int64_t job = this->submit(0, 2);
  this->claim();
  this->queue_->cancel_job(job, "ann");
  this->open();
  EXPECT_EQ(this->queue_->recover().items_requeued, 0);
  EXPECT_EQ(this->queue_->items(job)[0].state, ItemState::kCancelled);
}

TYPED_TEST(JobQueueTest, ReleaseHandsAnItemBack) {
  int64_t job = this->submit(0, 1, JobKind::kTrain);
  this->claim();
  this->queue_->release_item(job, 0, "stopping");
  auto items = this->queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kQueued);
  EXPECT_EQ(this->state(job), JobState::kRunning);
}

TYPED_TEST(JobQueueTest, TrainItemsOnlyWhenAllowed) {
  int64_t train = this->submit(10, 1, JobKind::kTrain);
  int64_t transform = this->submit(0, 1, JobKind::kTransform);
  auto c = this->queue_->claim("w", /*allow_train=*/false, true);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->job.id, transform);
  EXPECT_FALSE(this->queue_->claim("w", false, true));
  auto t = this->queue_->claim("w", true, true);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->job.id, train);
  EXPECT_EQ(this->queue_->count_running(JobKind::kTrain), 1);
}

TYPED_TEST(JobQueueTest, EventsAreOrderedAndResumable) {
  int64_t job = this->submit(0, 1);
  int64_t other = this->submit(0, 1);
  this->claim();
  this->queue_->add_event(job, EventType::kMetric,
                          {{"metric_name", "loss"}, {"metric_value", 0.5}});
  this->queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  this->queue_->finalize_job(job);
  auto all = this->queue_->events_after(job, 0, 100);
  ASSERT_GE(all.size(), 5u);  // queued, running, metric, item, succeeded
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].id, all[i - 1].id);
  for (const auto& e : all) EXPECT_EQ(e.job_id, job);
  EXPECT_EQ(all.front().type, EventType::kState);
  EXPECT_EQ(all.back().type, EventType::kState);
  EXPECT_EQ(all.back().payload["job"]["state"], "succeeded");
  // Resuming after the third event gives exactly the rest.
  auto rest = this->queue_->events_after(job, all[2].id, 100);
  ASSERT_EQ(rest.size(), all.size() - 3);
  EXPECT_EQ(rest.front().id, all[3].id);
  EXPECT_EQ(this->queue_->events_after(other, 0, 100).size(), 1u);
}

TYPED_TEST(JobQueueTest, ListJobsFiltersByOwnerStateAndKind) {
  this->submit(0, 1, JobKind::kTransform, "ann");
  int64_t b = this->submit(0, 1, JobKind::kTransform, "bob");
  int64_t run = this->submit(0, 1, JobKind::kTrain, "ann");
  EXPECT_EQ(this->queue_->list_jobs("", std::nullopt, 10).size(), 3u);
  auto runs = this->queue_->list_jobs("", std::nullopt, 10, JobKind::kTrain);
  ASSERT_EQ(runs.size(), 1u) << "`facecycle runs` lists training jobs only";
  EXPECT_EQ(runs[0].id, run);
  EXPECT_EQ(this->queue_->list_jobs("bob", std::nullopt, 10, JobKind::kTrain).size(), 0u);
  auto bobs = this->queue_->list_jobs("bob", std::nullopt, 10);
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].id, b);
  EXPECT_EQ(this->queue_->list_jobs("", JobState::kRunning, 10).size(), 0u);
}

}  // namespace
