// What a user audits an overnight job with: each face's box, detector score and fate in the
// item's report and manifest row, and the same boxes marked on the contact sheet.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "workers/face_report.h"
#include "workers/job_artifacts.h"

namespace {

using nlohmann::json;

fc::Face face(cv::Rect2f box, float score, bool generated, const std::string& skipped = "") {
  fc::Face f;
  f.box = box;
  f.score = score;
  if (generated) f.generated = cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(1));
  f.skipped = skipped;
  return f;
}

TEST(FaceReport, ListsEachFacesBoxScoreAndWhetherItWasEdited) {
  const json r = fcd::face_report({face({10.4f, 20.6f, 50.f, 60.f}, 0.9612f, true),
                                   face({200.f, 30.f, 8.f, 9.f}, 0.81f, false, "too small (8 px)"),
                                   face({90.f, 90.f, 40.f, 40.f}, 0.7f, false)});
  EXPECT_EQ(r["faces_found"], 3);
  EXPECT_EQ(r["faces_edited"], 1);
  ASSERT_EQ(r["faces"].size(), 3u) << r.dump();
  EXPECT_EQ(r["faces"][0], json({{"box", {10, 21, 50, 60}}, {"score", 0.96}, {"edited", true}}));
  EXPECT_EQ(r["faces"][1]["edited"], false);
  EXPECT_EQ(r["faces"][1]["skipped"], "too small (8 px)");
  EXPECT_EQ(r["faces"][2]["edited"], false) << "found but never translated";
  EXPECT_FALSE(r["faces"][2].contains("skipped"));
  EXPECT_EQ(r["faces_skipped"], json::array({{{"face", 1}, {"reason", "too small (8 px)"}}}));
}

// Pixel (x, y) of `m` is the given BGR colour, within antialiasing.
bool near_colour(const cv::Mat& m, int x, int y, cv::Scalar c) {
  const cv::Vec3b p = m.at<cv::Vec3b>(y, x);
  return std::abs(p[0] - c[0]) + std::abs(p[1] - c[1]) + std::abs(p[2] - c[2]) < 60;
}

TEST(FaceReport, TheSheetMarksEditedAndSkippedFacesInTheirOwnColours) {
  const cv::Mat photo(400, 600, CV_8UC3, cv::Scalar(40, 40, 40));
  const json faces =
      fcd::face_report({face({100.f, 100.f, 120.f, 140.f}, 0.97f, true),
                        face({400.f, 150.f, 90.f, 90.f}, 0.82f, false, "why")})["faces"];
  const cv::Mat marked = fcd::mark_faces(photo, faces);
  ASSERT_EQ(marked.size(), photo.size());
  EXPECT_TRUE(near_colour(marked, 100, 170, {80, 220, 60})) << "edited: green left edge";
  EXPECT_TRUE(near_colour(marked, 160, 240, {80, 220, 60})) << "edited: green bottom edge";
  EXPECT_TRUE(near_colour(marked, 400, 195, {0, 160, 255})) << "skipped: orange left edge";
  EXPECT_EQ(marked.at<cv::Vec3b>(170, 160), cv::Vec3b(40, 40, 40)) << "the face itself is clear";
  EXPECT_EQ(cv::norm(photo, cv::Mat(400, 600, CV_8UC3, cv::Scalar(40, 40, 40)), cv::NORM_INF), 0)
      << "the photo passed in is not drawn on";
}

// A face at the photo's right edge keeps its label whole: the label moves left.
TEST(FaceReport, ALabelAtTheRightEdgeStaysInsideThePhoto) {
  const cv::Mat photo(300, 400, CV_8UC3, cv::Scalar(40, 40, 40));
  const json faces = json::array(
      {{{"box", {360, 100, 40, 40}}, {"score", 0.99}, {"gate", 0.99}, {"edited", false}}});
  const cv::Mat marked = fcd::mark_faces(photo, faces);
  cv::Mat label_band = marked(cv::Rect(0, 60, 360, 36)) != cv::Scalar(40, 40, 40);
  cv::cvtColor(label_band, label_band, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(label_band), 50) << "the label starts left of the box";
}

TEST(FaceReport, AWholeImageBoxAndUnreadableEntriesAreNotDrawn) {
  const cv::Mat photo(200, 200, CV_8UC3, cv::Scalar(40, 40, 40));
  const json faces = json::array({{{"box", {0, 0, 200, 200}}, {"score", 1.0}, {"edited", true}},
                                  {{"box", {10, 10}}, {"edited", true}},
                                  {{"box", {10, 10, "a", 5}}},
                                  "not a face",
                                  {{"box", {20, 20, -5, 30}}}});
  EXPECT_EQ(cv::norm(fcd::mark_faces(photo, faces), photo, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(fcd::mark_faces(photo, json("faces")), photo, cv::NORM_INF), 0);
}

TEST(FaceReport, TheManifestRowCarriesTheFaces) {
  fcd::JobRecord job;
  job.id = 3;
  fcd::ItemRecord item;
  item.state = fcd::ItemState::kSucceeded;
  item.report_json = fcd::face_report({face({1.f, 2.f, 30.f, 40.f}, 0.9f, true)}).dump();
  const json row = fcd::manifest_row(job, item);
  EXPECT_EQ(row["faces_found"], 1);
  ASSERT_EQ(row["faces"].size(), 1u) << row.dump();
  EXPECT_EQ(row["faces"][0]["box"], json({1, 2, 30, 40}));
  item.report_json = R"({"faces_found": 0})";  // a report from before faces were listed
  EXPECT_FALSE(fcd::manifest_row(job, item).contains("faces"));
}

}  // namespace
