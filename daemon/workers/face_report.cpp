#include "workers/face_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

namespace fcd {

using nlohmann::json;

namespace {

const cv::Scalar kEditedColour(80, 220, 60);   // BGR green
const cv::Scalar kSkippedColour(0, 160, 255);  // BGR orange

// A box this much of the photo's area is the whole photo (a --whole-image item).
constexpr double kWholePhoto = 0.9;

double two_decimals(double v) { return std::round(v * 100.0) / 100.0; }

bool parse_box(const json& face, cv::Rect* box) {
  const json b = face.value("box", json());
  if (!b.is_array() || b.size() != 4) return false;
  for (const auto& v : b)
    if (!v.is_number()) return false;
  *box = cv::Rect(b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>());
  return box->width > 0 && box->height > 0;
}

}  // namespace

json face_report(const std::vector<fc::Face>& faces) {
  json skipped = json::array(), listed = json::array();
  int edited = 0;
  for (size_t i = 0; i < faces.size(); ++i) {
    const fc::Face& f = faces[i];
    json entry{{"box",
                {std::lround(f.box.x), std::lround(f.box.y), std::lround(f.box.width),
                 std::lround(f.box.height)}},
               {"score", two_decimals(f.score)}};
    if (f.p_target >= 0) entry["gate"] = two_decimals(f.p_target);
    if (!f.skipped.empty()) {
      skipped.push_back({{"face", i}, {"reason", f.skipped}});
      entry["skipped"] = f.skipped;
    }
    const bool was_edited = f.skipped.empty() && !f.generated.empty();
    edited += was_edited;
    entry["edited"] = was_edited;
    listed.push_back(std::move(entry));
  }
  return {{"faces_found", faces.size()},
          {"faces_edited", edited},
          {"faces_skipped", skipped},
          {"faces", listed}};
}

cv::Mat mark_faces(const cv::Mat& photo, const json& faces) {
  cv::Mat out = photo.clone();
  if (!faces.is_array()) return out;
  // Lines stay visible once the sheet shrinks the photo to its cell.
  const int side = std::max(out.cols, out.rows);
  const int thick = std::max(2, side / 250);
  const double font = std::max(0.5, side / 900.0);
  for (const auto& face : faces) {
    cv::Rect box;
    if (!face.is_object() || !parse_box(face, &box)) continue;
    if (box.area() >= kWholePhoto * out.total()) continue;
    const bool edited = face.value("edited", false);
    const cv::Scalar colour = edited ? kEditedColour : kSkippedColour;
    cv::rectangle(out, box, colour, thick, cv::LINE_AA);
    char label[48];
    const double score = face.value("score", 0.0);
    const json gate = face.value("gate", json());
    if (gate.is_number())
      std::snprintf(label, sizeof label, "%.2f gate %.2f", score, gate.get<double>());
    else
      std::snprintf(label, sizeof label, "%.2f", score);
    // Above the box, moved left where it would run off the photo's right edge.
    int base = 0;
    const int text_w = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, font, thick, &base).width;
    const cv::Point at(std::max(0, std::min(box.x, out.cols - text_w - 2)),
                       std::max(box.y - thick * 2, int(font * 22)));
    cv::putText(out, label, at, cv::FONT_HERSHEY_SIMPLEX, font, colour, thick, cv::LINE_AA);
  }
  return out;
}

}  // namespace fcd
