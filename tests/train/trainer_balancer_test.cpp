// Task balancing and the progressive schedule (no torch).
#include <gtest/gtest.h>

#include "progressive_schedule.h"
#include "task_balancer.h"

using fc::train::ProgressiveSchedule;
using fc::train::TaskBalancer;

TEST(TaskBalancer, FixedWeightsGiveTheirRatioInEveryWindow) {
  TaskBalancer b({"age", "race"}, {3.0, 1.0}, TaskBalancer::Mode::kFixed);
  std::vector<int> window(2, 0);
  for (int i = 0; i < 400; ++i) {
    int t = b.pick();
    b.observe(t, 0.01, 1.0);  // fixed mode ignores the losses
    if (i >= 200) ++window[t];
  }
  EXPECT_EQ(b.steps()[0], 300);
  EXPECT_EQ(b.steps()[1], 100);
  EXPECT_EQ(window[0], 150);
  EXPECT_EQ(window[1], 50);
}

TEST(TaskBalancer, ZeroWeightTaskNeverTrains) {
  TaskBalancer b({"age", "race"}, {1.0, 0.0}, TaskBalancer::Mode::kFixed);
  for (int i = 0; i < 50; ++i) b.pick();
  EXPECT_EQ(b.steps()[1], 0);
}

// The race discriminator wins (small D loss, large G adversarial loss): race lags and must get
// more steps, but age keeps at least the minimum share.
TEST(TaskBalancer, AdaptiveGivesTheLaggingTaskMoreSteps) {
  TaskBalancer b({"age", "race"}, {1.0, 1.0}, TaskBalancer::Mode::kAdaptive, 0.9, 0.2);
  for (int i = 0; i < 1000; ++i) {
    int t = b.pick();
    if (t == 0)
      b.observe(0, 0.25, 0.25);  // balanced game
    else
      b.observe(1, 0.05, 0.8);  // discriminator winning
  }
  EXPECT_GT(b.steps()[1], 1.5 * b.steps()[0]);
  EXPECT_GE(b.steps()[0], 190);
  auto shares = b.shares();
  EXPECT_GT(shares[1], shares[0]);
}

TEST(TaskBalancer, StateRoundTripContinuesIdentically) {
  TaskBalancer a({"age", "race"}, {1.0, 1.0}, TaskBalancer::Mode::kAdaptive);
  for (int i = 0; i < 37; ++i) a.observe(a.pick(), 0.1 + 0.01 * (i % 5), 0.3 + 0.02 * (i % 3));
  TaskBalancer b({"age", "race"}, {1.0, 1.0}, TaskBalancer::Mode::kAdaptive);
  b.load_state(nlohmann::json::parse(a.state().dump()));
  for (int i = 0; i < 50; ++i) {
    int ta = a.pick(), tb = b.pick();
    ASSERT_EQ(ta, tb) << "step " << i;
    a.observe(ta, 0.2, 0.4);
    b.observe(tb, 0.2, 0.4);
  }
  TaskBalancer other({"age"}, {1.0}, TaskBalancer::Mode::kFixed);
  EXPECT_THROW(other.load_state(a.state()), std::runtime_error);
}

TEST(ProgressiveSchedule, StagesAndDecay) {
  ProgressiveSchedule s({{32, 10, 4}, {48, 20, 4}, {64, 10, 2}});
  EXPECT_EQ(s.total_steps(), 40);
  EXPECT_EQ(s.at(0).size, 32);
  EXPECT_EQ(s.at(9).size, 32);
  EXPECT_EQ(s.at(10).size, 48);
  EXPECT_EQ(s.at(10).stage_step, 0);
  EXPECT_EQ(s.at(39).size, 64);
  EXPECT_EQ(s.at(39).batch, 2);
  EXPECT_TRUE(s.ends_stage(10));
  EXPECT_TRUE(s.ends_stage(30));
  EXPECT_TRUE(s.ends_stage(40));
  EXPECT_FALSE(s.ends_stage(11));
  EXPECT_DOUBLE_EQ(s.lr_factor(0, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_factor(19, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_factor(30, 0.5), 0.5);
  EXPECT_GT(s.lr_factor(39, 0.5), 0.0);
  EXPECT_EQ(s.describe(15), "stage 2/3 48px step 5/20");
}
