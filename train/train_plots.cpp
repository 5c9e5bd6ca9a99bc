#include "train_plots.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "facecycle/core/image_io.h"
#include "facecycle/core/plot_ticks.h"

namespace fc::train {
namespace {

const cv::Scalar kColours[] = {{200, 60, 40},  {40, 140, 40},  {40, 40, 200}, {160, 40, 160},
                               {20, 150, 200}, {120, 120, 20}, {90, 90, 90},  {200, 120, 160}};

using Lines = std::vector<std::pair<std::string, const std::vector<std::pair<long, double>>*>>;

// The panel's data ranges; y is logarithmic when the losses span more than 30x (the first
// steps' spikes would flatten everything after them on a linear axis).
struct Axes {
  long s0 = LONG_MAX, s1 = LONG_MIN;
  double v0 = 0, v1 = 1e-9, pos_min = INFINITY;
  bool log_y = false;
  double y(double v) const { return log_y ? std::log10(std::max(v, pos_min)) : v; }
};

Axes axes_for(const Lines& lines) {
  Axes a;
  for (auto& [name, pts] : lines)
    for (auto& [s, v] : *pts) {
      a.s0 = std::min(a.s0, s);
      a.s1 = std::max(a.s1, s);
      if (!std::isfinite(v)) continue;
      a.v1 = std::max(a.v1, v);
      if (v > 0) a.pos_min = std::min(a.pos_min, v);
    }
  if (a.s1 == a.s0) a.s1 = a.s0 + 1;
  a.log_y = std::isfinite(a.pos_min) && a.v1 / a.pos_min > 30;
  if (a.log_y) {
    a.v0 = std::floor(std::log10(a.pos_min));
    a.v1 = std::ceil(std::log10(a.v1));
  }
  return a;
}

void label(cv::Mat& m, const std::string& text, cv::Point at, double scale = 0.38,
           cv::Scalar colour = {0, 0, 0}) {
  cv::putText(m, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

void draw_ticks(cv::Mat& panel, const Axes& a, cv::Rect r) {
  char buf[32];
  std::vector<double> yt;
  if (a.log_y)
    for (double e = a.v0; e <= a.v1; ++e) yt.push_back(e);
  else
    yt = fc::nice_ticks(a.v0, a.v1, 4);
  for (double t : yt) {
    const int y = r.y + r.height - int(std::lround((t - a.v0) / (a.v1 - a.v0) * r.height));
    cv::line(panel, {r.x, y}, {r.x + r.width, y}, {225, 225, 225}, 1);
    std::snprintf(buf, sizeof buf, "%.3g", a.log_y ? std::pow(10.0, t) : t);
    label(panel, buf, {4, y + 4});
  }
  for (double t : fc::nice_ticks(double(a.s0), double(a.s1), 5)) {
    const int x = r.x + int(std::lround((t - a.s0) / double(a.s1 - a.s0) * r.width));
    cv::line(panel, {x, r.y + r.height}, {x, r.y + r.height + 4}, {0, 0, 0}, 1);
    std::snprintf(buf, sizeof buf, "%.0f", t);
    label(panel, buf, {x - 10, r.y + r.height + 16});
  }
  label(panel, "step", {r.x + r.width / 2 - 12, r.y + r.height + 32});
  label(panel, a.log_y ? "loss (log)" : "loss", {r.x + r.width + 8, r.y + r.height});
}

void draw_panel(cv::Mat& panel, const std::string& title, const Lines& lines) {
  const int left = 60, right = 150, top = 24, bottom = 40;
  const cv::Rect r(left, top, panel.cols - left - right, panel.rows - top - bottom);
  const Axes a = axes_for(lines);
  if (a.s0 > a.s1) return;
  draw_ticks(panel, a, r);
  cv::rectangle(panel, r, {0, 0, 0}, 1);
  label(panel, title, {left, top - 8}, 0.5);
  auto to_px = [&](long s, double v) {
    double x = r.x + (s - a.s0) * double(r.width) / (a.s1 - a.s0);
    double y = r.y + r.height - std::clamp((a.y(v) - a.v0) / (a.v1 - a.v0), 0.0, 1.0) * r.height;
    return cv::Point(int(std::lround(x)), int(std::lround(y)));
  };
  int k = 0;
  for (auto& [name, pts] : lines) {
    const cv::Scalar colour = kColours[k % 8];
    std::vector<cv::Point> poly;
    for (auto& [s, v] : *pts)
      if (std::isfinite(v)) poly.push_back(to_px(s, v));
    if (poly.size() > 1) cv::polylines(panel, poly, false, colour, 1, cv::LINE_AA);
    label(panel, name, {r.x + r.width + 8, r.y + 14 + 16 * k}, 0.45, colour);
    ++k;
  }
}

// BGR CV_8UC3
cv::Mat plot_loss_curves(const LossHistory& history, int panel_width = 640,
                         int panel_height = 260) {
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
