#include "train_plots.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "facecycle/core/image_io.h"

namespace fc::train {
namespace {

const cv::Scalar kColours[] = {{200, 60, 40},  {40, 140, 40},  {40, 40, 200}, {160, 40, 160},
                               {20, 150, 200}, {120, 120, 20}, {90, 90, 90},  {200, 120, 160}};

void draw_panel(
    cv::Mat& panel, const std::string& title,
    const std::vector<std::pair<std::string, const std::vector<std::pair<long, double>>*>>& lines) {
  const int left = 60, right = 150, top = 24, bottom = 24;
  const int w = panel.cols - left - right, h = panel.rows - top - bottom;
  long s0 = LONG_MAX, s1 = LONG_MIN;
  double v0 = 0, v1 = 1e-9;
  for (auto& [name, pts] : lines)
    for (auto& [s, v] : *pts) {
      s0 = std::min(s0, s);
      s1 = std::max(s1, s);
      if (std::isfinite(v)) v1 = std::max(v1, v);
    }
  if (s0 > s1) return;
  if (s1 == s0) s1 = s0 + 1;
  cv::rectangle(panel, {left, top, w, h}, {0, 0, 0}, 1);
  cv::putText(panel, title, {left, top - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {0, 0, 0}, 1,
              cv::LINE_AA);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v1);
  cv::putText(panel, buf, {4, top + 10}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 1, cv::LINE_AA);
  cv::putText(panel, "0", {4, top + h}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 1, cv::LINE_AA);
  std::snprintf(buf, sizeof buf, "step %ld", s1);
  cv::putText(panel, buf, {left + w - 70, top + h + 16}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0},
              1, cv::LINE_AA);
  auto to_px = [&](long s, double v) {
    double x = left + (s - s0) * double(w) / (s1 - s0);
    double y = top + h - std::clamp(v / (v1 - v0), 0.0, 1.0) * h;
    return cv::Point(int(std::lround(x)), int(std::lround(y)));
  };
  int k = 0;
  for (auto& [name, pts] : lines) {
    const cv::Scalar colour = kColours[k % 8];
    std::vector<cv::Point> poly;
    for (auto& [s, v] : *pts)
      if (std::isfinite(v)) poly.push_back(to_px(s, v));
    if (poly.size() > 1) cv::polylines(panel, poly, false, colour, 1, cv::LINE_AA);
    cv::putText(panel, name, {left + w + 8, top + 14 + 16 * k}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                colour, 1, cv::LINE_AA);
    ++k;
  }
}

// BGR CV_8UC3
cv::Mat plot_loss_curves(const LossHistory& history, int panel_width = 640,
                         int panel_height = 240) {
  std::map<std::string,
           std::vector<std::pair<std::string, const std::vector<std::pair<long, double>>*>>>
      panels;
  for (auto& [name, pts] : history) {
    auto slash = name.find('/');
    std::string group = slash == std::string::npos ? "all" : name.substr(0, slash);
    std::string line = slash == std::string::npos ? name : name.substr(slash + 1);
    panels[group].push_back({line, &pts});
  }
  const int n = std::max<int>(1, panels.size());
  cv::Mat out(panel_height * n, panel_width, CV_8UC3, cv::Scalar(255, 255, 255));
  int i = 0;
  for (auto& [group, lines] : panels) {
    cv::Mat panel = out.rowRange(i * panel_height, (i + 1) * panel_height);
    draw_panel(panel, group, lines);
    ++i;
  }
  return out;
}

// rows[r][c]: BGR images of equal size; each row starts with its label. BGR CV_8UC3.
cv::Mat make_sample_sheet(const std::vector<std::vector<cv::Mat>>& rows,
                          const std::vector<std::string>& labels, int cell = 96) {
  const int label_w = 112, pad = 2;
  size_t cols = 0;
  for (auto& r : rows) cols = std::max(cols, r.size());
  cv::Mat out(int(rows.size()) * (cell + pad) + pad, label_w + int(cols) * (cell + pad) + pad,
              CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y = pad + int(r) * (cell + pad);
    if (r < labels.size()) {  // one line per '\n', centred on the row
      std::vector<std::string> lines;
      std::stringstream in(labels[r]);
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      const int line_h = 15, top = y + cell / 2 - int(lines.size()) * line_h / 2 + 11;
      for (size_t i = 0; i < lines.size(); ++i)
        cv::putText(out, lines[i], {4, top + int(i) * line_h}, cv::FONT_HERSHEY_SIMPLEX,
                    i == 0 ? 0.5 : 0.38, {0, 0, 0}, 1, cv::LINE_AA);
    }
    for (size_t c = 0; c < rows[r].size(); ++c) {
      if (rows[r][c].empty()) continue;
      cv::Mat scaled;
      cv::resize(rows[r][c], scaled, {cell, cell}, 0, 0, cv::INTER_AREA);
      scaled.copyTo(out(cv::Rect(label_w + pad + int(c) * (cell + pad), y, cell, cell)));
    }
  }
  return out;
}

cv::Mat to_bgr(const torch::Tensor& rgb) {
  const torch::Tensor c = rgb.contiguous();
  const cv::Mat view(static_cast<int>(c.size(0)), static_cast<int>(c.size(1)), CV_8UC3,
                     c.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);  // copies out of the tensor
  return bgr;
}

}  // namespace

void write_loss_curves_png(const std::string& path, const LossHistory& history, long step) {
  write_image_atomic(path, plot_loss_curves(history), "png", {{"step", std::to_string(step)}});
}

void write_sample_sheet_png(const std::string& path,
                            const std::vector<std::vector<torch::Tensor>>& rows,
                            const std::vector<std::string>& labels, long step) {
  std::vector<std::vector<cv::Mat>> bgr(rows.size());
  for (size_t r = 0; r < rows.size(); ++r)
    for (const auto& face : rows[r]) bgr[r].push_back(to_bgr(face));
  write_image_atomic(path, make_sample_sheet(bgr, labels), "png", {{"step", std::to_string(step)}});
}

}  // namespace fc::train
