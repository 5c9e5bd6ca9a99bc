#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "card_translator.h"
#include "models/model_registry.h"
#include "store/migrations.h"
#include "store_backends.h"
#include "temp_dir.h"
#ifdef FC_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace {

namespace fs = std::filesystem;

// The registry on each back end's catalogue (store_backends.h); registry() is a daemon on node
// `node` of the test's database, and calling it again is a restart or another daemon.
template <typename Backend>
class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FC_SKIP_UNLESS_AVAILABLE(backend_);
    fs::create_directories(tmp_ / "mine");
    fs::create_directories(tmp_ / "shipped");
  }
  void model(const std::string& dir, const std::string& name, bool card = true) {
    std::ofstream(tmp_ / (dir + "/" + name + ".pt")) << "weights";
    if (card) std::ofstream(tmp_ / (dir + "/" + name + ".card.json")) << "{}";
  }
  // `dirs` empty: mine, then shipped. `on`: another database (a fresh install). Its loader fails
  // for a path holding `refuse`, as a host that lacks the file would.
  std::unique_ptr<fcd::ModelRegistry> registry(const std::string& node = "host-a",
                                               std::vector<std::string> dirs = {},
                                               Backend* on = nullptr,
                                               const std::string& refuse = "broken") {
    if (dirs.empty()) dirs = {tmp_ / "mine", tmp_ / "shipped"};
    return std::make_unique<fcd::ModelRegistry>(
        (on ? *on : backend_).catalog(node), std::move(dirs),
        [this, refuse](const std::string& path) -> std::shared_ptr<fc::FaceTranslator> {
          ++loads_;
          if (path.find(refuse) != std::string::npos)
            throw std::runtime_error("card does not match the weights");
          return std::make_shared<fcd_test::CardTranslator>(
              fcd_test::named_card(fs::path(path).stem().string()));
        });
  }
  fcd_test::TempDir tmp_;
  Backend backend_;
  int loads_ = 0;
};
TYPED_TEST_SUITE(ModelRegistryTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(ModelRegistryTest, ScansModelsWithCardsOnly) {
  this->model("mine", "trained");
  this->model("shipped", "base");
  this->model("shipped", "nocard", false);
  auto r = this->registry();
  r->scan();
  auto all = r->list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "base");
  EXPECT_EQ(all[1].name, "trained");
  EXPECT_EQ(all[1].card_json, "{}");
}

TYPED_TEST(ModelRegistryTest, StartsWithoutAnyModel) {
  auto r = this->registry();
  r->activate_initial("", this->tmp_ / "shipped");
  EXPECT_EQ(r->current(), nullptr);
  EXPECT_EQ(r->active_name(), "");
}

TYPED_TEST(ModelRegistryTest, PrefersConfiguredThenStoredThenShipped) {
  this->model("mine", "trained");
  this->model("shipped", "base");
  {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "base") << "first shipped model without other choices";
    r->activate("trained");
  }
  {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "trained") << "the stored active model survives a restart";
  }
  auto r = this->registry();
  r->activate_initial("base", this->tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "base") << "the config's active_model wins";
}

TYPED_TEST(ModelRegistryTest, ShippedDefaultFileNamesTheDefault) {
  this->model("shipped", "base");
  this->model("shipped", "newer");
  {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "base") << "without DEFAULT: the first by name";
  }
  TypeParam fresh;  // a fresh install's database: no active model remembered
  std::string why;
  ASSERT_TRUE(fresh.available(&why)) << why;
  std::ofstream(this->tmp_ / "shipped/DEFAULT") << "newer\n";
  auto r = this->registry("host-a", {}, &fresh);
  r->activate_initial("", this->tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "newer");
}

// An upgrade that moves models/DEFAULT must reach a data dir that never chose a model, and must
// not override one that did, across restarts.
TYPED_TEST(ModelRegistryTest, AnUpgradedDefaultReplacesTheOldOneUnlessSomeoneChose) {
  this->model("shipped", "old");
  this->model("shipped", "new");
  std::ofstream(this->tmp_ / "shipped/DEFAULT") << "old\n";
  {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "old");
  }
  std::ofstream(this->tmp_ / "shipped/DEFAULT") << "new\n";
  {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "new") << "the same database, the upgraded DEFAULT";
    r->activate("old");  // a person's choice
  }
  for (int start = 0; start < 2; ++start) {
    auto r = this->registry();
    r->activate_initial("", this->tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "old") << "a chosen model survives restart " << start;
  }
}

TYPED_TEST(ModelRegistryTest, BrokenPreferredModelFallsBack) {
  this->model("shipped", "base");
  this->model("mine", "broken");
  auto r = this->registry();
  r->activate_initial("broken", this->tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "base");
}

TYPED_TEST(ModelRegistryTest, SwapKeepsInstancesHeldByInFlightItems) {
  this->model("mine", "one");
  this->model("mine", "two");
  auto r = this->registry();
  r->scan();
  r->activate("one");
  auto held = r->current();  // an item in flight
  r->activate("two");
  EXPECT_EQ(held->card().name, "one") << "an item keeps the model it started with";
  EXPECT_EQ(r->current()->card().name, "two");
  auto listed = r->list();
  EXPECT_FALSE(listed[0].active);
  EXPECT_TRUE(listed[1].active);
}

TYPED_TEST(ModelRegistryTest, UnknownOrBrokenModelLeavesTheActiveOne) {
  this->model("mine", "one");
  this->model("mine", "broken");
  auto r = this->registry();
  r->scan();
  r->activate("one");
  try {
    r->activate("nope");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("known: broken, one"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r->activate("broken"), std::runtime_error);
  EXPECT_EQ(r->active_name(), "one");
}

TYPED_TEST(ModelRegistryTest, RegistersATrainedModel) {
  auto r = this->registry();
  this->model("mine", "fresh");
  EXPECT_EQ(r->register_model(this->tmp_ / "mine/fresh.pt"), "fresh");
  EXPECT_THROW(r->register_model(this->tmp_ / "mine/absent.pt"), std::runtime_error);
  EXPECT_NO_THROW(r->activate("fresh"));
}

}  // namespace

namespace {
std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

// Model names belong to their owner: a finished training run may not re-point (or overwrite)
// another owner's model, shipped ones included, unless an admin ran it.
TYPED_TEST(ModelRegistryTest, InstallingATrainedModelNeverTakesAnotherOwnersName) {
  this->model("shipped", "facecycle-utk-v5");
  auto r = this->registry();
  r->scan();
  EXPECT_EQ(r->owner_of("facecycle-utk-v5"), std::string());
  EXPECT_EQ(r->owner_of("nothing"), std::nullopt);

  fs::create_directories(this->tmp_ / "job1");
  this->model("job1", "facecycle-utk-v5");
  std::ofstream(this->tmp_ / "job1/facecycle-utk-v5.pt") << "bob's weights";
  try {
    r->install_model(this->tmp_ / "job1/facecycle-utk-v5.pt", this->tmp_ / "mine", "bob", false);
    FAIL() << "bob replaced the shipped model";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("only an admin may replace it"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(this->tmp_ / "mine/facecycle-utk-v5.pt"))
      << "a restart's scan would take it";
  EXPECT_EQ(fs::path(r->list()[0].path).parent_path(), fs::path(this->tmp_ / "shipped"));

  fs::create_directories(this->tmp_ / "job2");
  this->model("job2", "alices");
  auto path = r->install_model(this->tmp_ / "job2/alices.pt", this->tmp_ / "mine", "alice", false);
  EXPECT_EQ(path, this->tmp_ / "mine/alices.pt");
  EXPECT_EQ(r->owner_of("alices"), "alice");
  this->model("job1", "alices");
  std::ofstream(this->tmp_ / "job1/alices.pt") << "bob's weights";
  try {
    r->install_model(this->tmp_ / "job1/alices.pt", this->tmp_ / "mine", "bob", false);
    FAIL() << "bob replaced alice's model";
  } catch (const std::runtime_error& e) {
    // bob's job's events say so; who owns the name is not his to learn.
    EXPECT_NE(std::string(e.what()).find("belongs to another user"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("belongs to alice"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_all(this->tmp_ / "mine/alices.pt"), "weights") << "alice's file is untouched";
  // Her own name again, and an admin's job, may replace.
  this->model("job2", "alices");
  EXPECT_NO_THROW(
      r->install_model(this->tmp_ / "job2/alices.pt", this->tmp_ / "mine", "alice", false));
  EXPECT_NO_THROW(
      r->install_model(this->tmp_ / "job1/alices.pt", this->tmp_ / "mine", "root", true));
  EXPECT_EQ(read_all(this->tmp_ / "mine/alices.pt"), "bob's weights");
  EXPECT_EQ(r->owner_of("alices"), "root");
}

// Several daemons on one database (issue 18): a model trained through one daemon (installed into
// the models folder every host sees) is known to the others, with its owner, and they can load
// it, without a restart or a folder of their own holding it.
TYPED_TEST(ModelRegistryTest, AModelInstalledThroughOneDaemonIsKnownToTheOthers) {
  this->model("shipped", "base");
  auto a = this->registry("host-a");
  a->scan();
  fs::create_directories(this->tmp_ / "job");
  this->model("job", "alices");
  a->install_model(this->tmp_ / "job/alices.pt", this->tmp_ / "mine", "alice", false);

  fs::create_directories(this->tmp_ / "empty");
  auto b = this->registry("host-b", {this->tmp_ / "empty"});
  auto listed = b->list();
  ASSERT_EQ(listed.size(), 2u) << "b's own folder is empty: what it knows came from the database";
  EXPECT_EQ(listed[0].name, "alices");
  EXPECT_EQ(listed[0].path, this->tmp_ / "mine/alices.pt");
  EXPECT_EQ(listed[0].card_json, "{}");
  EXPECT_EQ(b->owner_of("alices"), "alice") << "b refuses bob's job that would take her name";
  EXPECT_EQ(b->owner_of("base"), std::string());
  EXPECT_NO_THROW(b->activate("alices"));
  EXPECT_EQ(b->current()->card().name, "alices");
}

// Which model is resident is each daemon's own (each host holds its copy on its own GPU), and
// each remembers its own across a restart.
TYPED_TEST(ModelRegistryTest, EachDaemonRemembersItsOwnActiveModel) {
  if (std::is_same_v<TypeParam, fcd_test::SqliteBackend>)
    GTEST_SKIP() << "one daemon per SQLite file: there is no other daemon's choice to keep apart";
  this->model("mine", "one");
  this->model("mine", "two");
  {
    auto a = this->registry("host-a"), b = this->registry("host-b");
    a->scan();
    a->activate("one");
    b->activate("two");
    EXPECT_EQ(a->active_name(), "one") << "b's activation does not swap a's model";
    EXPECT_TRUE(a->list()[0].active);
    EXPECT_FALSE(a->list()[1].active);
  }
  auto a = this->registry("host-a"), b = this->registry("host-b");
  a->activate_initial("", "");
  b->activate_initial("", "");
  EXPECT_EQ(a->active_name(), "one");
  EXPECT_EQ(b->active_name(), "two");
}

// `models activate NAME --everywhere` (issue 18): the daemon that is asked loads NAME, records it
// as the cluster's model and tells the others (NOTIFY), and the other daemon loads it without
// being called; the reply names both as switched. With SQLite (one daemon) it is a plain
// activate whose reply names this daemon alone.
TYPED_TEST(ModelRegistryTest, ActivatingEverywhereSwitchesTheOtherDaemonToo) {
  this->model("mine", "one");
  this->model("mine", "two");
  auto a = this->registry("host-a");
  a->activate_initial("one", "");
  if (std::is_same_v<TypeParam, fcd_test::SqliteBackend>) {
    const auto s = a->activate_everywhere("two", std::chrono::seconds(5));
    EXPECT_EQ(a->active_name(), "two");
    ASSERT_EQ(s.nodes.size(), 1u);
    EXPECT_TRUE(s.nodes[0].self);
    EXPECT_EQ(s.nodes[0].answer, fcd::ClusterAnswer::kSwitched);
    return;
  }
  auto b = this->registry("host-b");
  b->activate_initial("one", "");
  const auto s = a->activate_everywhere("two", std::chrono::seconds(30));
  EXPECT_EQ(b->active_name(), "two") << "b was told and loaded it";
  EXPECT_EQ(b->current()->card().name, "two");
  EXPECT_EQ(s.cluster_model, "two");
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].node, "host-a");
  EXPECT_TRUE(s.nodes[0].self);
  for (const auto& n : s.nodes) {
    EXPECT_EQ(n.answer, fcd::ClusterAnswer::kSwitched) << n.node;
    EXPECT_EQ(n.resident, "two") << n.node;
  }
  const auto seen_by_b = b->cluster_status();
  ASSERT_EQ(seen_by_b.nodes.size(), 2u);
  EXPECT_TRUE(seen_by_b.nodes[1].self);
  EXPECT_EQ(seen_by_b.nodes[0].resident, "two");
}

// A daemon that cannot load the cluster's model (its host lacks the file) keeps its own and says
// why; the asking daemon's reply and everyone's status show it.
TYPED_TEST(ModelRegistryTest, ADaemonThatCannotLoadTheModelKeepsItsOwnAndSaysWhy) {
  if (std::is_same_v<TypeParam, fcd_test::SqliteBackend>)
    GTEST_SKIP() << "one daemon per SQLite file: no other daemon to tell";
  this->model("mine", "one");
  this->model("mine", "two");
  auto a = this->registry("host-a");
  a->activate_initial("one", "");
  auto b = this->registry("host-b", {}, nullptr, "two.pt");
  b->activate_initial("one", "");
  const auto s = a->activate_everywhere("two", std::chrono::seconds(30));
  EXPECT_EQ(b->active_name(), "one");
  ASSERT_NE(b->current(), nullptr);
  EXPECT_EQ(b->current()->card().name, "one") << "b still serves its own model";
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].answer, fcd::ClusterAnswer::kSwitched);
  EXPECT_EQ(s.nodes[1].node, "host-b");
  EXPECT_EQ(s.nodes[1].answer, fcd::ClusterAnswer::kKept);
  EXPECT_EQ(s.nodes[1].resident, "one");
  EXPECT_NE(s.nodes[1].error.find("card does not match the weights"), std::string::npos)
      << s.nodes[1].error;
}

// A daemon that starts after an activation everywhere takes the cluster's model over the one it
// remembers; the config's active_model still comes first (docs/SCALE.md).
TYPED_TEST(ModelRegistryTest, ADaemonStartingLaterTakesTheClustersModel) {
  if (std::is_same_v<TypeParam, fcd_test::SqliteBackend>)
    GTEST_SKIP() << "one daemon per SQLite file: no cluster's model";
  this->model("mine", "one");
  this->model("mine", "two");
  this->registry("host-c")->activate("one");  // c remembers "one"
  auto a = this->registry("host-a");
  a->activate_initial("one", "");
  a->activate_everywhere("two", std::chrono::seconds(5));
  {
    auto c = this->registry("host-c");
    c->activate_initial("", "");
    EXPECT_EQ(c->active_name(), "two") << "the cluster's model comes before c's remembered one";
  }
  auto pinned = this->registry("host-c");
  pinned->activate_initial("one", "");
  EXPECT_EQ(pinned->active_name(), "one") << "the config's active_model comes first";
  for (const auto& n : a->cluster_status().nodes)
    if (n.node == "host-c") {
      EXPECT_EQ(n.answer, fcd::ClusterAnswer::kKept);
      EXPECT_NE(n.error.find("active_model"), std::string::npos) << n.error;
    }
}

#ifdef FC_HAVE_POSTGRES
// A NOTIFY sent while a daemon's listener is away is lost: after it reconnects the daemon reads
// the cluster's model again. Here the model is written without any NOTIFY, then b's listener's
// backend is killed; only the re-read after the reconnect can switch b.
TYPED_TEST(ModelRegistryTest, AfterItsListenerReconnectsADaemonReadsTheClustersModelAgain) {
  if constexpr (std::is_same_v<TypeParam, fcd_test::SqliteBackend>) {
    GTEST_SKIP() << "SQLite has no listener";
  } else {
    this->model("mine", "one");
    this->model("mine", "two");
    auto b = this->registry("host-b");
    b->activate_initial("one", "");
    pqxx::connection c(this->backend_.url());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO model_cluster (name, generation, activated_ms) VALUES ($1, 1, 0)",
                   "two");
    const auto killed =
        tx.exec("SELECT pg_terminate_backend(listener_pid) FROM model_nodes WHERE node = 'host-b'");
    tx.commit();
    ASSERT_EQ(killed.size(), 1u);
    EXPECT_TRUE(killed[0][0].as<bool>());
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (b->active_name() != "two" && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(b->active_name(), "two");
  }
}
#endif
