// metrics.csv: what pandas reads after a run, and after a run that was killed and resumed.
#include "metrics_csv.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trainer_test_util.h"

namespace fs = std::filesystem;
using fc::train::MetricsCsv;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(MetricsCsv, OneRowPerStepAndAColumnPerMetric) {
  const std::string dir = fc::train::testing::make_temp_dir("csv");
  const std::string path = dir + "/metrics.csv";
  {
    MetricsCsv csv(path, 0);
    csv.add("age/loss_G", 1.5, 1);
    csv.add("lr", 0.0001, 1);
    csv.add("race/loss_G", 2.25, 2);  // a new column: earlier rows get an empty cell
    csv.add("lr", 0.0001, 2);
    csv.add("age/loss_G", 1.25, 3);
    csv.flush();
  }
  EXPECT_EQ(slurp(path),
            "step,age/loss_G,lr,race/loss_G\n"
            "1,1.5,0.0001,\n"
            "2,,0.0001,2.25\n"
            "3,1.25,,\n");
  fs::remove_all(dir);
}

// A kill after step 3's row but before its checkpoint: the resumed run trains step 3 again, so
// the file must not hold it twice, and a line cut short by the kill must not stop the reader.
TEST(MetricsCsv, ResumeDropsRowsAfterTheCheckpointAndCutLines) {
  const std::string dir = fc::train::testing::make_temp_dir("csv");
  const std::string path = dir + "/metrics.csv";
  std::ofstream(path) << "step,age/loss_G,lr\n1,1.5,0.1\n2,1.4,0.1\n3,1.3,0.1\n4,1.";
  {
    MetricsCsv csv(path, 2);
    csv.add("age/loss_G", 0.9, 3);
    csv.flush();
  }
  EXPECT_EQ(slurp(path), "step,age/loss_G,lr\n1,1.5,0.1\n2,1.4,0.1\n3,0.9,\n");
  {
    MetricsCsv fresh(path, 0);  // a new run in the same folder starts the file again
    fresh.flush();
  }
  EXPECT_EQ(slurp(path), "step\n");
  fs::remove_all(dir);
}

}  // namespace
