#include <gtest/gtest.h>

#include <memory>

#include "store/job_queue.h"
#include "store/migrations.h"
#include "temp_dir.h"

namespace {

using fcd::EventType;
using fcd::ItemOutcome;
using fcd::ItemState;
using fcd::JobKind;
using fcd::JobState;

class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    queue_.reset();
    db_ = std::make_unique<fcd::Database>(dir_ / "q.db");
    fcd::apply_migrations(*db_);
    queue_ = std::make_unique<fcd::JobQueue>(*db_);
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

  fcd_test::TempDir dir_;
  std::unique_ptr<fcd::Database> db_;
  std::unique_ptr<fcd::JobQueue> queue_;
};

TEST_F(JobQueueTest, HigherPriorityFirstThenFifo) {
  int64_t a = submit(0, 2);
  int64_t b = submit(5, 1);
  int64_t c = submit(0, 1);
  int64_t d = submit(5, 1);
  std::vector<std::pair<int64_t, int>> order;
  while (auto cl = queue_->claim("w", true, true)) order.emplace_back(cl->job.id, cl->item.idx);
  std::vector<std::pair<int64_t, int>> expected{{b, 0}, {d, 0}, {a, 0}, {a, 1}, {c, 0}};
  EXPECT_EQ(order, expected);
}

TEST_F(JobQueueTest, ClaimStartsJobAndCompletionFinishesIt) {
  int64_t job = submit(0, 2);
  EXPECT_EQ(state(job), JobState::kQueued);
  auto c1 = claim();
  EXPECT_EQ(c1.item.state, ItemState::kRunning);
  EXPECT_EQ(c1.item.attempts, 1);
  EXPECT_EQ(state(job), JobState::kRunning);
  EXPECT_FALSE(queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", R"({"faces_found":1})"));
  auto c2 = claim();
  EXPECT_TRUE(queue_->finish_item(job, 1, ItemOutcome::kSucceeded, "", "{}"))
      << "closing the last item must tell the caller to finalize";
  EXPECT_EQ(state(job), JobState::kRunning);
  queue_->finalize_job(job, {{"extra", 1}});
  auto j = *queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_done, 2);
  EXPECT_GT(j.finished_ms, 0);
  auto result = nlohmann::json::parse(j.result_json);
  EXPECT_EQ(result["extra"], 1);
  EXPECT_EQ(result["summary"]["items_succeeded"], 2);
  EXPECT_EQ(queue_->items(job)[0].report_json, R"({"faces_found":1})");
}

TEST_F(JobQueueTest, AllItemsFailedMeansJobFailed) {
  int64_t job = submit(0, 2);
  claim();
  claim();
  queue_->finish_item(job, 0, ItemOutcome::kFailed, "not an image", "");
  EXPECT_TRUE(queue_->finish_item(job, 1, ItemOutcome::kFailed, "no such file", ""));
  queue_->finalize_job(job);
  auto j = *queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_EQ(j.items_failed, 2);
  EXPECT_NE(j.error.find("not an image"), std::string::npos) << j.error;
  auto items = queue_->items(job);
  EXPECT_EQ(items[1].error, "no such file");
}

TEST_F(JobQueueTest, SomeItemsFailedMeansSucceededWithCount) {
  int64_t job = submit(0, 3);
  for (int i = 0; i < 3; ++i) claim();
  queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  queue_->finish_item(job, 1, ItemOutcome::kFailed, "bad", "");
  queue_->finish_item(job, 2, ItemOutcome::kSucceeded, "", "{}");
  queue_->finalize_job(job);
  auto j = *queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_failed, 1);
  auto summary = nlohmann::json::parse(j.result_json)["summary"];
  EXPECT_NE(summary.value("note", "").find("1 of 3 items failed"), std::string::npos);
}

TEST_F(JobQueueTest, CancelEndsQueuedItemsAndStopsClaims) {
  int64_t job = submit(0, 3);
  auto running = claim();
  EXPECT_TRUE(queue_->cancel_job(job, "ann"));
  EXPECT_EQ(state(job), JobState::kCancelled);
  EXPECT_FALSE(queue_->claim("w", true, true)) << "a cancelled job's items must not be claimed";
  // The in-flight item reports back later; the job stays cancelled.
  EXPECT_FALSE(
      queue_->finish_item(job, running.item.idx, ItemOutcome::kCancelled, "cancelled", ""));
  auto j = *queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kCancelled);
  EXPECT_EQ(j.items_cancelled, 3);
  EXPECT_FALSE(queue_->cancel_job(job, "ann")) << "cancelling an ended job is refused";
}

TEST_F(JobQueueTest, FinishedItemsStayFinishedWhenCancelled) {
  int64_t job = submit(0, 2);
  claim();
  queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  queue_->cancel_job(job, "ann");
  auto items = queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kSucceeded);
  EXPECT_EQ(items[1].state, ItemState::kCancelled);
}

TEST_F(JobQueueTest, CrashRecoveryRequeuesRunningItemsAndCompletesEachOnce) {
  int64_t job = submit(0, 3);
  claim();
  queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  claim();  // item 1 in flight when the daemon is killed
  open();   // a new daemon on the same file
  auto rec = queue_->recover();
  EXPECT_EQ(rec.items_requeued, 1);
  auto items = queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kSucceeded);
  EXPECT_EQ(items[1].state, ItemState::kQueued);
  EXPECT_EQ(items[1].attempts, 1);
  EXPECT_EQ(state(job), JobState::kRunning) << "a job with finished items stays running";

  auto again = claim();
  EXPECT_EQ(again.item.idx, 1);
  EXPECT_EQ(again.item.attempts, 2);
  queue_->finish_item(job, 1, ItemOutcome::kSucceeded, "", "{}");
  claim();
  EXPECT_TRUE(queue_->finish_item(job, 2, ItemOutcome::kSucceeded, "", "{}"));
  // A stale completion of an item that is no longer running is ignored.
  EXPECT_FALSE(queue_->finish_item(job, 1, ItemOutcome::kFailed, "late", ""));
  queue_->finalize_job(job);
  auto j = *queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_done, 3);
}

TEST_F(JobQueueTest, RecoveryPutsUnstartedJobBackToQueued) {
  int64_t job = submit(0, 1);
  claim();
  open();
  queue_->recover();
  EXPECT_EQ(state(job), JobState::kQueued);
}

TEST_F(JobQueueTest, RecoveryFinalizesJobsWhoseItemsAllEnded) {
  int64_t job = submit(0, 1);
  claim();
  EXPECT_TRUE(queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}"));
  open();  // killed before finalize_job
  auto rec = queue_->recover();
  ASSERT_EQ(rec.jobs_to_finalize.size(), 1u);
  queue_->finalize_job(rec.jobs_to_finalize[0]);
  EXPECT_EQ(state(job), JobState::kSucceeded);
}

TEST_F(JobQueueTest, RecoveryCancelsInFlightItemsOfCancelledJobs) {
  int64_t job = submit(0, 2);
  claim();
  queue_->cancel_job(job, "ann");
  open();
  EXPECT_EQ(queue_->recover().items_requeued, 0);
  EXPECT_EQ(queue_->items(job)[0].state, ItemState::kCancelled);
}

TEST_F(JobQueueTest, ReleaseHandsAnItemBack) {
  int64_t job = submit(0, 1, JobKind::kTrain);
  claim();
  queue_->release_item(job, 0, "stopping");
  auto items = queue_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kQueued);
  EXPECT_EQ(state(job), JobState::kRunning);
}

TEST_F(JobQueueTest, TrainItemsOnlyWhenAllowed) {
  int64_t train = submit(10, 1, JobKind::kTrain);
  int64_t transform = submit(0, 1, JobKind::kTransform);
  auto c = queue_->claim("w", /*allow_train=*/false, true);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->job.id, transform);
  EXPECT_FALSE(queue_->claim("w", false, true));
  auto t = queue_->claim("w", true, true);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->job.id, train);
  EXPECT_EQ(queue_->count_running(JobKind::kTrain), 1);
}

TEST_F(JobQueueTest, EventsAreOrderedAndResumable) {
  int64_t job = submit(0, 1);
  int64_t other = submit(0, 1);
  claim();
  queue_->add_event(job, EventType::kMetric, {{"metric_name", "loss"}, {"metric_value", 0.5}});
  queue_->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}");
  queue_->finalize_job(job);
  auto all = queue_->events_after(job, 0, 100);
  ASSERT_GE(all.size(), 5u);  // queued, running, metric, item, succeeded
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].id, all[i - 1].id);
  for (const auto& e : all) EXPECT_EQ(e.job_id, job);
  EXPECT_EQ(all.front().type, EventType::kState);
  EXPECT_EQ(all.back().type, EventType::kState);
  EXPECT_EQ(all.back().payload["job"]["state"], "succeeded");
  // Resuming after the third event gives exactly the rest.
  auto rest = queue_->events_after(job, all[2].id, 100);
  ASSERT_EQ(rest.size(), all.size() - 3);
  EXPECT_EQ(rest.front().id, all[3].id);
  EXPECT_EQ(queue_->events_after(other, 0, 100).size(), 1u);
}

TEST_F(JobQueueTest, ListJobsFiltersByOwnerStateAndKind) {
  submit(0, 1, JobKind::kTransform, "ann");
  int64_t b = submit(0, 1, JobKind::kTransform, "bob");
  int64_t run = submit(0, 1, JobKind::kTrain, "ann");
  EXPECT_EQ(queue_->list_jobs("", std::nullopt, 10).size(), 3u);
  auto runs = queue_->list_jobs("", std::nullopt, 10, JobKind::kTrain);
  ASSERT_EQ(runs.size(), 1u) << "`facecycle runs` lists training jobs only";
  EXPECT_EQ(runs[0].id, run);
  EXPECT_EQ(queue_->list_jobs("bob", std::nullopt, 10, JobKind::kTrain).size(), 0u);
  auto bobs = queue_->list_jobs("bob", std::nullopt, 10);
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].id, b);
  EXPECT_EQ(queue_->list_jobs("", JobState::kRunning, 10).size(), 0u);
}

}  // namespace
