// train_plots.h without OpenCV (FACECYCLE_TORCH_ONLY): the same panels and grid as
// train_plots.cpp, without text; titles, legends and row labels go into the PNG's tEXt chunks.
#include <torch/torch.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "png_write.h"
#include "train_plots.h"

namespace fc::train {
namespace F = torch::nn::functional;
namespace {

// The colours of train_plots.cpp, as RGB.
const uint8_t kColours[8][3] = {{40, 60, 200},  {40, 140, 40},  {200, 40, 40}, {160, 40, 160},
                                {200, 150, 20}, {20, 120, 120}, {90, 90, 90},  {160, 120, 200}};

struct Canvas {
  int w, h;
  std::vector<uint8_t> rgb;
  Canvas(int width, int height) : w(width), h(height), rgb(size_t(width) * height * 3, 255) {}
  void dot(int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::copy(c, c + 3, &rgb[(size_t(y) * w + x) * 3]);
  }
  void line(double x0, double y0, double x1, double y1, const uint8_t* c) {
    const int n = std::max(1, int(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))));
    for (int i = 0; i <= n; ++i)
      dot(int(std::lround(x0 + (x1 - x0) * i / n)), int(std::lround(y0 + (y1 - y0) * i / n)), c);
  }
};

using Lines = std::vector<std::pair<std::string, const std::vector<std::pair<long, double>>*>>;

// One panel at row offset `top0`: a frame and each line scaled to the panel's steps and values.
void draw_panel(Canvas& c, int top0, int panel_h, const Lines& lines) {
  const int left = 60, right = 150, top = top0 + 24, w = c.w - left - right, h = panel_h - 48;
  long s0 = LONG_MAX, s1 = LONG_MIN;
  double v1 = 1e-9;
  for (auto& [name, pts] : lines)
    for (auto& [s, v] : *pts) {
      s0 = std::min(s0, s);
      s1 = std::max(s1, s);
      if (std::isfinite(v)) v1 = std::max(v1, v);
    }
  const uint8_t black[3] = {0, 0, 0};
  c.line(left, top, left + w, top, black);
  c.line(left, top + h, left + w, top + h, black);
  c.line(left, top, left, top + h, black);
  c.line(left + w, top, left + w, top + h, black);
  auto px = [&](long s, double v) {
    const double x = left + (s1 > s0 ? double(s - s0) / double(s1 - s0) : 0.0) * w;
    return std::make_pair(x, top + h - std::clamp(v / v1, 0.0, 1.0) * h);
  };
  for (size_t k = 0; k < lines.size(); ++k) {
    const auto& pts = *lines[k].second;
    for (size_t i = 1; i < pts.size(); ++i) {
      const auto [x0, y0] = px(pts[i - 1].first, pts[i - 1].second);
      const auto [x1, y1] = px(pts[i].first, pts[i].second);
      c.line(x0, y0, x1, y1, kColours[k % 8]);
    }
  }
}

}  // namespace

void write_loss_curves_png(const std::string& path, const LossHistory& history, long step) {
  std::map<std::string, Lines> panels;
  for (auto& [name, pts] : history) {
    const auto slash = name.find('/');
    panels[slash == std::string::npos ? "all" : name.substr(0, slash)].push_back(
        {slash == std::string::npos ? name : name.substr(slash + 1), &pts});
  }
  const int panel_h = 240;
  Canvas c(640, panel_h * std::max<int>(1, panels.size()));
  std::map<std::string, std::string> text = {{"step", std::to_string(step)}};
  int i = 0;
  for (auto& [group, lines] : panels) {
    draw_panel(c, i * panel_h, panel_h, lines);
    std::string legend;  // colour order as in kColours: blue, green, red, purple, ...
    for (auto& l : lines) legend += (legend.empty() ? "" : ", ") + l.first;
    text["panel " + std::to_string(++i)] = group + ": " + legend;
  }
  write_rgb_png(path, c.rgb.data(), c.w, c.h, text);
}

void write_sample_sheet_png(const std::string& path,
                            const std::vector<std::vector<torch::Tensor>>& rows,
                            const std::vector<std::string>& labels, long step) {
  const int cell = 96, label_w = 80, pad = 2;
  size_t cols = 0;
  for (auto& r : rows) cols = std::max(cols, r.size());
  const int H = int(rows.size()) * (cell + pad) + pad, W = label_w + int(cols) * (cell + pad) + pad;
  torch::Tensor sheet = torch::full({H, W, 3}, 255, torch::kUInt8);
  std::map<std::string, std::string> text = {{"step", std::to_string(step)}};
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y = pad + int(r) * (cell + pad);
    if (r < labels.size()) text["row " + std::to_string(r + 1)] = labels[r];
    for (size_t c = 0; c < rows[r].size(); ++c) {
      auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{cell, cell});
      if (rows[r][c].size(0) > cell)
        options.mode(torch::kArea);
      else
        options.mode(torch::kBilinear).align_corners(false);
      torch::Tensor scaled =
          F::interpolate(rows[r][c].permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32), options)
              .squeeze(0)
              .round()
              .clamp(0, 255)
              .to(torch::kUInt8)
              .permute({1, 2, 0});
      sheet.narrow(0, y, cell).narrow(1, label_w + pad + int(c) * (cell + pad), cell).copy_(scaled);
    }
  }
  sheet = sheet.contiguous();
  write_rgb_png(path, sheet.data_ptr<uint8_t>(), W, H, text);
}

}  // namespace fc::train
