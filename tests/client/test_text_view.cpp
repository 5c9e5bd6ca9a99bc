// What `facecycle models` shows of a card: which directions --strength 1 calibrates.
#include <gtest/gtest.h>

#include <sstream>

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

TEST(TextView, GateNamesItsTasksAndThresholdOrWhyItCannotBeRead) {
  facecycle::v1::Model m;
  EXPECT_EQ(fcc::gate_text(m), "-") << "no gate: every face is edited";
  m.add_gated_tasks("race");
  m.set_gate_skip_at(0.98);
  EXPECT_EQ(fcc::gate_text(m), "race >= 0.98");
  m.add_gated_tasks("age");
  EXPECT_EQ(fcc::gate_text(m), "race,age >= 0.98");
  m.set_gate_error("domain gate /m/x.gate.safetensors: not a domain gate (format 'pt')");
  EXPECT_EQ(fcc::gate_text(m).rfind("unreadable: domain gate /m/x.gate", 0), 0u);
}

// An item's line names each face's detector score, where a false detection shows as a low one,
// and leaves the per-face list itself to the manifest.
TEST(TextView, AnItemsReportNamesTheDetectorScoresOfItsFaces) {
  facecycle::v1::Item item;
  item.set_index(4);
  item.set_input("/photos/party.jpg");
  item.set_report_json(R"({"faces_found": 2, "faces_edited": 2, "faces_skipped": [],
      "faces": [{"box": [10, 20, 30, 40], "score": 0.99, "edited": true},
                {"box": [200, 20, 30, 30], "score": 0.8, "edited": true}], "model": "m"})");
  std::ostringstream out;
  fcc::print_items(out, {item});
  EXPECT_NE(out.str().find("report: faces found 2 (detector scores 0.99, 0.80), edited 2; model=m"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("box"), std::string::npos) << out.str();
}

}  // namespace
