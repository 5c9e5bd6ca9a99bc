#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/model_registry.h"
#include "store/migrations.h"
#include "store_backends.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;

class FakeTranslator : public fc::FaceTranslator {
 public:
  explicit FakeTranslator(std::string name) { card_.name = std::move(name); }
  const fc::ModelCard& card() const override { return card_; }
  std::string device() const override { return "cpu"; }

 protected:
  std::vector<cv::Mat> run_translate(const std::vector<cv::Mat>& f, const std::string&, bool,
                                     double) override {
    return f;
  }

 private:
  fc::ModelCard card_;
};

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
  // `dirs` empty: mine, then shipped. `on`: another database (a fresh install).
  std::unique_ptr<fcd::ModelRegistry> registry(const std::string& node = "host-a",
                                               std::vector<std::string> dirs = {},
                                               Backend* on = nullptr) {
    if (dirs.empty()) dirs = {tmp_ / "mine", tmp_ / "shipped"};
    return std::make_unique<fcd::ModelRegistry>(
        (on ? *on : backend_).catalog(node), std::move(dirs),
        [this](const std::string& path) -> std::shared_ptr<fc::FaceTranslator> {
          ++loads_;
          if (path.find("broken") != std::string::npos)
            throw std::runtime_error("card does not match the weights");
          return std::make_shared<FakeTranslator>(fs::path(path).stem().string());
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
