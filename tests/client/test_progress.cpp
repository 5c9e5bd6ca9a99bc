// The bar that `transform`, `train` and `watch` draw on a terminal, driven by events as the
// daemon sends them.
#include <gtest/gtest.h>

#include "progress.h"

namespace {

namespace v1 = facecycle::v1;

v1::Event progress(double f) {
  v1::Event e;
  e.set_type(v1::EVENT_TYPE_PROGRESS);
  e.set_item_index(0);
  e.set_fraction(f);
  return e;
}

v1::Event item_end(v1::JobState s) {
  v1::Event e;
  e.set_type(v1::EVENT_TYPE_ITEM);
  e.set_item_index(0);
  e.set_item_state(s);
  return e;
}

v1::Event job_state(v1::JobState s, int done, int failed) {
  v1::Event e;
  e.set_type(v1::EVENT_TYPE_STATE);
  e.mutable_job()->set_state(s);
  e.mutable_job()->set_items_total(1);
  e.mutable_job()->set_items_done(done);
  e.mutable_job()->set_items_failed(failed);
  return e;
}

fcc::ProgressState training() {
  fcc::ProgressState st;
  st.train = true;
  st.total = 1;
  return st;
}

// The trainer's last progress event is its last evaluation, short of the end; the item and the
// job then succeed. The bar used to fall back to 0 % there.
TEST(Progress, ATrainingBarEndsAtOneHundredPercentWhenTheJobSucceeds) {
  auto st = training();
  fcc::apply_event(st, progress(0.93));
  EXPECT_NE(fcc::render_bar(st, 7, 100, 60).find(" 93%"), std::string::npos);
  fcc::apply_event(st, item_end(v1::JOB_STATE_SUCCEEDED));
  fcc::apply_event(st, job_state(v1::JOB_STATE_SUCCEEDED, 1, 0));
  const std::string line = fcc::render_bar(st, 7, 100, 60);
  EXPECT_NE(line.find("job 7 succeeded"), std::string::npos) << line;
  EXPECT_NE(line.find("100%"), std::string::npos) << line;
  EXPECT_NE(line.find("[########################################]"), std::string::npos) << line;
}

// A watcher that joins after the end sees only the final job (watch of an ended job).
TEST(Progress, TheFinalSnapshotOfASucceededTrainingJobIsOneHundredPercent) {
  auto st = training();
  fcc::apply_event(st, progress(0.4));
  v1::Job job;
  job.set_kind(v1::JOB_KIND_TRAIN);
  job.set_state(v1::JOB_STATE_SUCCEEDED);
  job.set_items_total(1);
  job.set_items_done(1);
  fcc::apply_final(st, job);
  EXPECT_NE(fcc::render_bar(st, 7, 100, 60).find("100%"), std::string::npos);
}

TEST(Progress, AFailedOrCancelledTrainingJobKeepsWhereItStopped) {
  for (auto end : {v1::JOB_STATE_FAILED, v1::JOB_STATE_CANCELLED}) {
    auto st = training();
    fcc::apply_event(st, progress(0.5));
    fcc::apply_event(st, job_state(end, 0, end == v1::JOB_STATE_FAILED));
    EXPECT_EQ(fcc::render_bar(st, 7, 100, 60).find("100%"), std::string::npos);
  }
}

TEST(Progress, ATransformBarCountsItemsNotTheLastItemsFraction) {
  fcc::ProgressState st;
  st.total = 4;
  fcc::apply_event(st, progress(0.5));
  fcc::apply_event(st, item_end(v1::JOB_STATE_SUCCEEDED));
  EXPECT_EQ(st.fraction, 0) << "the next item starts from nothing";
  const std::string line = fcc::render_bar(st, 3, 120, 1);
  EXPECT_NE(line.find("1/4 done"), std::string::npos) << line;
  EXPECT_NE(line.find("[##########..............................]"), std::string::npos) << line;
}

}  // namespace
