#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "migrations.h"
#include "model_registry.h"
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
