// JobStore::retry_failed and item_page: only failed items run again; pages of a large job.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "store_backends.h"

namespace {

using fcd::ItemOutcome;
using fcd::ItemState;
using fcd::JobKind;
using fcd::JobState;
using fcd::RetryVerdict;

template <typename Backend>
class JobRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    queue_ = backend_.open();
  }
  int64_t submit(int n, JobKind kind = JobKind::kTransform) {
    std::vector<fcd::NewItem> items;
    for (int i = 0; i < n; ++i) items.push_back({"in" + std::to_string(i), "out"});
    return queue_->submit(kind, "ann", 0, "{}", "/out", items);
  }
  // Runs every queued item; those whose index is in `fail` fail. Returns the indices run.
  std::vector<int> run_all(int64_t job, const std::vector<int>& fail) {
    std::vector<int> ran;
    while (auto c = queue_->claim("w", true, true)) {
      ran.push_back(c->item.idx);
      bool bad = std::find(fail.begin(), fail.end(), c->item.idx) != fail.end();
      if (queue_->finish_item(job, c->item.idx,
                              bad ? ItemOutcome::kFailed : ItemOutcome::kSucceeded,
                              bad ? "broken" : "", bad ? "" : R"({"faces_found":1})"))
        queue_->finalize_job(job);
    }
    return ran;
  }

  Backend backend_;
  std::unique_ptr<fcd::JobStore> queue_;
};
TYPED_TEST_SUITE(JobRetryTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(JobRetryTest, OnlyFailedItemsRunAgain) {
  int64_t job = this->submit(5);
  EXPECT_EQ(this->run_all(job, {1, 3}).size(), 5u);
  ASSERT_EQ(this->queue_->get_job(job)->items_failed, 2);

  auto r = this->queue_->retry_failed(job, "ann");
  ASSERT_EQ(r.verdict, RetryVerdict::kRequeued);
  EXPECT_EQ(r.requeued, 2);
  EXPECT_EQ(r.job.state, JobState::kQueued);
  EXPECT_GT(r.event_id, 0);
  EXPECT_TRUE(this->queue_->state_event_after(job, r.event_id - 1));
  EXPECT_FALSE(this->queue_->state_event_after(job, r.event_id));

  EXPECT_EQ(this->run_all(job, {}), (std::vector<int>{1, 3}));
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.items_done, 5);
  EXPECT_EQ(j.items_failed, 0);
  EXPECT_TRUE(j.error.empty());
  auto items = this->queue_->items(job);
  EXPECT_EQ(items[0].attempts, 1) << "a succeeded item must not run again";
  EXPECT_EQ(items[1].attempts, 2);
  EXPECT_TRUE(items[1].error.empty());
  EXPECT_EQ(nlohmann::json::parse(j.result_json)["summary"]["items_failed"], 0);
}

TYPED_TEST(JobRetryTest, AFailedJobFailingAgainStaysFailedWithItsError) {
  int64_t job = this->submit(2);
  this->run_all(job, {0, 1});
  ASSERT_EQ(this->queue_->get_job(job)->state, JobState::kFailed);
  ASSERT_EQ(this->queue_->retry_failed(job, "ann").verdict, RetryVerdict::kRequeued);
  EXPECT_TRUE(this->queue_->get_job(job)->error.empty());
  this->run_all(job, {0, 1});
  auto j = *this->queue_->get_job(job);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_NE(j.error.find("broken"), std::string::npos) << j.error;
  EXPECT_EQ(this->queue_->items(job)[0].attempts, 2);
}

TYPED_TEST(JobRetryTest, RefusesOpenCancelledTrainAndCleanJobs) {
  EXPECT_EQ(this->queue_->retry_failed(999, "ann").verdict, RetryVerdict::kNoSuchJob);

  int64_t open = this->submit(2);
  EXPECT_EQ(this->queue_->retry_failed(open, "ann").verdict, RetryVerdict::kStillOpen);
  this->run_all(open, {});
  EXPECT_EQ(this->queue_->retry_failed(open, "ann").verdict, RetryVerdict::kNoneFailed);

  int64_t cancelled = this->submit(2);
  auto c = this->queue_->claim("w", true, true);
  this->queue_->finish_item(cancelled, c->item.idx, ItemOutcome::kFailed, "broken", "");
  ASSERT_TRUE(this->queue_->cancel_job(cancelled, "ann"));
  EXPECT_EQ(this->queue_->retry_failed(cancelled, "ann").verdict, RetryVerdict::kCancelled);
  EXPECT_EQ(this->queue_->get_job(cancelled)->state, JobState::kCancelled);

  int64_t train = this->submit(1, JobKind::kTrain);
  this->run_all(train, {0});
  EXPECT_EQ(this->queue_->retry_failed(train, "ann").verdict, RetryVerdict::kNotTransform);
  EXPECT_EQ(this->queue_->get_job(train)->state, JobState::kFailed);
}

TYPED_TEST(JobRetryTest, ItemPagesFilterAndCount) {
  int64_t job = this->submit(30);
  this->run_all(job, {3, 17, 25});
  auto first = this->queue_->item_page(job, std::nullopt, 0, 20);
  EXPECT_EQ(first.total, 30);
  ASSERT_EQ(first.items.size(), 20u);
  EXPECT_EQ(first.items.front().idx, 0);
  auto rest = this->queue_->item_page(job, std::nullopt, 20, 20);
  ASSERT_EQ(rest.items.size(), 10u);
  EXPECT_EQ(rest.items.front().idx, 20);

  auto failed = this->queue_->item_page(job, ItemState::kFailed, 1, 20);
  EXPECT_EQ(failed.total, 3);
  ASSERT_EQ(failed.items.size(), 2u);
  EXPECT_EQ(failed.items[0].idx, 17);
  EXPECT_EQ(failed.items[1].error, "broken");
  EXPECT_TRUE(this->queue_->item_page(job, std::nullopt, 40, 20).items.empty());
}

}  // namespace
