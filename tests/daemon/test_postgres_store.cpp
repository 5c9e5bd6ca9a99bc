// What only the PostgreSQL job store does: its own migrations, the one-daemon guard, and claims
// by several connections at once (FOR UPDATE SKIP LOCKED). The behaviour both back ends share
// is tested once for both (test_job_queue.cpp, test_job_retry.cpp, test_fair_share.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store_backends.h"

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
  std::unique_ptr<fcd::PostgresJobStore> open(bool single_daemon) {
    fcd::PostgresOptions o;
    o.single_daemon = single_daemon;
    return std::make_unique<fcd::PostgresJobStore>(backend_.url(), o);
  }
  fcd_test::PostgresBackend backend_;
};

TEST_F(PostgresStore, MigrationsApplyOnceAndAreNumbered) {
  auto store = open(true);
  EXPECT_EQ(store->migrations_applied(), 0) << "the first open applied them already";
  const auto& all = fcd::embedded_postgres_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(store->schema_version(), all.back().version);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
}

TEST_F(PostgresStore, ASecondDaemonIsRefusedUntilLeasesExist) {
  auto first = open(true);
  EXPECT_THROW(open(true), fcd::DbError) << "its recover() would take the first one's items";
  first.reset();
  EXPECT_NO_THROW(open(true)) << "the lock goes with the first daemon's connection";
}

TEST_F(PostgresStore, TwoConnectionsClaimingAtOnceTakeEachItemOnce) {
  auto a = open(false), b = open(false);
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

#else

TEST(PostgresStore, NotBuilt) {
  GTEST_SKIP() << "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
}

#endif

}  // namespace
