#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/model_registry.h"
#include "store/migrations.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;

class FakeTranslator : public fc::FaceTranslator {
 public:
  explicit FakeTranslator(std::string name) { card_.name = std::move(name); }
  std::vector<cv::Mat> translate(const std::vector<cv::Mat>& f, const std::string&, bool) override {
    return f;
  }
  const fc::ModelCard& card() const override { return card_; }
  std::string device() const override { return "cpu"; }

 private:
  fc::ModelCard card_;
};

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "mine");
    fs::create_directories(tmp_ / "shipped");
    db_ = std::make_unique<fcd::Database>(tmp_ / "s.db");
    fcd::apply_migrations(*db_);
  }
  void model(const std::string& dir, const std::string& name, bool card = true) {
    std::ofstream(tmp_ / (dir + "/" + name + ".pt")) << "weights";
    if (card) std::ofstream(tmp_ / (dir + "/" + name + ".card.json")) << "{}";
  }
  std::unique_ptr<fcd::ModelRegistry> registry() {
    return std::make_unique<fcd::ModelRegistry>(
        *db_, std::vector<std::string>{tmp_ / "mine", tmp_ / "shipped"},
        [this](const std::string& path) -> std::shared_ptr<fc::FaceTranslator> {
          ++loads_;
          if (path.find("broken") != std::string::npos)
            throw std::runtime_error("card does not match the weights");
          return std::make_shared<FakeTranslator>(fs::path(path).stem().string());
        });
  }
  fcd_test::TempDir tmp_;
  std::unique_ptr<fcd::Database> db_;
  int loads_ = 0;
};

TEST_F(ModelRegistryTest, ScansModelsWithCardsOnly) {
  model("mine", "trained");
  model("shipped", "base");
  model("shipped", "nocard", false);
  auto r = registry();
  r->scan();
  auto all = r->list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "base");
  EXPECT_EQ(all[1].name, "trained");
  EXPECT_EQ(all[1].card_json, "{}");
}

TEST_F(ModelRegistryTest, StartsWithoutAnyModel) {
  auto r = registry();
  r->activate_initial("", tmp_ / "shipped");
  EXPECT_EQ(r->current(), nullptr);
  EXPECT_EQ(r->active_name(), "");
}

TEST_F(ModelRegistryTest, PrefersConfiguredThenStoredThenShipped) {
  model("mine", "trained");
  model("shipped", "base");
  {
    auto r = registry();
    r->activate_initial("", tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "base") << "first shipped model without other choices";
    r->activate("trained");
  }
  {
    auto r = registry();
    r->activate_initial("", tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "trained") << "the stored active model survives a restart";
  }
  auto r = registry();
  r->activate_initial("base", tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "base") << "the config's active_model wins";
}

TEST_F(ModelRegistryTest, ShippedDefaultFileNamesTheDefault) {
  model("shipped", "base");
  model("shipped", "newer");
  {
    auto r = registry();
    r->activate_initial("", tmp_ / "shipped");
    EXPECT_EQ(r->active_name(), "base") << "without DEFAULT: the first by name";
  }
  db_->exec("UPDATE models SET active = 0");  // as on a fresh install
  std::ofstream(tmp_ / "shipped/DEFAULT") << "newer\n";
  auto r = registry();
  r->activate_initial("", tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "newer");
}

TEST_F(ModelRegistryTest, BrokenPreferredModelFallsBack) {
  model("shipped", "base");
  model("mine", "broken");
  auto r = registry();
  r->activate_initial("broken", tmp_ / "shipped");
  EXPECT_EQ(r->active_name(), "base");
}

TEST_F(ModelRegistryTest, SwapKeepsInstancesHeldByInFlightItems) {
  model("mine", "one");
  model("mine", "two");
  auto r = registry();
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

TEST_F(ModelRegistryTest, UnknownOrBrokenModelLeavesTheActiveOne) {
  model("mine", "one");
  model("mine", "broken");
  auto r = registry();
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

TEST_F(ModelRegistryTest, RegistersATrainedModel) {
  auto r = registry();
  model("mine", "fresh");
  EXPECT_EQ(r->register_model(tmp_ / "mine/fresh.pt"), "fresh");
  EXPECT_THROW(r->register_model(tmp_ / "mine/absent.pt"), std::runtime_error);
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
TEST_F(ModelRegistryTest, InstallingATrainedModelNeverTakesAnotherOwnersName) {
  model("shipped", "facecycle-utk-v5");
  auto r = registry();
  r->scan();
  EXPECT_EQ(r->owner_of("facecycle-utk-v5"), std::string());
  EXPECT_EQ(r->owner_of("nothing"), std::nullopt);

  fs::create_directories(tmp_ / "job1");
  model("job1", "facecycle-utk-v5");
  std::ofstream(tmp_ / "job1/facecycle-utk-v5.pt") << "bob's weights";
  try {
    r->install_model(tmp_ / "job1/facecycle-utk-v5.pt", tmp_ / "mine", "bob", false);
    FAIL() << "bob replaced the shipped model";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("only an admin may replace it"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp_ / "mine/facecycle-utk-v5.pt")) << "a restart's scan would take it";
  EXPECT_EQ(fs::path(r->list()[0].path).parent_path(), fs::path(tmp_ / "shipped"));

  fs::create_directories(tmp_ / "job2");
  model("job2", "alices");
  auto path = r->install_model(tmp_ / "job2/alices.pt", tmp_ / "mine", "alice", false);
  EXPECT_EQ(path, tmp_ / "mine/alices.pt");
  EXPECT_EQ(r->owner_of("alices"), "alice");
  model("job1", "alices");
  std::ofstream(tmp_ / "job1/alices.pt") << "bob's weights";
  try {
    r->install_model(tmp_ / "job1/alices.pt", tmp_ / "mine", "bob", false);
    FAIL() << "bob replaced alice's model";
  } catch (const std::runtime_error& e) {
    // bob's job's events say so; who owns the name is not his to learn.
    EXPECT_NE(std::string(e.what()).find("belongs to another user"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("belongs to alice"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_all(tmp_ / "mine/alices.pt"), "weights") << "alice's file is untouched";
  // Her own name again, and an admin's job, may replace.
  model("job2", "alices");
  EXPECT_NO_THROW(r->install_model(tmp_ / "job2/alices.pt", tmp_ / "mine", "alice", false));
  EXPECT_NO_THROW(r->install_model(tmp_ / "job1/alices.pt", tmp_ / "mine", "root", true));
  EXPECT_EQ(read_all(tmp_ / "mine/alices.pt"), "bob's weights");
  EXPECT_EQ(r->owner_of("alices"), "root");
}
