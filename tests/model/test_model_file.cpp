// Model files: save -> load round trip, and cards that do not match the weights.
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "facecycle/core/model_file.h"
#include "facecycle/core/safetensors.h"
#include "model_test_util.h"

namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("fc_model_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

fc::GeneratorOptions tiny_options() {
  fc::GeneratorOptions o;
  o.width = 8;
  o.blocks = 2;
  return o;
}

// Saves g with a minimal card (32 px, the default conditions) and loads it back.
fc::LoadedModel save_and_load(const std::string& model, fc::ResnetGenerator& g,
                              const std::string& name) {
  fc::ModelCard card;
  card.name = name;
  card.resolution = 32;
  card.conditions = fc::default_conditions();
  fc::save_model(model, g, card);
  return fc::load_model(model, torch::kCPU);
}

torch::Tensor forward(fc::ResnetGenerator& g, int64_t cond) {
  torch::InferenceMode guard;
  auto gen = at::detail::createCPUGenerator(5);
  auto x = torch::rand({2, 3, 32, 32}, gen) * 2 - 1;
  return g->forward(x, torch::full({2}, cond, torch::kLong));
}

void edit_card(const std::string& model, const std::function<void(nlohmann::json&)>& edit) {
  const auto path = fc::card_path_for(model);
  nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
  edit(j);
  std::ofstream(path) << j.dump(2);
}

std::string load_error(const std::string& model) {
  try {
    fc::load_model(model, torch::kCPU);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelFile, CardPathSitsBesideTheModel) {
  EXPECT_EQ(fc::card_path_for("/m/face.pt"), "/m/face.card.json");
}

TEST(ModelFile, SaveLoadRoundTripGivesIdenticalOutputs) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  auto card = fc::write_seeded_model(model, tiny_options(), 32, 11, "roundtrip");
  EXPECT_TRUE(fs::exists(fc::card_path_for(model)));
  auto original = fc::make_seeded_generator(
      [&] {
        auto o = tiny_options();
        o.num_conditions = 4;
        return o;
      }(),
      11);
  auto loaded = fc::load_model(model, torch::kCPU);
  EXPECT_EQ(loaded.card.name, "roundtrip");
  EXPECT_EQ(loaded.card.width, 8);
  EXPECT_EQ(loaded.card.conditions.size(), 4u);
  for (int c = 0; c < 4; ++c)
    EXPECT_TRUE(torch::equal(forward(original, c), forward(loaded.generator, c))) << c;
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 2);
}

TEST(ModelFile, ResidualOutputRoundTripsAndOldCardsReadAsImage) {
  TempDir dir;
  const auto model = (dir.path / "r.pt").string();
  auto g = fc::make_seeded_generator(tiny_options(), 5);
  g->start_residual();
  auto loaded = save_and_load(model, g, "residual");
  EXPECT_EQ(fc::enum_name(loaded.card.output), "residual");
  EXPECT_EQ(loaded.generator->options().output, fc::Output::kResidual);
  EXPECT_TRUE(torch::equal(forward(g, 1), forward(loaded.generator, 1)));
  auto j = loaded.card.to_json();
  j.erase("output");  // cards written before residual output existed
  EXPECT_EQ(fc::enum_name(fc::ModelCard::from_json(j).output), "image");
  j["output"] = "delta";
  EXPECT_THROW(fc::ModelCard::from_json(j), std::runtime_error);
}

// The chroma grid changes the outputs, so a model file must bring it back; older cards have none.
TEST(ModelFile, ChromaGridRoundTripsAndNeedsResidualOutput) {
  TempDir dir;
  const auto model = (dir.path / "g.pt").string();
  auto g = fc::make_seeded_generator(tiny_options(), 6);
  g->start_residual();
  fc_test::give_tail_a_change(g, 0.05);
  g->set_chroma_grid(4);
  auto loaded = save_and_load(model, g, "gridded");
  EXPECT_EQ(loaded.card.chroma_grid, 4);
  EXPECT_EQ(loaded.generator->options().chroma_grid, 4);
  EXPECT_TRUE(torch::equal(forward(g, 1), forward(loaded.generator, 1)));
  auto j = loaded.card.to_json();
  j.erase("chroma_grid");
  EXPECT_EQ(fc::ModelCard::from_json(j).chroma_grid, 0);
  j["chroma_grid"] = 4;
  j["output"] = "image";
  EXPECT_THROW(fc::ModelCard::from_json(j), std::runtime_error);
  j["output"] = "residual";
  j["chroma_grid"] = -1;
  EXPECT_THROW(fc::ModelCard::from_json(j), std::runtime_error);
}

// A model with the desaturation head loads with it; a card without the field has none.
TEST(ModelFile, DesaturationMapRoundTripsAndNeedsResidualOutput) {
  TempDir dir;
  const auto model = (dir.path / "g.pt").string();
  auto g = fc::make_seeded_generator(tiny_options(), 7);
  g->start_residual();
  g->add_desaturation_map();
  {
    torch::NoGradGuard no_grad;
    g->named_parameters()["desaturation.bias"].fill_(-0.5);
  }
  auto loaded = save_and_load(model, g, "greying");
  EXPECT_TRUE(loaded.card.desaturation_map);
  EXPECT_TRUE(loaded.generator->options().desaturation_map);
  EXPECT_TRUE(torch::equal(forward(g, 1), forward(loaded.generator, 1)));
  auto j = loaded.card.to_json();
  j.erase("desaturation_map");
  EXPECT_FALSE(fc::ModelCard::from_json(j).desaturation_map);
  j["desaturation_map"] = true;
  j["output"] = "image";
  EXPECT_THROW(fc::ModelCard::from_json(j), std::runtime_error);
}

// Model files are safetensors so that LibTorch 1.13 and 2.x read each other's (docs/GPU.md);
// the torch::save archives written before still load, to the same outputs.
TEST(ModelFile, WritesSafetensorsAndStillReadsArchives) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  fc::write_seeded_model(model, tiny_options(), 32, 13, "formats");
  EXPECT_TRUE(fc::looks_like_safetensors(model));
  const auto card = nlohmann::json::parse(std::ifstream(fc::card_path_for(model)));
  EXPECT_EQ(card.value("weights_format", ""), "safetensors");
  auto loaded = fc::load_model(model, torch::kCPU);

  const auto archive_model = (dir.path / "old.pt").string();
  torch::serialize::OutputArchive archive;
  for (const auto& p : loaded.generator->named_parameters()) archive.write(p.key(), p.value());
  for (const auto& b : loaded.generator->named_buffers()) archive.write(b.key(), b.value(), true);
  archive.save_to(archive_model);
  fs::copy_file(fc::card_path_for(model), fc::card_path_for(archive_model));
  auto old = fc::load_model(archive_model, torch::kCPU);
  for (int c = 0; c < 4; ++c)
    EXPECT_TRUE(torch::equal(forward(loaded.generator, c), forward(old.generator, c))) << c;

  std::ofstream(model, std::ios::trunc) << "neither format";
  EXPECT_NE(load_error(model).find("neither safetensors nor a readable torch archive"),
            std::string::npos)
      << load_error(model);
}

TEST(ModelFile, SeededModelsAreDeterministic) {
  TempDir dir;
  fc::write_seeded_model((dir.path / "a.pt").string(), tiny_options(), 32, 3);
  fc::write_seeded_model((dir.path / "b.pt").string(), tiny_options(), 32, 3);
  auto a = fc::load_model((dir.path / "a.pt").string(), torch::kCPU);
  auto b = fc::load_model((dir.path / "b.pt").string(), torch::kCPU);
  EXPECT_TRUE(torch::equal(forward(a.generator, 1), forward(b.generator, 1)));
}

TEST(ModelFile, WidthMismatchIsNamed) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  fc::write_seeded_model(model, tiny_options(), 32, 1);
  edit_card(model, [](nlohmann::json& j) { j["width"] = 16; });
  const auto err = load_error(model);
  EXPECT_NE(err.find("card says width 16 but weights have 8 channels"), std::string::npos) << err;
}

TEST(ModelFile, ConditionCountMismatchIsNamed) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  fc::write_seeded_model(model, tiny_options(), 32, 1);
  edit_card(model, [](nlohmann::json& j) { j["conditions"].erase(3); });
  const auto err = load_error(model);
  EXPECT_NE(err.find("card lists 3 conditions but weights have 4"), std::string::npos) << err;
}

TEST(ModelFile, BlockCountMismatchIsNamed) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  fc::write_seeded_model(model, tiny_options(), 32, 1);
  edit_card(model, [](nlohmann::json& j) { j["blocks"] = 3; });
  EXPECT_NE(load_error(model).find("'res2.conv1.weight' is missing"), std::string::npos)
      << load_error(model);
  edit_card(model, [](nlohmann::json& j) { j["blocks"] = 1; });
  EXPECT_NE(load_error(model).find("res1"), std::string::npos) << load_error(model);
}

TEST(ModelFile, ConditioningMismatchIsNamed) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  fc::write_seeded_model(model, tiny_options(), 32, 1);
  edit_card(model, [](nlohmann::json& j) { j["conditioning"] = "channel4"; });
  EXPECT_NE(load_error(model).find("conditioning"), std::string::npos) << load_error(model);
}

TEST(ModelFile, MissingCardOrFileIsExplained) {
  TempDir dir;
  const auto model = (dir.path / "m.pt").string();
  EXPECT_NE(load_error(model).find("not found"), std::string::npos);
  fc::write_seeded_model(model, tiny_options(), 32, 1);
  fs::remove(fc::card_path_for(model));
  EXPECT_NE(load_error(model).find("card.json"), std::string::npos) << load_error(model);
}

TEST(ModelCard, JsonRoundTripAndBadFields) {
  fc::ModelCard card;
  card.name = "x";
  card.conditions = fc::default_conditions();
  auto back = fc::ModelCard::from_json(card.to_json());
  EXPECT_EQ(back.to_json(), card.to_json());
  EXPECT_EQ(back.condition_id("race", true), 3);
  EXPECT_EQ(back.tasks(), (std::vector<std::string>{"age", "race"}));
  auto j = card.to_json();
  j["width"] = "wide";
  try {
    fc::ModelCard::from_json(j);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("width"), std::string::npos);
  }
  // Floats and out-of-range numbers where an int belongs (fuzz_model_card: a cast of 6.4e52).
  for (nlohmann::json bad :
       {nlohmann::json(6.4e52), nlohmann::json(32.5), nlohmann::json(int64_t(1) << 40)}) {
    j["width"] = bad;
    try {
      fc::ModelCard::from_json(j);
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("'width' must be an integer"), std::string::npos)
          << e.what();
    }
  }
  try {
    back.condition_id("gender", false);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("age, race"), std::string::npos) << e.what();
  }
}

// A change blur goes through the card and is left out of it at 0; a count the translator would
// not apply as asked (negative, fractional, or beyond kMaxChangeBlur) is refused by name.
TEST(ModelCard, ChangeBlurRoundTripsAndIsChecked) {
  fc::ModelCard card;
  card.name = "x";
  card.conditions = fc::default_conditions();
  EXPECT_FALSE(card.to_json()["conditions"][2].contains("change_blur"));
  card.conditions[2].change_blur = 1;
  const auto back = fc::ModelCard::from_json(card.to_json());
  EXPECT_EQ(back.conditions[2].change_blur, 1);
  EXPECT_EQ(back.conditions[3].change_blur, 0);
  for (nlohmann::json bad : {nlohmann::json(-1), nlohmann::json(fc::kMaxChangeBlur + 1),
                             nlohmann::json(1.5), nlohmann::json("soft")}) {
    auto j = card.to_json();
    j["conditions"][3]["change_blur"] = bad;
    try {
      fc::ModelCard::from_json(j);
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("conditions[3].change_blur"), std::string::npos)
          << e.what();
    }
  }
}

// A calibrated direction keeps its scale through the card; an uncalibrated card reads as scale
// 1 and is written as before (no "scale" key), and a scale that would silence or flip the edit
// is refused by name.
TEST(ModelCard, CalibratedScaleRoundTripsAndIsChecked) {
  fc::ModelCard card;
  card.name = "x";
  card.conditions = fc::default_conditions();
  EXPECT_FALSE(card.to_json()["conditions"][0].contains("scale"));
  EXPECT_EQ(fc::ModelCard::from_json(card.to_json()).conditions[0].scale, 1.0);
  card.conditions[0].scale = 0.85;
  const auto back = fc::ModelCard::from_json(card.to_json());
  EXPECT_EQ(back.conditions[0].scale, 0.85);
  EXPECT_EQ(back.conditions[1].scale, 1.0);
  for (nlohmann::json bad :
       {nlohmann::json(0.0), nlohmann::json(-1.0), nlohmann::json(3.5), nlohmann::json("high")}) {
    auto j = card.to_json();
    j["conditions"][1]["scale"] = bad;
    try {
      fc::ModelCard::from_json(j);
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("conditions[1].scale"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
