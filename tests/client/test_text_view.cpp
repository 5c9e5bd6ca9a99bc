// What `facecycle models` shows of a card: which directions --strength 1 calibrates.
#include <gtest/gtest.h>

#include "text_view.h"

namespace {

TEST(TextView, CalibrationNamesEachCalibratedDirectionAndItsScale) {
  const std::string card = R"({"conditions": [
      {"id": 0, "task": "age", "direction": "forward", "from": "20-29", "to": "50-59", "scale": 0.85},
      {"id": 1, "task": "age", "direction": "reverse", "from": "50-59", "to": "20-29"},
      {"id": 3, "task": "race", "direction": "reverse", "from": "Black", "to": "White", "scale": 1.2}]})";
  EXPECT_EQ(fcc::calibration_text(card), "age 20-29->50-59 x0.85, race Black->White x1.2");
}

TEST(TextView, CalibrationNamesAChangeBlurBesideOrWithoutAScale) {
  const std::string card = R"({"conditions": [
      {"id": 0, "task": "age", "direction": "forward", "from": "20-29", "to": "50-59", "scale": 0.85},
      {"id": 2, "task": "race", "direction": "forward", "from": "White", "to": "Black", "change_blur": 1},
      {"id": 3, "task": "race", "direction": "reverse", "from": "Black", "to": "White", "scale": 0.9, "change_blur": 2}]})";
  EXPECT_EQ(fcc::calibration_text(card),
            "age 20-29->50-59 x0.85, race White->Black blur 1, race Black->White x0.9 blur 2");
}

TEST(TextView, CalibrationIsADashForAnUncalibratedOrUnreadableCard) {
  EXPECT_EQ(fcc::calibration_text(R"({"conditions": [{"id": 0, "task": "age"}]})"), "-");
  EXPECT_EQ(fcc::calibration_text("{}"), "-");
  EXPECT_EQ(fcc::calibration_text("not json"), "-");
  EXPECT_EQ(fcc::calibration_text(R"({"conditions": [{"scale": "high"}]})"), "-");
}

}  // namespace
