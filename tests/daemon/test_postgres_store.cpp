// What only the PostgreSQL job store does: its own migrations, several daemons opening one
// database, and claims by several connections at once (FOR UPDATE SKIP LOCKED). The behaviour
// both back ends share is tested once for both (test_job_queue.cpp, test_job_retry.cpp,
// test_fair_share.cpp, test_leases.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store/lease_keeper.h"
#include "store_backends.h"

#ifdef FC_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace {

#ifdef FC_HAVE_POSTGRES

using fcd::ItemOutcome;
using fcd::ItemState;
using fcd::JobKind;

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    backend_.open().reset();  // creates the database and migrates it
  }
  std::unique_ptr<fcd::PostgresJobStore> open() {
    return std::make_unique<fcd::PostgresJobStore>(backend_.url());
  }
  fcd_test::PostgresBackend backend_;
};

TEST_F(PostgresStore, MigrationsApplyOnceAndAreNumbered) {
  auto store = open();
  EXPECT_EQ(store->migrations_applied(), 0) << "the first open applied them already";
  const auto& all = fcd::embedded_postgres_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(store->schema_version(), all.back().version);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
}

TEST_F(PostgresStore, SeveralDaemonsOpenOneDatabase) {
  auto first = open();
  std::unique_ptr<fcd::PostgresJobStore> second;
  ASSERT_NO_THROW(second = open()) << "claims are leases: daemons share a database";
  EXPECT_EQ(second->migrations_applied(), 0);
  EXPECT_EQ(second->schema_version(), first->schema_version());
}

TEST_F(PostgresStore, TwoConnectionsClaimingAtOnceTakeEachItemOnce) {
  auto a = open(), b = open();
  constexpr int kItems = 300;
  std::vector<fcd::NewItem> items(kItems, fcd::NewItem{"in", "out"});
  const int64_t job = a->submit(JobKind::kTransform, "ann", 0, "{}", "/out", items);
  std::atomic<int> lasts{0}, claimed{0};
  auto work = [&](fcd::JobStore* s, const std::string& name) {
    while (auto c = s->claim(name, true, true)) {
      ++claimed;
      if (s->finish_item(c->job.id, c->item.idx, ItemOutcome::kSucceeded, "", "")) ++lasts;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back(work, a.get(), "a" + std::to_string(i));
    threads.emplace_back(work, b.get(), "b" + std::to_string(i));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.load(), kItems);
  EXPECT_EQ(lasts.load(), 1) << "exactly one finisher must be told to finalize";
  for (const auto& it : a->items(job)) {
    EXPECT_EQ(it.state, ItemState::kSucceeded) << it.idx;
    EXPECT_EQ(it.attempts, 1) << "item " << it.idx << " was claimed twice";
  }
  a->finalize_job(job);
  EXPECT_EQ(b->get_job(job)->state, fcd::JobState::kSucceeded);
}

TEST_F(PostgresStore, AnotherDaemonsEventWakesAWatcherHere) {
  auto a = open(), b = open();
  const int64_t job = a->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"in", "out"}});
  const int64_t seen = b->published_event_id();
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    a->add_event(job, fcd::EventType::kLog, {{"message", "from a"}});
  });
  b->wait_for_event(seen, std::chrono::seconds(10));  // without LISTEN/NOTIFY: the full 10 s
  writer.join();
  EXPECT_GT(b->published_event_id(), seen) << "b was not told of a's event";
}

// The same for a batch of item ends, whose events share one NOTIFY (the batch's newest id).
TEST_F(PostgresStore, AnotherDaemonsItemEndsWakeAWatcherHere) {
  auto a = open(), b = open();
  a->set_lease_holder(fcd::make_lease_holder("host-a", std::chrono::seconds(60)));
  const int64_t job =
      a->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"in0", "out"}, {"in1", "out"}});
  auto claims = a->claim_batch("w", true, true, 2);
  ASSERT_EQ(claims.size(), 2u);
  const int64_t seen = b->published_event_id();
  std::thread writer([&] {
    a->finish_items({{job, 0, fcd::ItemOutcome::kSucceeded, "", "{}"},
                     {job, 1, fcd::ItemOutcome::kSucceeded, "", "{}"}});
  });
  writer.join();
  const int64_t newest = a->events_after(job, 0, 100).back().id;
  ASSERT_GT(newest, seen);
  // The claim's own event may wake b first: wait on until the ends' NOTIFY has arrived.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (b->published_event_id() < newest && std::chrono::steady_clock::now() < deadline)
    b->wait_for_event(b->published_event_id(), std::chrono::milliseconds(500));
  EXPECT_GE(b->published_event_id(), newest) << "b was not told of a's newest end";
}

// Two daemons write events of one job; the one that drew the smaller id commits last. A watcher
// that read the other in between resumes after it and must still get the late one, once.
TEST_F(PostgresStore, AnEventCommittedLateBehindALargerIdStillReachesAWatcher) {
  auto store = open();
  const int64_t job = store->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"in", "out"}});
  std::vector<int64_t> delivered;
  int64_t cursor = 0;
  auto watch = [&] {  // what WatchJob does on each pass
    for (const auto& e : store->events_after(job, cursor, 100)) {
      delivered.push_back(e.id);
      cursor = e.id;
    }
  };
  watch();
  const size_t before = delivered.size();

  pqxx::connection slow_daemon(backend_.url());
  pqxx::work slow(slow_daemon);
  const int64_t late = slow.exec_params1(
                               "INSERT INTO events (job_id, time_ms, type, payload_json) VALUES "
                               "($1, 0, 'log', '{}') RETURNING id",
                               job)[0]
                           .as<int64_t>();
  const int64_t early = store->add_event(job, fcd::EventType::kLog, {{"message", "committed"}});
  ASSERT_GT(early, late) << "the slow writer drew its id first";
  watch();
  slow.commit();
  watch();

  const std::vector<int64_t> got(delivered.begin() + before, delivered.end());
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()), (std::set<int64_t>{late, early}))
      << "a watcher resuming after the committed event skipped the late one";
  EXPECT_EQ(got.size(), 2u) << "an event was delivered twice";
}

#else

TEST(PostgresStore, NotBuilt) {
  GTEST_SKIP() << "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
}

#endif

}  // namespace
