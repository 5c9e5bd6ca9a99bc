// Config parsing: defaults from the paper, presets, and errors that name the offending key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "train_config.h"

using fc::train::ClassifierInput;
using fc::train::parse_train_config;
using fc::train::TaskKind;

namespace {

const char* kMinimal = R"(
[data]
synthetic = {n = 100, seed = 2}
[tasks.age]
a = {age = [20, 29]}
b = {age = [50, 59]}
restrict = {race = [0]}
[tasks.race]
a = {race = [0]}
b = {race = [1]}
restrict = {age = [18, 60]}
[[stages]]
size = 32
steps = 10
batch = 2
)";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The message of the std::invalid_argument thrown for `text`, or "" when it parses.
std::string error_for(const std::string& text) {
  try {
    parse_train_config(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& extra) { return std::string(kMinimal) + extra; }

}  // namespace

TEST(TrainerConfig, DefaultsFollowThePaper) {
  auto c = parse_train_config(kMinimal);
  EXPECT_DOUBLE_EQ(c.lambda_cycle, 10.0);
  EXPECT_DOUBLE_EQ(c.lambda_identity, 5.0);
  EXPECT_DOUBLE_EQ(c.lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.beta1, 0.5);
  EXPECT_EQ(c.pool_size, 50);
  ASSERT_EQ(c.tasks.size(), 2u);
  EXPECT_EQ(c.tasks[0].name, "age");
  EXPECT_EQ(c.tasks[0].domains.a_name, "20-29");
  EXPECT_EQ(c.tasks[0].domains.b_name, "50-59");
  EXPECT_EQ(c.tasks[1].domains.a_name, "White");
  EXPECT_EQ(c.tasks[1].domains.b_name, "Black");
  EXPECT_EQ(c.tasks[0].domains.restrict.races, std::vector<int>{0});
  EXPECT_TRUE(c.synthetic);
  EXPECT_EQ(c.synthetic_n, 100);
  EXPECT_EQ(fc::enum_name(c.precision), "fp32");
}

TEST(TrainerConfig, PrecisionIsFp32OrBf16) {
  EXPECT_EQ(
      fc::enum_name(parse_train_config("precision = \"bf16\"\n" + std::string(kMinimal)).precision),
      "bf16");
  EXPECT_NE(error_for("precision = \"fp16\"\n" + std::string(kMinimal)).find("precision"),
            std::string::npos);
}

TEST(TrainerConfig, OriginalPresetLowersTheCycleWeight) {
  auto c = parse_train_config(with("[losses]\npreset = \"original\"\n"));
  EXPECT_LT(c.lambda_cycle, 10.0);
  EXPECT_DOUBLE_EQ(c.lambda_identity, 0.5 * c.lambda_cycle);
  auto d = parse_train_config(with("[losses]\npreset = \"original\"\nlambda_cycle = 7\n"));
  EXPECT_DOUBLE_EQ(d.lambda_cycle, 7.0);  // an explicit value wins over the preset
}

TEST(TrainerConfig, UpsampleIsMarkedWhenTheFileSetsIt) {
  // A warm start keeps the model's upsampling unless the file names one.
  EXPECT_FALSE(parse_train_config(kMinimal).upsample_given);
  auto c = parse_train_config(with("[generator]\nupsample = \"resize_conv_bilinear\"\n"));
  EXPECT_TRUE(c.upsample_given);
  EXPECT_EQ(fc::enum_name(c.upsample), "resize_conv_bilinear");
}

TEST(TrainerConfig, CycleNoiseIsOffUnlessSet) {
  EXPECT_DOUBLE_EQ(parse_train_config(kMinimal).cycle_noise, 0.0);
  EXPECT_DOUBLE_EQ(parse_train_config(with("[losses]\ncycle_noise = 0.05\n")).cycle_noise, 0.05);
  EXPECT_NE(error_for(with("[losses]\ncycle_noise = 2\n")).find("losses.cycle_noise"),
            std::string::npos);
}

TEST(TrainerConfig, SourceNegativesAreOffUnlessSet) {
  EXPECT_DOUBLE_EQ(parse_train_config(kMinimal).d_source_negatives, 0.0);
  EXPECT_DOUBLE_EQ(
      parse_train_config(with("[losses]\nd_source_negatives = 0.5\n")).d_source_negatives, 0.5);
  EXPECT_NE(
      error_for(with("[losses]\nd_source_negatives = -1\n")).find("losses.d_source_negatives"),
      std::string::npos);
}

TEST(TrainerConfig, LocalDiscriminatorsAreOffUnlessSet) {
  EXPECT_EQ(parse_train_config(kMinimal).d_local_layers, 0);
  const auto c = parse_train_config(with("[discriminator]\nlocal_layers = 1\nlocal_weight = 2\n"));
  EXPECT_EQ(c.d_local_layers, 1);
  EXPECT_DOUBLE_EQ(c.lambda_local, 2.0);
  EXPECT_NE(error_for(with("[discriminator]\nlocal_layers = 5\n")).find("local_layers"),
            std::string::npos);
}

TEST(TrainerConfig, DomainClassifierAndEmaAreOffUnlessSet) {
  EXPECT_DOUBLE_EQ(parse_train_config(kMinimal).lambda_cls, 0.0);
  EXPECT_DOUBLE_EQ(parse_train_config(kMinimal).g_ema, 0.0);
  EXPECT_DOUBLE_EQ(parse_train_config(with("[losses]\nlambda_cls = 2\n")).lambda_cls, 2.0);
  EXPECT_EQ(parse_train_config(kMinimal).cls_input, ClassifierInput::kColour);
  EXPECT_EQ(parse_train_config(with("[losses]\ncls_input = \"grey\"\n")).cls_input,
            ClassifierInput::kGrey);
  EXPECT_NE(error_for(with("[losses]\ncls_input = \"gray\"\n")).find("losses.cls_input"),
            std::string::npos);
  EXPECT_NE(error_for(with("[generator]\nema = 1.5\n")).find("generator.ema"), std::string::npos);
}

TEST(TrainerConfig, ChromaGridIsOffUnlessSetAndNeedsResidualOutput) {
  EXPECT_EQ(parse_train_config(kMinimal).generator_options().chroma_grid, 0);
  const auto c = parse_train_config(with("[generator]\noutput = \"residual\"\nchroma_grid = 4\n"));
  EXPECT_EQ(c.generator_options().chroma_grid, 4);
  EXPECT_NE(error_for(with("[generator]\nchroma_grid = 4\n")).find("generator.chroma_grid"),
            std::string::npos)
      << "an image-output generator has no change to filter";
  EXPECT_NE(error_for(with("[generator]\noutput = \"residual\"\nchroma_grid = -1\n"))
                .find("generator.chroma_grid"),
            std::string::npos);
}

TEST(TrainerConfig, DesaturationMapIsOffUnlessSetAndNeedsResidualOutput) {
  EXPECT_FALSE(parse_train_config(kMinimal).generator_options().desaturation_map);
  const auto c =
      parse_train_config(with("[generator]\noutput = \"residual\"\ndesaturation_map = true\n"));
  EXPECT_TRUE(c.generator_options().desaturation_map);
  EXPECT_NE(
      error_for(with("[generator]\ndesaturation_map = true\n")).find("generator.desaturation_map"),
      std::string::npos)
      << "an image-output generator has no change to add to";
}

// Tone is a real race cue but only a tint for age: each task may set its own classifier and
// cycle weight; tasks that set none keep [losses].
TEST(TrainerConfig, TaskLossWeightsOverrideTheLossesSection) {
  std::string text(kMinimal);
  text.replace(text.find("restrict = {age = [18, 60]}"), 27,
               "restrict = {age = [18, 60]}\nlambda_cls = 2.5\ncls_input = \"colour\"\n"
               "lambda_cycle = 0.5");
  const auto c = parse_train_config(
      text + "[losses]\nlambda_cls = 1.25\ncls_input = \"grey\"\nlambda_cycle = 1\n");
  EXPECT_DOUBLE_EQ(c.tasks[0].lambda_cls, 1.25);
  EXPECT_EQ(c.tasks[0].cls_input, ClassifierInput::kGrey);
  EXPECT_DOUBLE_EQ(c.tasks[0].lambda_cycle, 1.0);
  EXPECT_DOUBLE_EQ(c.tasks[1].lambda_cls, 2.5);
  EXPECT_EQ(c.tasks[1].cls_input, ClassifierInput::kColour);
  EXPECT_DOUBLE_EQ(c.tasks[1].lambda_cycle, 0.5);
  text.replace(text.find("lambda_cls = 2.5"), 16, "lambda_cls = -1");
  EXPECT_NE(error_for(text).find("tasks.race.lambda_cls"), std::string::npos);
}

// Only the task that asks for a reduced classifier view gets one; 0 is refused with its key.
TEST(TrainerConfig, ClassifierDownsampleIsATaskKey) {
  std::string text(kMinimal);
  text.replace(text.find("restrict = {age = [18, 60]}"), 27,
               "restrict = {age = [18, 60]}\ncls_downsample = 2");
  const auto c = parse_train_config(text);
  EXPECT_EQ(c.tasks[0].cls_downsample, 1);
  EXPECT_EQ(c.tasks[1].cls_downsample, 2);
  text.replace(text.find("cls_downsample = 2"), 18, "cls_downsample = 0");
  EXPECT_NE(error_for(text).find("tasks.race.cls_downsample"), std::string::npos);
}

// The classifier's strength is per task: the age classifier can be made stronger while the
// race one stays as it was.
TEST(TrainerConfig, ClassifierStrengthIsATaskKey) {
  std::string text(kMinimal);
  text.replace(text.find("restrict = {age = [18, 60]}"), 27,
               "restrict = {age = [18, 60]}\ncls_width = 96\ncls_lr_scale = 2.5\ncls_steps = 3");
  const auto c = parse_train_config(text);
  EXPECT_EQ(c.tasks[0].cls_width, 0) << "0: as wide as the discriminators";
  EXPECT_DOUBLE_EQ(c.tasks[0].cls_lr_scale, 1.0);
  EXPECT_EQ(c.tasks[0].cls_steps, 1);
  EXPECT_EQ(c.tasks[1].cls_width, 96);
  EXPECT_DOUBLE_EQ(c.tasks[1].cls_lr_scale, 2.5);
  EXPECT_EQ(c.tasks[1].cls_steps, 3);
  for (const auto& [good, bad] : {std::pair{"cls_steps = 3", "cls_steps = 0"},
                                  std::pair{"cls_lr_scale = 2.5", "cls_lr_scale = 0"},
                                  std::pair{"cls_width = 96", "cls_width = -8"}}) {
    std::string wrong = text;
    wrong.replace(wrong.find(good), std::string(good).size(), bad);
    const std::string key = std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_NE(error_for(wrong).find("tasks.race." + key), std::string::npos) << bad;
  }
}

// A held task keeps the warm start's edit: it needs a warm start, a fixed balance (its steps have
// no adversarial losses for an adaptive one to read) and every weight training.
TEST(TrainerConfig, AHeldTaskNeedsAWarmStartAFixedBalanceAndAllWeights) {
  std::string text(kMinimal);
  text.replace(text.find("restrict = {race = [0]}"), 23, "restrict = {race = [0]}\nhold = 2.5");
  const std::string warm = "warm_start = \"v45.pt\"\n";
  const auto c = parse_train_config(warm + text);
  EXPECT_DOUBLE_EQ(c.tasks[0].hold, 2.5);
  EXPECT_DOUBLE_EQ(c.tasks[1].hold, 0.0) << "off unless set";
  EXPECT_NE(error_for(text).find("tasks.age.hold: holds the warm start's edit: set warm_start"),
            std::string::npos)
      << error_for(text);
  EXPECT_NE(error_for(warm + text + "[balance]\nmode = \"adaptive\"\n")
                .find("tasks.age.hold: needs [balance] mode = \"fixed\""),
            std::string::npos);
  EXPECT_NE(error_for(warm + text + "[generator]\ntrain = \"condition_norms\"\n")
                .find("tasks.age.hold: needs [generator] train = \"all\""),
            std::string::npos);
}

// A run's name and tags come from the config when the command line gives none.
TEST(TrainerConfig, RunNameAndTagsAreShortPrintableWords) {
  const auto c = parse_train_config(
      "run_name = \"v14 race cls\"\ntags = [\"race\", \"lr=1e-4\"]\n" + std::string(kMinimal));
  EXPECT_EQ(c.run_name, "v14 race cls");
  EXPECT_EQ(c.tags, (std::vector<std::string>{"race", "lr=1e-4"}));
  EXPECT_TRUE(parse_train_config(kMinimal).tags.empty());
  EXPECT_NE(error_for("tags = [\"two words\"]\n" + std::string(kMinimal)).find("tags:"),
            std::string::npos);
  EXPECT_NE(error_for("tags = \"race\"\n" + std::string(kMinimal)).find("array of strings"),
            std::string::npos);
  EXPECT_NE(error_for("run_name = \"" + std::string(81, 'x') + "\"\n" + kMinimal).find("run_name"),
            std::string::npos);
}

// A task declares what it edits; configs without `kind` keep what their filters meant.
TEST(TrainerConfig, TaskKindIsDeclaredOrFollowsTheFilters) {
  auto c = parse_train_config(kMinimal);
  EXPECT_EQ(c.tasks[0].kind, TaskKind::kAge);
  EXPECT_EQ(c.tasks[1].kind, TaskKind::kRace);
  auto d = parse_train_config(std::string(kMinimal) + "[tasks.tone]\nkind = \"age\"\n" +
                              "a = {race = [0]}\nb = {race = [1]}\n");
  EXPECT_EQ(d.tasks[2].kind, TaskKind::kAge);
  EXPECT_NE(error_for(with("[tasks.old]\nkind = \"race\"\na = {age = [50, 59]}\n"
                           "b = {age = [20, 29]}\n"))
                .find("tasks.old.kind"),
            std::string::npos);
  EXPECT_NE(error_for(with("[tasks.x]\nkind = \"hair\"\na = {race = [0]}\nb = {race = [1]}\n"))
                .find("tasks.x.kind"),
            std::string::npos);
}

// Issue 12: a 50,000-part dotted key or header overflowed toml++'s stack (SIGSEGV).
TEST(TrainerConfig, DeepKeysAreRefusedBeforeParsing) {
  std::string key = "k";
  for (int i = 0; i < 50000; ++i) key += ".k";
  EXPECT_NE(error_for(key + " = 1\n").find("parts"), std::string::npos);
  EXPECT_NE(error_for("[" + key + "]\n").find("parts"), std::string::npos);
}

TEST(TrainerConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_for(with("[[stages]]\nsize = 50\nsteps = 5\nbatch = 2\n")),
            "stages[1].size: 50 is not divisible by 4");
  EXPECT_NE(error_for(with("[[stages]]\nsize = 16\nsteps = 5\n")).find("stages[1].size"),
            std::string::npos)
      << "a shrinking stage must be refused";
  EXPECT_NE(error_for(with("[optimizer]\nlr = \"fast\"\n")).find("optimizer.lr"),
            std::string::npos);
  EXPECT_NE(error_for(with("[optimizer]\nlearning_rate = 1e-3\n"))
                .find("optimizer.learning_rate: unknown key"),
            std::string::npos);
  EXPECT_NE(error_for(with("[balance]\nmode = \"random\"\n")).find("balance.mode"),
            std::string::npos);
  EXPECT_NE(
      error_for(with("[generator]\nconditioning = \"film\"\n")).find("generator.conditioning"),
      std::string::npos);
  EXPECT_NE(error_for(with("[checkpoint]\nkeep_last = 0\n")).find("checkpoint.keep_last"),
            std::string::npos);
  EXPECT_NE(error_for(with("typo_key = 1\n")).find("typo_key: unknown key"), std::string::npos);
  EXPECT_NE(error_for(with("[tasks.gender]\na = {gender = [0]}\n")).find("tasks.gender.b"),
            std::string::npos);
  EXPECT_NE(
      error_for(with("[tasks.hair]\na = {hair = [1]}\nb = {age = [1, 2]}\n")).find("tasks.hair.a"),
      std::string::npos)
      << "label filters are checked too";
  EXPECT_NE(error_for("[data]\ndir = \"x\"\n[[stages]]\nsize = 32\n").find("tasks"),
            std::string::npos);
  EXPECT_NE(error_for("this is = not toml =").find(":1:"), std::string::npos)
      << "syntax errors carry the line";
}

TEST(TrainerConfig, ShippedConfigsParse) {
  // Every training config in configs/, so that one added with a model's card (to re-derive it)
  // cannot rot; the daemon's example config is not a training config.
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(FC_SOURCE_DIR "/configs")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".toml" || name == "facecycled.example.toml") continue;
    const std::string text = read_text(entry.path());
    ASSERT_FALSE(text.empty()) << name;
    EXPECT_NO_THROW(parse_train_config(text, name)) << name;
    ++parsed;
  }
  EXPECT_GE(parsed, 25) << "configs/ holds every model's training config";
  auto c = parse_train_config(read_text(FC_SOURCE_DIR "/configs/original.toml"));
  EXPECT_EQ(fc::enum_name(c.conditioning), "channel4");
  EXPECT_EQ(fc::enum_name(c.loss_preset), "original");
  EXPECT_EQ(c.tasks.size(), 2u);
}

// keep_shape prices both directions by default; a race task may price only its reverse
// direction, and a misspelt choice is refused naming its key.
TEST(TrainerConfig, ShapePriceDirectionsAreChosenPerTask) {
  auto race_with = [](const std::string& keys) {
    std::string text = kMinimal;
    const std::string anchor = "restrict = {age = [18, 60]}\n";
    return text.replace(text.find(anchor), anchor.size(), anchor + keys);
  };
  const auto plain = parse_train_config(race_with("keep_shape = 2\n"));
  EXPECT_EQ(fc::enum_name(plain.tasks[1].keep_shape_on), "both");
  const auto c = parse_train_config(race_with("keep_shape = 2\nkeep_shape_on = \"reverse\"\n"));
  EXPECT_EQ(fc::enum_name(c.tasks[1].keep_shape_on), "reverse");
  EXPECT_EQ(fc::enum_name(c.tasks[0].keep_shape_on), "both");  // the age task is untouched
  EXPECT_NE(error_for(race_with("keep_shape_on = \"sideways\"\n")).find("tasks.race.keep_shape_on"),
            std::string::npos);
}
