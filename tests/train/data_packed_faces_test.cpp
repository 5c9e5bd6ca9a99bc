// Face packs (data/packed_faces.h): a folder of faces as one file that needs no decoder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/face_cache.h"
#include "data/packed_faces.h"
#include "data/utkface.h"
#include "facecycle/core/safetensors.h"

namespace {
namespace fs = std::filesystem;
using namespace fc::train;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("fc_pack_test_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// Writes a pack the way scripts/pack_utkface.py --faces does: face i is filled with value 10*i
// in red, 1 in green and 2 in blue, so a channel swap or a wrong row shows.
void write_pack(const std::string& path, const std::vector<std::string>& names,
                const std::vector<std::array<int, 3>>& labels, int side) {
  const auto n = static_cast<int64_t>(names.size());
  auto images = torch::zeros({n, side, side, 3}, torch::kUInt8);
  auto lab = torch::zeros({n, 3}, torch::kInt32);
  for (int64_t i = 0; i < n; ++i) {
    images[i].select(2, 0).fill_(10 * i);
    images[i].select(2, 1).fill_(1);
    images[i].select(2, 2).fill_(2);
    for (int k = 0; k < 3; ++k) lab[i][k] = labels[i][k];
  }
  fc::write_safetensors(path, {{"images", images}, {"labels", lab}},
                        {{"format", kFacePackFormat}, {"names", nlohmann::json(names).dump()}});
}

const std::vector<std::string> kNames = {"20_0_1_20170101000000001.jpg.chip.jpg",
                                         "35_1_0_20170101000000002.jpg.chip.jpg",
                                         "61_0_2_20170101000000003.jpg.chip.jpg"};
const std::vector<std::array<int, 3>> kLabels = {{20, 0, 1}, {35, 1, 0}, {61, 0, 2}};

TEST(PackedFaces, ScanListsThePackLikeAFolder) {
  TempDir dir;
  const std::string pack = (dir.path / "faces.pack").string();
  write_pack(pack, kNames, kLabels, 8);
  EXPECT_TRUE(is_face_pack(pack));
  EXPECT_FALSE(is_face_pack(dir.path.string()));
  const ScanResult scan = scan_faces(pack);
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(scan.records[1].path, (fs::path(pack) / kNames[1]).string());
  EXPECT_EQ(scan.records[1].age, 35);
  EXPECT_EQ(scan.records[1].gender, 1);
  EXPECT_EQ(scan.records[2].race, 2);
  EXPECT_EQ(scan.malformed, 0u);
}

TEST(PackedFaces, FacesComeOutOfThePackAtTheAskedSide) {
  TempDir dir;
  const std::string pack = (dir.path / "faces.pack").string();
  write_pack(pack, kNames, kLabels, 8);
  const auto t = packed_face_rgb((fs::path(pack) / kNames[2]).string());
  ASSERT_TRUE(t.defined());
  EXPECT_EQ(t[3][4][0].item<int>(), 20);
  const torch::Tensor rgb = load_square_face((fs::path(pack) / kNames[2]).string(), 4);
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{4, 4, 3}));
  EXPECT_EQ(rgb[1][2][0].item<int>(), 20);
  EXPECT_EQ(rgb[1][2][2].item<int>(), 2);
  EXPECT_FALSE(packed_face_rgb((dir.path / "not_a_pack" / kNames[0]).string()).defined());
  EXPECT_THROW(packed_face_rgb((fs::path(pack) / "1_0_0_1.jpg.chip.jpg").string()),
               std::runtime_error);
}

TEST(PackedFaces, LabelsThatDisagreeWithTheNamesAreRefused) {
  TempDir dir;
  const std::string pack = (dir.path / "bad.pack").string();
  write_pack(pack, kNames, {{20, 0, 1}, {36, 1, 0}, {61, 0, 2}}, 4);
  try {
    open_face_pack(pack);
    FAIL() << "a pack with wrong labels was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(kNames[1]), std::string::npos) << e.what();
  }
  const std::string other = (dir.path / "weights.safetensors").string();
  fc::write_safetensors(other, {{"w", torch::ones({2})}});
  EXPECT_FALSE(is_face_pack(other));
}

}  // namespace
