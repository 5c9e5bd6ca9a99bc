// The trainer's `device` key (docs/GPU.md): cpu by default, cuda refused clearly where this
// LibTorch sees no GPU. The CUDA path itself runs only on a GPU host (scripts/gpu/run.sh).
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "train_step.h"
#include "trainer.h"
#include "trainer_test_util.h"

namespace {
using namespace fc::train;

const std::string kStages = "[[stages]]\nsize = 16\nsteps = 2\nbatch = 2\n";

TEST(TrainerDevice, DefaultsToCpuAndRefusesUnknownDevices) {
  EXPECT_EQ(parse_train_config(fc::train::testing::tiny_config(kStages), "t.toml").device,
            fc::DeviceChoice::kCpu);
  const TrainConfig cuda = parse_train_config(
      "device = \"cuda\"\n" + fc::train::testing::tiny_config(kStages), "t.toml");
  EXPECT_TRUE(training_device(cuda).is_cuda());
  // auto is the daemon's choice; a training run names its device.
  for (const std::string bad : {"tpu", "auto"}) {
    try {
      parse_train_config("device = \"" + bad + "\"\n" + fc::train::testing::tiny_config(kStages),
                         "t.toml");
      FAIL() << "device = " << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("\"" + bad + "\" is not one of cpu, cuda"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(TrainerDevice, CudaWithoutAGpuIsAClearConfigError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is visible";
  fc::TrainRequest req;
  req.config_toml = "device = \"cuda\"\n" + fc::train::testing::tiny_config(kStages);
  req.config_path = "t.toml";
  try {
    load_request_config(req);
    FAIL() << "device = cuda was accepted without a GPU";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

}  // namespace
