// The PostgreSQL stores ride through a lost connection (issue 18): after the server cut every
// connection to the database (pg_terminate_backend, as an administrator, an idle timeout or a
// network blip would) or restarted, the next submit, claim, end, token check, model listing and
// watch wake-up work, without a daemon restart. A transaction cut inside its COMMIT may or may
// not have been recorded; cut both ways (the server rolls it back, or records it while the
// client's side is gone), a claim and a sweep hand back what they took and a submit returns the
// one job it recorded, once the server has finished with the COMMIT.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store_backends.h"
#ifdef FC_HAVE_POSTGRES
#include <pqxx/pqxx>

#include "cutting_proxy.h"
#include "store/postgres_job_store.h"
#include "store/postgres_link.h"  // CommitInDoubt
#endif

namespace {

#ifdef FC_HAVE_POSTGRES

using fcd::ItemOutcome;
using fcd::JobKind;
using fcd::JobState;

// Cuts every other connection to the database at `url`, as the server does to a dropped client.
void kill_backends(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  const auto r = tx.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
      "datname = current_database()");
  ASSERT_FALSE(r.empty()) << "no connection to cut: the test would prove nothing";
}

class PostgresReconnect : public ::testing::Test {
 protected:
  void SetUp() override { FC_SKIP_UNLESS_AVAILABLE(backend_); }
  fcd_test::PostgresBackend backend_;
};

TEST_F(PostgresReconnect, SubmitClaimAndFinishWorkAfterTheConnectionWasCut) {
  auto store = backend_.open();
  kill_backends(backend_.url());
  int64_t job = 0;
  ASSERT_NO_THROW(job = store->submit(JobKind::kTransform, "ann", 0, "{}", "/out",
                                      {{"a", "a.out"}, {"b", "b.out"}}));
  kill_backends(backend_.url());
  std::vector<fcd::Claim> claims;
  ASSERT_NO_THROW(claims = store->claim_batch("w1", false, true, 2));
  ASSERT_EQ(claims.size(), 2u);
  kill_backends(backend_.url());
  std::vector<int64_t> closed;
  ASSERT_NO_THROW(closed = store->finish_items({{job, 0, ItemOutcome::kSucceeded, "", ""},
                                                {job, 1, ItemOutcome::kSucceeded, "", ""}}));
  EXPECT_EQ(closed, std::vector<int64_t>{job}) << "the finisher must be told to end the job";
  kill_backends(backend_.url());
  store->finalize_job(job);
  EXPECT_EQ(store->get_job(job)->state, JobState::kSucceeded);
}

TEST_F(PostgresReconnect, ATokenIsCheckedAfterTheConnectionWasCut) {
  auto tokens = backend_.tokens();
  tokens->add("ann", false, "abc123", 0);
  kill_backends(backend_.url());
  std::vector<fcd::TokenRow> rows;
  ASSERT_NO_THROW(rows = tokens->select(fcd::TokenKey::kSha256, "abc123"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].user, "ann");
}

TEST_F(PostgresReconnect, ModelsAreListedAfterTheConnectionWasCut) {
  auto catalog = backend_.catalog("host-a:/data");
  catalog->put_found("age", "/models/age.pt");
  kill_backends(backend_.url());
  std::vector<fcd::ModelRow> rows;
  ASSERT_NO_THROW(rows = catalog->list());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "age");
}

// b's listener lost its LISTEN with its connection: it must listen again, and wake b's watchers
// once, since a NOTIFY sent while it was away is lost. The events come from a daemon that
// connected after the cut, so only b's listener is on trial.
TEST_F(PostgresReconnect, AWatcherIsWokenByAnotherDaemonAfterTheConnectionWasCut) {
  auto b = backend_.open();
  const int64_t job = b->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"in", "out"}});
  kill_backends(backend_.url());
  auto a = backend_.open_another();
  int64_t seen = b->published_event_id();
  const int64_t first = a->add_event(job, fcd::EventType::kLog, {{"message", "while away"}});
  b->wait_for_event(seen, std::chrono::seconds(10));  // without a new LISTEN: the full 10 s
  EXPECT_GE(b->published_event_id(), first) << "b's watchers were not woken";
  // Listening again, not only the one wake-up: a's next event reaches b by NOTIFY.
  seen = b->published_event_id();
  const int64_t second = a->add_event(job, fcd::EventType::kLog, {{"message", "back"}});
  b->wait_for_event(seen, std::chrono::seconds(10));
  EXPECT_GE(b->published_event_id(), second) << "b is not listening again";
}

// How a COMMIT in flight is cut. kServerAborts: the server ends the backend
// (pg_terminate_backend), which rolls the transaction back. kClientLoses: the client's side of
// the connection drops (CuttingProxy) while the server finishes the COMMIT, so it is recorded
// and never confirmed. The client cannot tell the two apart: both raise pqxx::in_doubt_error.
enum class Cut { kServerAborts, kClientLoses };

std::string cut_name(const ::testing::TestParamInfo<Cut>& info) {
  return info.param == Cut::kServerAborts ? "ServerAborts" : "ClientLoses";
}

// While slow_flag has a row, each row that `change` ("UPDATE ON items") touched costs its
// transaction `seconds` of sleep in its COMMIT (a deferred constraint trigger): time for the test
// to cut the connection mid-COMMIT. Each sleep also adds a row to slowed, which is there
// afterwards exactly when that COMMIT was recorded.
void slow_commits(const std::string& url, const std::string& change, double seconds) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE TABLE slow_flag (x int)");
  tx.exec("CREATE TABLE slowed (x int)");
  tx.exec("INSERT INTO slow_flag VALUES (1)");
  tx.exec(
      "CREATE FUNCTION slow_commit() RETURNS trigger AS $$ BEGIN IF EXISTS (SELECT 1 FROM "
      "slow_flag) THEN INSERT INTO slowed VALUES (1); PERFORM pg_sleep(" +
      std::to_string(seconds) + "); END IF; RETURN NULL; END $$ LANGUAGE plpgsql");
  tx.exec("CREATE CONSTRAINT TRIGGER slow AFTER " + change +
          " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()");
}

bool a_slowed_commit_was_recorded(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx.exec("SELECT count(*) FROM slowed")[0][0].as<int>() > 0;
}

// Waits (up to 20 s) for a backend of another connection to be asleep in a slowed COMMIT (not
// any COMMIT: a quick one of another connection, such as a listener starting, can be caught
// in flight on a loaded machine), then stops the slowing and cuts that COMMIT as `how` says.
// True when it cut one.
bool cut_a_commit(const std::string& url, Cut how, fcd_test::CuttingProxy& proxy) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  for (int i = 0; i < 1000; ++i) {
    const auto r = tx.exec(
        "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND "
        "query = 'COMMIT' AND wait_event = 'PgSleep' AND datname = current_database()");
    if (!r.empty()) {
      if (how == Cut::kClientLoses) {
        if (proxy.cut() == 0) return false;
        tx.exec("DELETE FROM slow_flag");
        return true;
      }
      tx.exec("DELETE FROM slow_flag");
      tx.exec("SELECT pg_terminate_backend(" + r[0][0].as<std::string>() + ")");
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The stores under test connect through a proxy, so that their connections can be dropped on
// the client's side; the test's own connections go straight to the server.
class PostgresCommitCut : public PostgresReconnect, public ::testing::WithParamInterface<Cut> {
 protected:
  void SetUp() override {
    PostgresReconnect::SetUp();
    if (IsSkipped()) return;
    backend_.open();  // creates the database
    proxy_ = std::make_unique<fcd_test::CuttingProxy>(backend_.url());
  }
  std::unique_ptr<fcd::PostgresJobStore> open() {
    return std::make_unique<fcd::PostgresJobStore>(proxy_->url());
  }
  // Runs `body` while a cutter waits for its COMMIT and cuts it; false when none was seen.
  template <typename Body>
  bool cut_while(Body body) {
    bool cut = false;
    std::thread cutter([&] { cut = cut_a_commit(backend_.url(), GetParam(), *proxy_); });
    body();
    cutter.join();
    return cut;
  }
  void expect_recorded_as_cut() {
    EXPECT_EQ(a_slowed_commit_was_recorded(backend_.url()), GetParam() == Cut::kClientLoses)
        << "the cut did not do what this case is about";
  }
  std::unique_ptr<fcd_test::CuttingProxy> proxy_;
};

INSTANTIATE_TEST_SUITE_P(Cuts, PostgresCommitCut,
                         ::testing::Values(Cut::kServerAborts, Cut::kClientLoses), cut_name);

// A claim whose COMMIT was cut may or may not have been recorded. The store must neither hand
// those items to its worker (they might be another's) nor lose them: it hands back what it may
// hold, and the next claim gets every item once.
TEST_P(PostgresCommitCut, AClaimCutInItsCommitLosesNoItem) {
  auto store = open();
  const int64_t job = store->submit(JobKind::kTransform, "ann", 0, "{}", "/out",
                                    {{"a", "a.out"}, {"b", "b.out"}, {"c", "c.out"}});
  slow_commits(backend_.url(), "UPDATE ON items", 1);
  std::vector<fcd::Claim> claims;
  ASSERT_TRUE(cut_while([&] {
    ASSERT_NO_THROW(claims = store->claim_batch("w1", false, true, 3));
  })) << "no claim was seen in its COMMIT: the test would prove nothing";
  expect_recorded_as_cut();
  EXPECT_TRUE(claims.empty()) << "an unsure claim was handed to the worker";
  ASSERT_NO_THROW(claims = store->claim_batch("w1", false, true, 3));
  std::set<int> items;
  for (const auto& c : claims) items.insert(c.item.idx);
  EXPECT_EQ(items, (std::set<int>{0, 1, 2})) << "items lost or taken twice";
  EXPECT_EQ(store->finish_items({{job, 0, ItemOutcome::kSucceeded, "", ""},
                                 {job, 1, ItemOutcome::kSucceeded, "", ""},
                                 {job, 2, ItemOutcome::kSucceeded, "", ""}}),
            std::vector<int64_t>{job});
}

// A sweep cut in its COMMIT may hold the end of a job whose finisher died, which no thread of
// its daemon will end: it gives that end back, and the next sweep takes it and ends the job.
TEST_P(PostgresCommitCut, ASweepCutInItsCommitGivesTheJobEndBack) {
  auto a = backend_.open_another();
  auto sweeper = open();
  sweeper->set_lease_holder(fcd::make_lease_holder("host-b", std::chrono::seconds(60)));
  auto dying = backend_.open_another();
  dying->set_lease_holder(fcd::make_lease_holder("host-d", std::chrono::milliseconds(300)));
  const int64_t job = a->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"a", "a.out"}});
  ASSERT_EQ(dying->claim_batch("w", false, true, 1).size(), 1u);
  ASSERT_EQ(dying->finish_items({{job, 0, ItemOutcome::kSucceeded, "", "{}"}}),
            std::vector<int64_t>{job});  // then killed: the job is never ended
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  slow_commits(backend_.url(), "UPDATE ON items", 1);
  ASSERT_TRUE(cut_while([&] {
    EXPECT_THROW(sweeper->take_abandoned_jobs(), fcd::pg::CommitInDoubt);
  })) << "no sweep was seen in its COMMIT: the test would prove nothing";
  expect_recorded_as_cut();
  std::vector<int64_t> taken;
  ASSERT_NO_THROW(taken = sweeper->take_abandoned_jobs());
  ASSERT_EQ(taken, std::vector<int64_t>{job}) << "the job's end was lost";
  sweeper->finalize_job(job);
  EXPECT_EQ(a->get_job(job)->state, JobState::kSucceeded);
}

// A submit cut in its COMMIT is recorded once: the store waits for the server to finish with
// it, looks, and runs it again only when the server rolled it back. The caller gets the job.
TEST_P(PostgresCommitCut, ASubmitCutInItsCommitIsRecordedOnce) {
  auto store = open();
  slow_commits(backend_.url(), "INSERT ON jobs", 1);
  int64_t job = 0;
  ASSERT_TRUE(cut_while([&] {
    ASSERT_NO_THROW(
        job = store->submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"a", "a.out"}}));
  })) << "no submit was seen in its COMMIT: the test would prove nothing";
  expect_recorded_as_cut();
  const auto jobs = store->list_jobs("", std::nullopt, 10);
  ASSERT_EQ(jobs.size(), 1u) << "the submit ran twice, or was lost";
  EXPECT_EQ(jobs[0].id, job) << "the caller was given another job's id";
  EXPECT_EQ(store->get_job(job)->items_total, 1);
}

// When the server is still committing after the store's wait, nobody can know yet: the submit
// says it may have been recorded, and is not run again.
TEST_F(PostgresReconnect, ASubmitStillCommittingAfterTheWaitSaysItMayHaveBeenRecorded) {
  backend_.open();  // creates the database
  fcd_test::CuttingProxy proxy(backend_.url());
  fcd::PostgresJobStore store(proxy.url());
  const double longer = fcd::pg::kReconnectFor.count() + 3.0;
  slow_commits(backend_.url(), "INSERT ON jobs", longer);
  bool cut = false;
  std::thread cutter([&] { cut = cut_a_commit(backend_.url(), Cut::kClientLoses, proxy); });
  std::string said;
  try {
    store.submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"a", "a.out"}});
  } catch (const fcd::pg::CommitInDoubt& e) {
    said = e.what();
    EXPECT_FALSE(e.settled);
  }
  cutter.join();
  ASSERT_TRUE(cut) << "no submit was seen in its COMMIT: the test would prove nothing";
  EXPECT_NE(said.find("may or may not have been recorded, and the server was still at it"),
            std::string::npos)
      << said;
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the server finishes the COMMIT
  EXPECT_EQ(store.list_jobs("", std::nullopt, 10).size(), 1u) << "the submit ran twice";
}

// What a user reads when the database is away: where it is (never the password) and what to do.
TEST(PostgresUnreachable, TheErrorSaysWhereTheDatabaseIsAndWhatToCheck) {
  try {
    fcd::PostgresJobStore store("postgresql://fc:SE/CRET@/queue?host=/nonexistent-fc-socket-dir");
    FAIL() << "opened a store on a server that is not there";
  } catch (const fcd::DbError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the job database at /nonexistent-fc-socket-dir/queue is unreachable"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("check that PostgreSQL is running"), std::string::npos) << what;
    EXPECT_EQ(what.find("CRET"), std::string::npos) << "the password leaked: " << what;
  }
}

// A cluster of its own: the restart cuts every connection to it.
TEST(PostgresRestart, AStoreCarriesOnThroughAServerRestart) {
  std::string why;
  auto cluster = fcd_test::PgCluster::start_durable(&why);
  if (!cluster) GTEST_SKIP() << why;
  const std::string url = cluster->create_database();
  fcd::PostgresJobStore a(url), b(url);
  const int64_t job = a.submit(JobKind::kTransform, "ann", 0, "{}", "/out", {{"in", "out"}});
  // Submits go on while the server restarts: each waits for it to come back. The one answer
  // other than success allowed is a submit whose COMMIT the shutdown cut: it may or may not
  // have been recorded, and must say so, not guess.
  std::atomic<bool> restarted{false};
  bool restart_ok = false;
  std::thread restarter([&] {
    restart_ok = cluster->restart(&why);
    restarted = true;
  });
  int submits = 0, in_doubt = 0;
  std::string failure;
  while (!restarted) {
    try {
      a.submit(JobKind::kTransform, "bob", 0, "{}", "/out", {{"x", "x.out"}});
      ++submits;
    } catch (const fcd::pg::CommitInDoubt&) {
      ++in_doubt;
    } catch (const std::exception& e) {
      failure = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  restarter.join();
  ASSERT_TRUE(restart_ok) << why;
  EXPECT_EQ(failure, "") << "a submit failed while the server restarted";
  const int64_t seen = b.published_event_id();
  std::vector<fcd::Claim> claims;
  ASSERT_NO_THROW(claims = a.claim_batch("w1", false, true, 1));
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(
      a.finish_items({{claims[0].job.id, claims[0].item.idx, ItemOutcome::kSucceeded, "", ""}}),
      std::vector<int64_t>{claims[0].job.id});
  b.wait_for_event(seen, std::chrono::seconds(10));
  EXPECT_GT(b.published_event_id(), seen) << "b's listener did not come back";
  const size_t jobs = b.list_jobs("", std::nullopt, 100000).size();
  EXPECT_GE(jobs, static_cast<size_t>(1 + submits));
  EXPECT_LE(jobs, static_cast<size_t>(1 + submits + in_doubt));
  EXPECT_EQ(b.get_job(job)->items_total, 1);
}

#else

TEST(PostgresReconnect, NotBuilt) {
  GTEST_SKIP() << "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
}

#endif

}  // namespace
