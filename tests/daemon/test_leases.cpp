// Leases and batches (issue 18), on both back ends: several daemons' stores on one database.
// A claim is a lease its holder's heartbeat renews; any daemon re-queues an item whose lease ran
// out, once; a live lease is never taken; and claims and ends go in batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "store/lease_keeper.h"
#include "store_backends.h"

namespace {

using fcd::EventType;
using fcd::ItemOutcome;
using fcd::ItemState;
using fcd::JobKind;
using std::chrono::milliseconds;

template <typename Backend>
class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    a_ = backend_.open();
    a_->set_lease_holder(fcd::make_lease_holder("host-a", std::chrono::seconds(60)));
  }
  // Another daemon, on another host, sharing the database.
  std::unique_ptr<fcd::JobStore> daemon(const std::string& node,
                                        milliseconds ttl = std::chrono::seconds(60)) {
    auto s = backend_.open_another();
    s->set_lease_holder(fcd::make_lease_holder(node, ttl));
    return s;
  }
  int64_t submit(int n, JobKind kind = JobKind::kTransform, const std::string& owner = "ann") {
    std::vector<fcd::NewItem> items;
    for (int i = 0; i < n; ++i) items.push_back({"in" + std::to_string(i), "out"});
    return a_->submit(kind, owner, 0, "{}", "/out", items);
  }
  fcd::ItemRecord item(int64_t job, int idx) { return a_->items(job).at(idx); }

  Backend backend_;
  std::unique_ptr<fcd::JobStore> a_;
};
TYPED_TEST_SUITE(LeaseTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(LeaseTest, AnExpiredLeaseIsReclaimedExactlyOnce) {
  int64_t job = this->submit(3);
  auto dying = this->daemon("host-d", milliseconds(50));
  ASSERT_TRUE(dying->claim("w", true, true));  // item 0, then the daemon goes silent
  std::this_thread::sleep_for(milliseconds(150));

  // Three daemons sweep at once, each several times: the item goes back once.
  std::vector<std::unique_ptr<fcd::JobStore>> sweepers;
  for (const char* n : {"host-b", "host-c", "host-e"}) sweepers.push_back(this->daemon(n));
  std::atomic<int> requeued{0};
  std::vector<std::thread> threads;
  for (auto& s : sweepers)
    threads.emplace_back([&, st = s.get()] {
      for (int i = 0; i < 5; ++i) requeued += st->requeue_expired();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(requeued.load(), 1);

  auto it = this->item(job, 0);
  EXPECT_EQ(it.state, ItemState::kQueued);
  EXPECT_EQ(it.crashes, 1) << "it was its daemon's only item, as after a restart";
  int notes = 0;
  for (const auto& e : this->a_->events_after(job, 0, 100))
    if (e.type == EventType::kLog && e.payload.contains("items")) {
      ++notes;
      ASSERT_EQ(e.payload["items"].size(), 1u);
      EXPECT_EQ(e.payload["items"][0]["holder"], dying->lease_holder().id)
          << "the event log names whose lease ran out";
    }
  EXPECT_EQ(notes, 1);

  auto again = sweepers[0]->claim("w", true, true);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->item.idx, 0);
  EXPECT_EQ(again->item.attempts, 2);
  // The silent daemon wakes up and reports its old run: refused, the new holder's run stands.
  EXPECT_FALSE(dying->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}"));
  EXPECT_EQ(this->item(job, 0).state, ItemState::kRunning);
  dying->release_item(job, 0, "stopping");
  EXPECT_EQ(this->item(job, 0).state, ItemState::kRunning) << "nor may it hand it back";
  EXPECT_FALSE(sweepers[0]->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}"));
  EXPECT_EQ(this->item(job, 0).state, ItemState::kSucceeded);
}

TYPED_TEST(LeaseTest, ALiveLeaseIsNotStolen) {
  int64_t job = this->submit(2);
  auto held = this->a_->claim("w", true, true);
  ASSERT_TRUE(held);
  auto b = this->daemon("host-b");
  EXPECT_EQ(b->requeue_expired(), 0);
  if (std::is_same_v<TypeParam, fcd_test::PostgresBackend>) {
    // A daemon starting on another host takes back only its own node's items.
    EXPECT_EQ(b->recover().items_requeued, 0);
  }
  auto other = b->claim("w", true, true);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->item.idx, 1) << "item 0 is held";
  EXPECT_FALSE(b->claim("w", true, true));
  EXPECT_EQ(this->item(job, 0).state, ItemState::kRunning);
  EXPECT_EQ(this->item(job, 0).attempts, 1);
}

TYPED_TEST(LeaseTest, AHeartbeatKeepsALeaseAndItsLossLetsItGo) {
  int64_t job = this->submit(1);
  auto a = this->daemon("host-h", milliseconds(1000));
  ASSERT_TRUE(a->claim("w", true, true));
  auto b = this->daemon("host-b");
  int requeued = 0;
  {
    fcd::LeaseKeeper heartbeat(*a, milliseconds(100));
    for (int i = 0; i < 25; ++i) {  // 2.5 s: more than twice the lease
      std::this_thread::sleep_for(milliseconds(100));
      requeued += b->requeue_expired();
    }
  }
  EXPECT_EQ(requeued, 0) << "a renewed lease must not run out";
  EXPECT_EQ(this->item(job, 0).state, ItemState::kRunning);
  std::this_thread::sleep_for(milliseconds(1200));  // the heartbeat stopped: the lease runs out
  EXPECT_EQ(b->requeue_expired(), 1);
  EXPECT_EQ(this->item(job, 0).state, ItemState::kQueued);
}

// A daemon paused (or cut off from the database) for longer than its leases is told once, at
// its next beat, that other daemons may hold its items now; a beat on time says nothing, and
// after a renewal that went through the next lapse is told again.
TYPED_TEST(LeaseTest, ABeatAfterMoreThanALeaseSaysTheLeasesLapsedOnce) {
  auto a = this->daemon("host-p", milliseconds(300));
  fcd::LeaseKeeper heartbeat(*a, std::chrono::hours(1));  // beats only when told
  std::vector<std::string> told;
  heartbeat.set_on_lapse([&](const std::string& why) { told.push_back(why); });
  heartbeat.beat();
  EXPECT_TRUE(told.empty()) << "a beat within the lease";
  std::this_thread::sleep_for(milliseconds(450));  // a pause longer than the lease
  heartbeat.beat();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("leases lapsed"), std::string::npos) << told[0];
  heartbeat.beat();
  EXPECT_EQ(told.size(), 1u) << "renewed since: nothing new to tell";
  std::this_thread::sleep_for(milliseconds(450));
  heartbeat.beat();
  EXPECT_EQ(told.size(), 2u);
  heartbeat.set_on_lapse(nullptr);
}

TYPED_TEST(LeaseTest, ARestartTakesBackItsOwnNodesItemsAtOnce) {
  int64_t job = this->submit(1);
  auto before = this->daemon("host-n");
  ASSERT_TRUE(before->claim("w", true, true));
  before.reset();  // kill -9: the lease is still live
  auto after = this->daemon("host-n");
  EXPECT_EQ(after->recover().items_requeued, 1);
  EXPECT_EQ(this->item(job, 0).state, ItemState::kQueued);
}

TYPED_TEST(LeaseTest, ABatchClaimTakesUpToKItemsOfOneJobInOrder) {
  int64_t first = this->submit(5);
  int64_t second = this->submit(5);
  auto batch = this->a_->claim_batch("w", true, true, 3);
  ASSERT_EQ(batch.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(batch[i].job.id, first);
    EXPECT_EQ(batch[i].item.idx, i);
    EXPECT_EQ(batch[i].item.attempts, 1);
  }
  EXPECT_EQ(this->a_->claim_batch("w", true, true, 10).size(), 2u) << "one job per claim";
  EXPECT_EQ(this->a_->claim_batch("w", true, true, 10).front().job.id, second);
}

TYPED_TEST(LeaseTest, ATrainItemIsClaimedAlone) {
  this->submit(2, JobKind::kTrain);
  EXPECT_EQ(this->a_->claim_batch("w", true, true, 8).size(), 1u)
      << "a training item holds its worker for hours";
}

TYPED_TEST(LeaseTest, ABatchStaysUnderTheUserCap) {
  this->a_.reset();
  this->a_ = this->backend_.open(fcd::FairShareLimits{3});
  this->submit(10);
  ASSERT_TRUE(this->a_->claim("w", true, true));
  EXPECT_EQ(this->a_->claim_batch("w", true, true, 8).size(), 2u) << "three running at most";
  EXPECT_TRUE(this->a_->claim_batch("w", true, true, 8).empty());
}

TYPED_TEST(LeaseTest, BatchedEndsCommitTogetherAndCloseEachJobOnce) {
  int64_t job = this->submit(4);
  auto batch = this->a_->claim_batch("w", true, true, 4);
  ASSERT_EQ(batch.size(), 4u);
  auto b = this->daemon("host-b");
  std::vector<fcd::ItemEnd> ends;
  for (int i = 0; i < 3; ++i) ends.push_back({job, i, ItemOutcome::kSucceeded, "", "{}"});
  EXPECT_TRUE(this->a_->finish_items(ends).empty()) << "item 3 still runs";
  EXPECT_TRUE(b->finish_items({{job, 3, ItemOutcome::kSucceeded, "", "{}"}}).empty())
      << "another daemon's end for an item it does not hold is refused";
  auto closed = this->a_->finish_items(
      {{job, 3, ItemOutcome::kFailed, "bad", ""}, {job, 0, ItemOutcome::kFailed, "again", ""}});
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0], job);
  auto items = this->a_->items(job);
  EXPECT_EQ(items[0].state, ItemState::kSucceeded) << "an ended item is not ended twice";
  EXPECT_EQ(items[3].state, ItemState::kFailed);
  int ends_logged = 0;
  for (const auto& e : this->a_->events_after(job, 0, 100))
    ends_logged += e.type == EventType::kItem;
  EXPECT_EQ(ends_logged, 4);
}

// One batch of ends may span jobs (a worker's ends of several claims): each job closes, and
// each end's event carries its own item, state, message and report, in the batch's order.
TYPED_TEST(LeaseTest, EndsOfSeveralJobsInOneBatchEachLogTheirOwnItem) {
  const int64_t first = this->submit(2), second = this->submit(1, JobKind::kTransform, "bob");
  std::vector<fcd::ItemEnd> ends;
  for (int k = 0; k < 3; ++k) {
    auto claim = this->a_->claim("w", true, true);
    ASSERT_TRUE(claim);
    const bool bad = claim->item.idx == 1;
    ends.push_back({claim->job.id, claim->item.idx,
                    bad ? ItemOutcome::kFailed : ItemOutcome::kSucceeded, bad ? "it's bad" : "",
                    bad ? "" : R"({"faces_found": )" + std::to_string(k) + "}"});
  }
  auto closed = this->a_->finish_items(ends);
  std::sort(closed.begin(), closed.end());
  EXPECT_EQ(closed, (std::vector<int64_t>{first, second}));
  for (const auto& e : ends) {
    std::vector<nlohmann::json> logged;
    for (const auto& ev : this->a_->events_after(e.job_id, 0, 100))
      if (ev.type == EventType::kItem && ev.payload.value("item_index", -1) == e.idx)
        logged.push_back(ev.payload);
    ASSERT_EQ(logged.size(), 1u) << "job " << e.job_id << " item " << e.idx;
    EXPECT_EQ(logged[0].value("message", ""), e.error);
    EXPECT_EQ(logged[0].value("item_state", ""),
              e.outcome == ItemOutcome::kFailed ? "failed" : "succeeded");
    if (!e.report_json.empty())
      EXPECT_EQ(logged[0]["report"], nlohmann::json::parse(e.report_json));
  }
  EXPECT_EQ(this->a_->items(first)[1].error, "it's bad") << "quotes survive";
}

}  // namespace

// Issue 18: a daemon that ends a job's last item and dies before finalize_job leaves no item to
// re-queue; its lease on the job's end runs out and the sweep of another daemon ends the job,
// once, as the finisher would have.
TYPED_TEST(LeaseTest, AJobWhoseFinisherDiedIsEndedOnceByTheSweep) {
  int64_t job = this->submit(3);
  // b is open before the lease starts: opening a store (several PostgreSQL connections) on a
  // loaded machine could outlast a short lease and make the first sweep below find it ended.
  auto b = this->daemon("host-b");
  auto dying = this->daemon("host-d", milliseconds(300));
  ASSERT_EQ(dying->claim_batch("w", true, true, 3).size(), 3u);
  const std::vector<fcd::ItemEnd> ends{{job, 0, ItemOutcome::kSucceeded, "", "{}"},
                                       {job, 1, ItemOutcome::kFailed, "bad face", ""},
                                       {job, 2, ItemOutcome::kSucceeded, "", "{}"}};
  ASSERT_EQ(dying->finish_items(ends), std::vector<int64_t>{job});  // then killed: no end
  EXPECT_TRUE(b->take_abandoned_jobs().empty()) << "its finisher's lease on the end is live";
  std::this_thread::sleep_for(milliseconds(700));
  ASSERT_EQ(this->a_->get_job(job)->state, fcd::JobState::kRunning);

  // Three daemons sweep at once, each several times, and end what they take.
  std::vector<std::unique_ptr<fcd::JobStore>> sweepers;
  for (const char* n : {"host-b", "host-c", "host-e"}) sweepers.push_back(this->daemon(n));
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (auto& s : sweepers)
    threads.emplace_back([&, st = s.get()] {
      for (int i = 0; i < 5; ++i)
        for (int64_t id : st->take_abandoned_jobs()) {
          ++taken;
          st->finalize_job(id);
        }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1);
  dying->finalize_job(job);  // the finisher's late end changes nothing

  auto j = this->a_->get_job(job);
  EXPECT_EQ(j->state, fcd::JobState::kSucceeded);
  EXPECT_GT(j->finished_ms, 0);
  auto summary = nlohmann::json::parse(j->result_json)["summary"];
  EXPECT_EQ(summary["items_total"], 3);
  EXPECT_EQ(summary["items_succeeded"], 2);
  EXPECT_EQ(summary["items_failed"], 1);
  int ended = 0;
  for (const auto& e : this->a_->events_after(job, 0, 100))
    if (e.type == EventType::kState && e.payload["job"]["state"] == "succeeded") ++ended;
  EXPECT_EQ(ended, 1) << "one end event, the one watch waits for";
  EXPECT_TRUE(b->take_abandoned_jobs().empty());
}

TYPED_TEST(LeaseTest, AJobWithALiveLeaseIsNotEndedByTheSweep) {
  // An item still held by a live daemon: its job is not the sweep's to end.
  int64_t held_job = this->submit(2);
  auto dying = this->daemon("host-d", milliseconds(50));
  ASSERT_TRUE(dying->claim("w", true, true));
  ASSERT_TRUE(this->a_->claim("w", true, true));
  EXPECT_FALSE(dying->finish_item(held_job, 0, ItemOutcome::kSucceeded, "", "{}"));

  // A live finisher writing the job's files: its heartbeat keeps its lease on the end.
  int64_t job = this->submit(1);
  auto finisher = this->daemon("host-f", milliseconds(300));
  auto b = this->daemon("host-b");
  int ends = 0;
  fcd::LeaseKeeper sweep(*b, std::chrono::hours(1));  // sweeps only when told
  sweep.set_job_ender([&](int64_t id) {
    ++ends;
    b->finalize_job(id);
  });
  {
    fcd::LeaseKeeper heartbeat(*finisher, milliseconds(50));
    auto c = finisher->claim("w", true, true);
    ASSERT_TRUE(c && c->job.id == job);
    ASSERT_TRUE(finisher->finish_item(job, 0, ItemOutcome::kSucceeded, "", "{}"));
    for (int i = 0; i < 10; ++i) {  // 1 s: more than three leases
      std::this_thread::sleep_for(milliseconds(100));
      sweep.end_abandoned_jobs();
    }
    EXPECT_EQ(ends, 0);
    EXPECT_EQ(this->a_->get_job(held_job)->state, fcd::JobState::kRunning);
    EXPECT_EQ(this->a_->get_job(job)->state, fcd::JobState::kRunning);
  }
  std::this_thread::sleep_for(milliseconds(400));  // the heartbeat stopped: the lease runs out
  EXPECT_EQ(sweep.end_abandoned_jobs(), 1);
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(this->a_->get_job(job)->state, fcd::JobState::kSucceeded);
  EXPECT_EQ(this->a_->get_job(held_job)->state, fcd::JobState::kRunning);
}
