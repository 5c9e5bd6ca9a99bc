// Sharing one daemon: owners take turns within a priority, an optional cap on each owner's
// running items, and the priority cap for non-admins.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "service/priority_policy.h"
#include "store/fair_share.h"
#include "store_backends.h"

namespace {

using fcd::ClaimCandidate;
using fcd::JobKind;
using fcd::PriorityVerdict;

TEST(FairShare, HigherPriorityWinsThenFewerRunningThenLongestWaiting) {
  fcd::OwnerTurns turns;
  std::vector<ClaimCandidate> c{{0, "ann", 1, 0}, {5, "bob", 2, 3}};
  EXPECT_EQ(fcd::pick_fair(c, turns, {}), 1u) << "priority comes before fairness";
  c = {{0, "ann", 1, 2}, {0, "bob", 2, 1}};
  EXPECT_EQ(fcd::pick_fair(c, turns, {}), 1u) << "the owner with fewer running items";
  c = {{0, "ann", 1, 0}, {0, "bob", 2, 0}};
  turns.served("ann");
  EXPECT_EQ(fcd::pick_fair(c, turns, {}), 1u) << "bob waited longer";
  turns.served("bob");
  EXPECT_EQ(fcd::pick_fair(c, turns, {}), 0u) << "ann's turn again";
}

TEST(FairShare, OwnersAtTheCapAreSkippedEvenForLowerPriorityWork) {
  fcd::OwnerTurns turns;
  std::vector<ClaimCandidate> c{{10, "ann", 1, 2}, {-5, "bob", 2, 0}};
  EXPECT_EQ(fcd::pick_fair(c, turns, {2}), 1u);
  c = {{10, "ann", 1, 2}};
  EXPECT_FALSE(fcd::pick_fair(c, turns, {2}));
  EXPECT_EQ(fcd::pick_fair(c, turns, {0}), 0u) << "0 means no cap";
}

template <typename Backend>
class FairQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { FC_SKIP_UNLESS_AVAILABLE(backend_); }
  void open(fcd::FairShareLimits limits) { queue_ = backend_.open(limits); }
  int64_t submit(const std::string& owner, int n, int priority = 0) {
    std::vector<fcd::NewItem> items(n, fcd::NewItem{"in", "out"});
    return queue_->submit(JobKind::kTransform, owner, priority, "{}", "/out", items);
  }
  // Claims and finishes one item at a time (one worker); returns whose items ran, in order.
  std::string run_one_by_one(int n) {
    std::string order;
    for (int i = 0; i < n; ++i) {
      auto c = queue_->claim("w", true, true);
      if (!c) break;
      order += c->job.owner[0];
      queue_->finish_item(c->job.id, c->item.idx, fcd::ItemOutcome::kSucceeded, "", "");
    }
    return order;
  }

  Backend backend_;
  std::unique_ptr<fcd::JobStore> queue_;
};
TYPED_TEST_SUITE(FairQueueTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(FairQueueTest, ASmallJobTakesTurnsWithALargeOneOfTheSamePriority) {
  this->open({});
  this->submit("ann", 3000);
  EXPECT_EQ(this->run_one_by_one(2), "aa");
  this->submit("bob", 3);
  EXPECT_EQ(this->run_one_by_one(8), "bababaaa") << "bob's 3 items must not wait for ann's 2,998";
}

TYPED_TEST(FairQueueTest, OneOwnersJobsStillRunInOrderAndPriorityStillComesFirst) {
  this->open({});
  int64_t a1 = this->submit("ann", 2), a2 = this->submit("ann", 1);
  this->submit("bob", 1, -10);
  std::vector<int64_t> jobs;
  while (auto c = this->queue_->claim("w", true, true)) jobs.push_back(c->job.id);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(std::vector<int64_t>(jobs.begin(), jobs.begin() + 3),
            (std::vector<int64_t>{a1, a1, a2}))
      << "bob's background job comes last";
}

TYPED_TEST(FairQueueTest, TheRunningCapLeavesAWorkerIdleRatherThanExceedIt) {
  this->open({2});
  this->submit("ann", 10);
  ASSERT_TRUE(this->queue_->claim("w1", true, true));
  auto second = this->queue_->claim("w2", true, true);
  ASSERT_TRUE(second);
  EXPECT_FALSE(this->queue_->claim("w3", true, true)) << "ann already runs 2 items";
  this->submit("bob", 1);
  auto bob = this->queue_->claim("w3", true, true);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->job.owner, "bob");
  this->queue_->finish_item(second->job.id, second->item.idx, fcd::ItemOutcome::kSucceeded, "", "");
  auto next = this->queue_->claim("w2", true, true);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->job.owner, "ann") << "a finished item frees a place under the cap";
}

TEST(PriorityPolicy, NonAdminsStayAtOrBelowTheCapAdminsAndLocalMayGoAbove) {
  const fcd::User ann{"ann", false}, root{"root", true}, local{fcd::kLocalUser, false};
  EXPECT_EQ(fcd::check_priority(0, ann, 0).verdict, PriorityVerdict::kAllowed);
  EXPECT_EQ(fcd::check_priority(-50, ann, 0).verdict, PriorityVerdict::kAllowed);
  auto high = fcd::check_priority(100, ann, 0);
  EXPECT_EQ(high.verdict, PriorityVerdict::kAboveCap);
  EXPECT_NE(high.message.find("--priority 0 or lower"), std::string::npos) << high.message;
  EXPECT_EQ(fcd::check_priority(10, ann, 10).verdict, PriorityVerdict::kAllowed);
  EXPECT_EQ(fcd::check_priority(100, root, 0).verdict, PriorityVerdict::kAllowed);
  EXPECT_EQ(fcd::check_priority(100, local, 0).verdict, PriorityVerdict::kAllowed);
  EXPECT_EQ(fcd::check_priority(101, root, 0).verdict, PriorityVerdict::kOutOfRange);
}

}  // namespace
