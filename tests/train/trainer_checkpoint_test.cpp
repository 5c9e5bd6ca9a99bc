// Checkpoint files: atomic writes, keep-last-K, and recovery from a crash mid-write.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "checkpoint_io.h"
#include "image_pool.h"
#include "trainer_test_util.h"

namespace fs = std::filesystem;
using fc::train::CheckpointIO;

namespace {

std::string save_step(CheckpointIO& io, long step) {
  return io.save(step, [&](torch::serialize::OutputArchive& a) {
    fc::train::write_json(a, "state", {{"step", step}});
    a.write("w", torch::full({3}, double(step)));
  });
}

long load_step(CheckpointIO& io) {
  torch::serialize::InputArchive a;
  if (!io.load_latest(&a, nullptr)) return -1;
  return fc::train::read_json(a, "state")["step"].get<long>();
}

}  // namespace

TEST(CheckpointIO, KeepsTheNewestK) {
  auto dir = fc::train::testing::make_temp_dir("ckpt");
  CheckpointIO io(dir, 2);
  for (long s : {5, 10, 15, 20}) save_step(io, s);
  auto all = io.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(fs::path(all[0]).filename(), "ckpt_000000015.pt");
  EXPECT_EQ(fs::path(all[1]).filename(), "ckpt_000000020.pt");
  EXPECT_EQ(load_step(io), 20);
  for (auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().extension(), ".pt") << "no temporary file may remain: " << e.path();
  fs::remove_all(dir);
}

// A kill during save leaves ckpt_N.pt.HOST-PID.tmp (possibly truncated); it must never be loaded
// and is cleaned up, and a damaged newest checkpoint falls back to the one before.
TEST(CheckpointIO, HalfWrittenFilesAreIgnored) {
  auto dir = fc::train::testing::make_temp_dir("ckpt");
  CheckpointIO io(dir, 3);
  std::string p10 = save_step(io, 10);
  {
    std::ifstream in(p10, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/ckpt_000000020.pt.host-7.tmp", std::ios::binary)
        << bytes.substr(0, bytes.size() / 2);
  }
  EXPECT_EQ(io.list().size(), 1u);
  EXPECT_EQ(load_step(io), 10);
  EXPECT_EQ(io.remove_temp_files(), 1);
  EXPECT_FALSE(fs::exists(dir + "/ckpt_000000020.pt.host-7.tmp"));

  // A renamed but truncated newest file (e.g. disk full): fall back to step 10.
  std::ofstream(dir + "/ckpt_000000030.pt", std::ios::binary) << "PK\x03\x04 truncated";
  EXPECT_EQ(load_step(io), 10);
  fs::remove_all(dir);
}

TEST(ImagePool, FillsThenMixesAndRoundTrips) {
  torch::manual_seed(0);
  fc::train::ImagePool pool(4, 7);
  torch::Tensor first = torch::rand({4, 3, 8, 8});
  EXPECT_TRUE(torch::equal(pool.query(first), first)) << "a filling pool returns its input";
  EXPECT_EQ(pool.size(), 4);
  fc::train::ImagePool copy(4, 0);
  copy.load(pool.stacked());
  copy.set_rng_state(pool.rng_state());
  int from_history = 0;
  for (int i = 0; i < 20; ++i) {
    torch::Tensor x = torch::rand({2, 3, 8, 8});
    torch::Tensor a = pool.query(x), b = copy.query(x);
    ASSERT_TRUE(torch::equal(a, b)) << "restored pool diverged at query " << i;
    for (int k = 0; k < 2; ++k) from_history += !torch::equal(a[k], x[k]);
  }
  EXPECT_GT(from_history, 5);  // about half come from the history
  EXPECT_LT(from_history, 35);
}
