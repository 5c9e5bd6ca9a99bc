// UTKFace names carry the labels; malformed names must be counted, never guessed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/utkface.h"

namespace fs = std::filesystem;
using fc::train::FaceRecord;
using fc::train::parse_utkface_name;

TEST(UtkfaceName, ParsesTheThreeLabels) {
  FaceRecord r;
  ASSERT_TRUE(parse_utkface_name("26_1_3_20170119193521364.jpg.chip.jpg", &r));
  EXPECT_EQ(r.age, 26);
  EXPECT_EQ(r.gender, 1);
  EXPECT_EQ(r.race, 3);
  ASSERT_TRUE(parse_utkface_name("100_0_0_20170112213500903.jpg.chip.jpg", &r));
  EXPECT_EQ(r.age, 100);
  ASSERT_TRUE(parse_utkface_name("1_0_4_20161221193418920.jpg", &r));
  EXPECT_EQ(r.race, 4);
}

TEST(UtkfaceName, RejectsMalformedNames) {
  FaceRecord r;
  r.age = -7;
  for (const char* bad : {"26_1_20170119193521364.jpg.chip.jpg",      // missing field (race)
                          "26_1_3_2_20170119193521364.jpg.chip.jpg",  // extra field
                          "2x_1_3_20170119193521364.jpg.chip.jpg",    // non-numeric age
                          "26__3_20170119193521364.jpg.chip.jpg",     // empty gender
                          "26_1_3_.jpg.chip.jpg",                     // empty datetime
                          "26_1_3_2017011919352136a.jpg.chip.jpg",    // non-numeric datetime
                          "26_1_5_20170119193521364.jpg.chip.jpg",    // race outside 0..4
                          "26_2_3_20170119193521364.jpg.chip.jpg",    // gender outside 0..1
                          "121_1_3_20170119193521364.jpg.chip.jpg",   // age outside 0..120
                          "-1_1_3_20170119193521364.jpg.chip.jpg",    // negative age
                          "26_1_3_20170119193521364",                 // no extension
                          "portrait.jpg", "", ".jpg"}) {
    EXPECT_FALSE(parse_utkface_name(bad, &r)) << bad;
  }
  EXPECT_EQ(r.age, -7) << "a rejected name must not change the record";
}

TEST(UtkfaceScan, SortedDeterministicAndCountsMalformed) {
  const fs::path dir = fs::temp_directory_path() / ("fc_utk_scan_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* name : {"50_0_1_20170101000000002.jpg.chip.jpg",
                           "21_1_0_20170101000000001.jpg.chip.jpg", "9_0_2_20170101000000003.png",
                           "21_1_9_20170101000000004.jpg.chip.jpg", "notes.txt", "bad.jpg"})
    std::ofstream(dir / name) << "x";
  fs::create_directories(dir / "sub.jpg");  // a folder is not an image
  const auto scan = fc::train::scan_utkface(dir.string());
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(fs::path(scan.records[0].path).filename(), "21_1_0_20170101000000001.jpg.chip.jpg");
  EXPECT_EQ(fs::path(scan.records[1].path).filename(), "50_0_1_20170101000000002.jpg.chip.jpg");
  EXPECT_EQ(fs::path(scan.records[2].path).filename(), "9_0_2_20170101000000003.png");
  EXPECT_EQ(scan.records[1].age, 50);
  EXPECT_EQ(scan.records[1].race, 1);
  EXPECT_EQ(scan.malformed, 2u);  // race 9 and bad.jpg; notes.txt is not an image
  EXPECT_EQ(scan.malformed_examples.size(), 2u);
  fs::remove_all(dir);
}

TEST(UtkfaceScan, MissingFolderThrowsWithAHint) {
  try {
    fc::train::scan_utkface("/nonexistent/utkface");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/utkface"), std::string::npos);
  }
}

// The real data set, when the shared folder is there: most names parse, a few are malformed.
TEST(UtkfaceScan, RealFolderParses) {
  const fs::path dir = fs::path(FC_SHARED_DIR) / "data" / "utkface";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no UTKFace folder at " << dir << " (optional)";
  const auto scan = fc::train::scan_utkface(dir.string());
  std::cout << "UTKFace: " << scan.records.size() << " labelled, " << scan.malformed
            << " malformed names";
  for (const auto& e : scan.malformed_examples) std::cout << " [" << e << "]";
  std::cout << "\n";
  RecordProperty("labelled", static_cast<int>(scan.records.size()));
  RecordProperty("malformed", static_cast<int>(scan.malformed));
  EXPECT_GT(scan.records.size(), 20000u);
  EXPECT_LT(scan.malformed, 100u);
  int counts[5] = {};
  for (const auto& r : scan.records) ++counts[r.race];
  EXPECT_GT(counts[0], counts[1]) << "White is the largest group in UTKFace";
  EXPECT_GT(counts[1], 1000);
}
