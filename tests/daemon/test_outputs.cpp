// Publishing without replacing, and walking input folders (--recursive).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "card_translator.h"
#include "facecycle/core/image_io.h"
#include "temp_dir.h"
#include "workers/input_walk.h"
#include "workers/output_guard.h"
#include "workers/publish.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int entries(const std::string& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(Outputs, PublishPlacesAFileOnlyWhereNoneIs) {
  fcd_test::TempDir tmp;
  fcd::publish_text(tmp / "a.txt", "first", nullptr);
  EXPECT_EQ(slurp(tmp / "a.txt"), "first");
  try {
    fcd::publish_text(tmp / "a.txt", "second", [](const std::string&) { return false; });
    FAIL() << "replaced an existing file";
  } catch (const fcd::PublishRefused& e) {
    EXPECT_NE(std::string(e.what()).find(tmp / "a.txt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(tmp / "a.txt"), "first");
  EXPECT_EQ(entries(tmp.path()), 1) << "the temporary file was left behind";
  fcd::publish_text(tmp / "a.txt", "third", [](const std::string&) { return true; });
  EXPECT_EQ(slurp(tmp / "a.txt"), "third");
  EXPECT_EQ(entries(tmp.path()), 1);
}

TEST(Outputs, PublishNeverWritesThroughASymlinkAtTheTarget) {
  fcd_test::TempDir tmp;
  std::ofstream(tmp / "victim") << "keep";
  fs::create_symlink(tmp / "victim", tmp / "out.png");
  EXPECT_THROW(fcd::publish_text(tmp / "out.png", "x", nullptr), fcd::PublishRefused);
  EXPECT_EQ(slurp(tmp / "victim"), "keep");
  EXPECT_TRUE(fs::is_symlink(tmp / "out.png"));
}

// Two outputs of one forward edit by model "m" at --strength 1, as their metadata records it:
// `without` as a file from before `extra` was recorded, `with` carrying it.
void write_edit_pair(const fs::path& tmp, const std::string& task, const std::string& without,
                     const std::string& with, const std::pair<std::string, std::string>& extra) {
  const cv::Mat img(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
  std::map<std::string, std::string> meta{{"facecycle", "machine-edited"},
                                          {"task", task},
                                          {"direction", "forward"},
                                          {"strength", "1"},
                                          {"model", "m"}};
  fc::write_image_atomic(tmp / without, img, "png", meta);
  meta.insert(extra);
  fc::write_image_atomic(tmp / with, img, "png", meta);
}

// --skip-existing keeps an output only when the same edit made it: a recalibrated card
// (Condition::scale) at the same --strength is another edit, and a file from before scales
// were recorded counts as scale 1.
TEST(Outputs, SameEditComparesTheModelsCalibratedScale) {
  fcd_test::TempDir tmp;
  fcd::TransformSpec spec;
  spec.task = "age";
  write_edit_pair(tmp.path(), "age", "old.png", "calibrated.png", {"scale", "0.85"});
  EXPECT_TRUE(fcd::same_edit(tmp / "old.png", {"m", 1.0, 0, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "old.png", {"m", 0.85, 0, ""}, spec));
  EXPECT_TRUE(fcd::same_edit(tmp / "calibrated.png", {"m", 0.85, 0, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "calibrated.png", {"m", 1.0, 0, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "calibrated.png", {"other", 0.85, 0, ""}, spec));
}

// A change blur in the card (Condition::change_blur) makes another edit too; a file from before
// blurs were recorded counts as no blur.
TEST(Outputs, SameEditComparesTheCardsChangeBlur) {
  fcd_test::TempDir tmp;
  fcd::TransformSpec spec;
  spec.task = "race";
  write_edit_pair(tmp.path(), "race", "unblurred.png", "blurred.png", {"change_blur", "1"});
  EXPECT_TRUE(fcd::same_edit(tmp / "unblurred.png", {"m", 1.0, 0, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "unblurred.png", {"m", 1.0, 1, ""}, spec));
  EXPECT_TRUE(fcd::same_edit(tmp / "blurred.png", {"m", 1.0, 1, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "blurred.png", {"m", 1.0, 0, ""}, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "blurred.png", {"m", 1.0, 2, ""}, spec));
}

// A model with a domain gate for "race" (threshold 0.98) and none for "age".
class GatedModel : public fcd_test::CardTranslator {
 public:
  GatedModel() : CardTranslator(gated_card()) {}
  fc::TargetReading read_target(const std::vector<cv::Mat>&, const std::string& task,
                                bool reverse) override {
    if (task != "race") return {};
    return {{}, 0.98, card().condition(task, reverse).to};
  }

 private:
  static fc::ModelCard gated_card() {
    fc::ModelCard c = fcd_test::named_card("m");
    c.conditions = {{0, "race", fc::Direction::kForward, "White", "Black"},
                    {1, "race", fc::Direction::kReverse, "Black", "White"},
                    {2, "age", fc::Direction::kForward, "20-29", "50-59"}};
    return c;
  }
};

// A gated run leaves faces that already are the target, so it is another edit than one that
// edits every face: --all-faces, --whole-image, or a file from before gates (no "gate" key).
TEST(Outputs, SameEditComparesTheGateThatPickedTheFaces) {
  fcd_test::TempDir tmp;
  GatedModel model;
  fcd::TransformSpec spec;
  spec.task = "race";
  const fcd::EditMaker gated = fcd::edit_maker(&model, spec);
  EXPECT_EQ(gated.gate, "0.98");
  write_edit_pair(tmp.path(), "race", "every_face.png", "gated.png", {"gate", "0.98"});
  EXPECT_TRUE(fcd::same_edit(tmp / "gated.png", gated, spec));
  EXPECT_FALSE(fcd::same_edit(tmp / "every_face.png", gated, spec))
      << "an output from before the gate edited faces this run leaves alone";
  for (auto flag : {&fcd::TransformSpec::all_faces, &fcd::TransformSpec::whole_image}) {
    fcd::TransformSpec every = spec;
    every.*flag = true;
    const fcd::EditMaker maker = fcd::edit_maker(&model, every);
    EXPECT_EQ(maker.gate, "");
    EXPECT_TRUE(fcd::same_edit(tmp / "every_face.png", maker, every));
    EXPECT_FALSE(fcd::same_edit(tmp / "gated.png", maker, every));
  }
  spec.task = "age";
  EXPECT_EQ(fcd::edit_maker(&model, spec).gate, "") << "age has no gate";
}

// The request keeps --all-faces across the queue (a worker, or a daemon after a restart, reads
// it back).
TEST(Outputs, TheQueuedRequestKeepsAllFaces) {
  fcd::TransformSpec spec;
  spec.task = "race";
  spec.all_faces = true;
  EXPECT_TRUE(fcd::TransformSpec::from_json(spec.to_json()).all_faces);
  EXPECT_FALSE(fcd::TransformSpec::from_json({{"task", "race"}}).all_faces)
      << "a job queued before the flag existed";
}

TEST(Outputs, Sha256OfAFile) {
  fcd_test::TempDir tmp;
  std::ofstream(tmp / "abc") << "abc";
  EXPECT_EQ(fcd::sha256_file(tmp / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Outputs, RecursiveWalkMirrorsSubFoldersAndSkipsLoopsAndEscapes) {
  fcd_test::TempDir tmp;
  fs::create_directories(tmp / "root/in/a/deep");
  fs::create_directories(tmp / "outside");
  for (auto p : {"root/in/top.png", "root/in/a/x.png", "root/in/a/deep/y.png", "outside/s.png"})
    std::ofstream(tmp / p) << "x";
  fs::create_directory_symlink(tmp / "root/in", tmp / "root/in/a/loop");
  fs::create_directory_symlink(tmp / "outside", tmp / "root/in/escape");
  fcd::AllowedRoots roots({tmp / "root"});
  const std::string dir = fs::canonical(tmp / "root/in").string();

  std::vector<fcd::InputFile> files;
  std::vector<std::string> warnings;
  fcd::expand_folder("in", dir, true, roots, files, warnings);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].rel_dir, "");
  EXPECT_EQ(files[1].rel_dir, "a");
  EXPECT_EQ(files[2].rel_dir, "a/deep");
  ASSERT_EQ(warnings.size(), 2u);
  std::string all = warnings[0] + warnings[1];
  EXPECT_NE(all.find("loop"), std::string::npos) << all;
  EXPECT_NE(all.find("outside the allowed folders"), std::string::npos) << all;

  // Without --recursive, a folder of folders says what to add.
  files.clear();
  warnings.clear();
  fcd::expand_folder("a", fs::canonical(tmp / "root/in/a").string(), false, roots, files, warnings);
  EXPECT_EQ(files.size(), 1u);
  fs::remove(tmp / "root/in/a/x.png");
  files.clear();
  fcd::expand_folder("a", fs::canonical(tmp / "root/in/a").string(), false, roots, files, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("--recursive"), std::string::npos) << warnings[0];
}

}  // namespace
