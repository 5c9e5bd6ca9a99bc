// The domain gate beside a model: what it reads survives its file, a file that is not a gate is
// refused by name, and the translator answers for the gate's tasks only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "facecycle/core/domain_gate.h"
#include "facecycle/core/model_file.h"
#include "facecycle/core/safetensors.h"
#include "facecycle/core/synthetic_faces.h"
#include "facecycle/core/translator.h"

namespace {
namespace fs = std::filesystem;

class DomainGate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fc_gate_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static fc::GateSpec race_spec() {
    fc::GateSpec spec;
    spec.size = 32;
    spec.width = 4;
    spec.tasks = {{"race", "White", "Black"}};
    spec.skip_at = 0.95;
    return spec;
  }
  fc::DomainGate seeded_gate() {
    torch::manual_seed(3);
    fc::DomainGate g(race_spec());
    g->eval();
    return g;
  }
  fs::path dir_;
};

TEST_F(DomainGate, ItReadsTheSameAfterItsFileAndReverseAsksTheOtherDomain) {
  auto gate = seeded_gate();
  const torch::Tensor x = torch::rand({5, 3, 40, 40}) * 2 - 1;
  const torch::Tensor p = fc::target_probability(gate, x, 0, false);
  const std::string path = (dir_ / "m.gate.safetensors").string();
  fc::save_gate(path, gate);
  auto loaded = fc::load_gate(path);
  EXPECT_EQ(loaded->spec().size, 32);
  EXPECT_EQ(loaded->spec().width, 4);
  EXPECT_EQ(loaded->spec().skip_at, 0.95);
  ASSERT_EQ(loaded->spec().tasks.size(), 1u);
  EXPECT_EQ(loaded->spec().tasks[0].b_name, "Black");
  const torch::Tensor q = fc::target_probability(loaded, x, 0, false);
  EXPECT_TRUE(torch::allclose(q, p, 0, 5e-3)) << "half-precision storage keeps its reading";
  EXPECT_TRUE(torch::allclose(fc::target_probability(loaded, x, 0, true), 1 - q));
  int64_t values = 0;
  for (const auto& t : gate->parameters()) values += t.numel();
  EXPECT_LT(fs::file_size(path), 2 * values + 4096) << "stored in half precision";
  EXPECT_THROW(fc::target_probability(loaded, x, 1, false), std::invalid_argument);
}

TEST_F(DomainGate, AFileThatIsNotAGateIsRefusedNamingIt) {
  const std::string path = (dir_ / "weights.safetensors").string();
  fc::write_safetensors(path, {{"w", torch::zeros({2})}}, {{"format", "pt"}});
  try {
    fc::load_gate(path);
    FAIL() << "a model's weights were read as a gate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a domain gate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fc::gate_path_for("/models/x-v1.pt"), "/models/x-v1.gate.safetensors");
}

TEST_F(DomainGate, TheTranslatorReadsTheGateBesideItsModelForTheGatesTasksOnly) {
  fc::GeneratorOptions o;
  o.width = 8;
  o.blocks = 1;
  const std::string model = (dir_ / "m.pt").string();
  fc::write_seeded_model(model, o, 32, 21, "gate-test");
  fc::TranslatorOptions t;
  t.device = fc::DeviceChoice::kCpu;
  t.threads = 1;
  const std::vector<cv::Mat> faces{fc::render_face(fc::random_identity(1), {0.5f, 0.2f}, 48),
                                   fc::render_face(fc::random_identity(2), {0.5f, 0.8f}, 48)};
  EXPECT_TRUE(fc::load_translator(model, t)->read_target(faces, "race", false).p_target.empty())
      << "no gate file: every face is edited";

  auto gate = seeded_gate();
  fc::save_gate(fc::gate_path_for(model), gate);
  auto translator = fc::load_translator(model, t);
  const fc::TargetReading r = translator->read_target(faces, "race", false);
  ASSERT_EQ(r.p_target.size(), 2u);
  EXPECT_EQ(r.skip_at, 0.95);
  EXPECT_EQ(r.target, translator->card().condition("race", false).to);
  const fc::TargetReading back = translator->read_target(faces, "race", true);
  ASSERT_EQ(back.p_target.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(r.p_target[i], 0.0);
    EXPECT_LT(r.p_target[i], 1.0);
    EXPECT_NEAR(back.p_target[i], 1.0 - r.p_target[i], 1e-6);
  }
  EXPECT_TRUE(translator->read_target(faces, "age", false).p_target.empty()) << "not gated";
  EXPECT_FALSE(translator->read_target(faces, "age", false).gated());
  EXPECT_THROW(translator->read_target(faces, "hair", false), std::invalid_argument);
  // With no faces the reading says only whether the direction is gated, and at what threshold
  // (--skip-existing compares it, output_guard.h).
  const fc::TargetReading asked = translator->read_target({}, "race", true);
  EXPECT_TRUE(asked.gated());
  EXPECT_TRUE(asked.p_target.empty());
  EXPECT_EQ(asked.skip_at, 0.95);
}

// What `facecycle models` lists of a gate, read from its file's header without the weights.
TEST_F(DomainGate, ItsSpecIsReadBesideTheModelWithoutItsWeights) {
  const std::string model = (dir_ / "m.pt").string();
  EXPECT_FALSE(fc::read_gate_spec(model).has_value()) << "no gate beside the model";
  auto gate = seeded_gate();
  fc::save_gate(fc::gate_path_for(model), gate);
  const auto spec = fc::read_gate_spec(model);
  ASSERT_TRUE(spec.has_value());
  ASSERT_EQ(spec->tasks.size(), gate->spec().tasks.size());
  EXPECT_EQ(spec->tasks[0].task, gate->spec().tasks[0].task);
  EXPECT_EQ(spec->skip_at, gate->spec().skip_at);
  fc::write_safetensors(fc::gate_path_for(model), {{"w", torch::zeros({2})}}, {{"format", "pt"}});
  EXPECT_THROW(fc::read_gate_spec(model), std::runtime_error) << "a file that is not a gate";
}

}  // namespace
