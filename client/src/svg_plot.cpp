#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace fcc {
namespace {

// Tableau 10: distinguishable, and readable by most colour-blind people.
const char* kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr int kPanelW = 460, kPanelH = 300, kLeft = 64, kRight = 16, kTop = 32, kBottom = 46;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// Where a panel draws, and how a data point maps onto it.
struct Frame {
  double x0, y0, w, h;  // the plot area in the SVG
  Range x, y;           // data ranges (y in log10 when log_y)
  bool log_y;
  double px(double v) const { return x0 + (x.hi > x.lo ? (v - x.lo) / (x.hi - x.lo) : 0.5) * w; }
  double py(double v) const {
    if (log_y) v = std::log10(v);
    return y0 + h - (y.hi > y.lo ? (v - y.lo) / (y.hi - y.lo) : 0.5) * h;
  }
};

Frame frame_for(const PlotPanel& p, double ox, double oy) {
  Frame f{
      ox + kLeft, oy + kTop, double(kPanelW - kLeft - kRight), double(kPanelH - kTop - kBottom), {},
      {},         p.log_y};
  for (const auto& s : p.series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (p.log_y && y <= 0)) continue;
      f.x.add(x);
      f.y.add(p.log_y ? std::log10(y) : y);
    }
  if (f.log_y && !f.y.empty()) f.y = {std::floor(f.y.lo), std::ceil(f.y.hi)};
  return f;
}

void draw_axes(std::ostringstream& o, const PlotPanel& p, const Frame& f) {
  o << "<rect x='" << f.x0 << "' y='" << f.y0 << "' width='" << f.w << "' height='" << f.h
    << "' fill='none' stroke='#888'/>\n";
  for (double t : nice_ticks(f.x.lo, f.x.hi)) {
    const double x = f.px(t);
    o << "<line x1='" << x << "' y1='" << f.y0 + f.h << "' x2='" << x << "' y2='" << f.y0 + f.h + 4
      << "' stroke='#888'/><text x='" << x << "' y='" << f.y0 + f.h + 16
      << "' text-anchor='middle'>" << num(t) << "</text>\n";
  }
  std::vector<double> yt;
  if (f.log_y)
    for (double e = f.y.lo; e <= f.y.hi + 1e-9; ++e) yt.push_back(std::pow(10.0, e));
  else
    yt = nice_ticks(f.y.lo, f.y.hi);
  for (double t : yt) {
    const double y = f.py(t);
    o << "<line x1='" << f.x0 << "' y1='" << y << "' x2='" << f.x0 + f.w << "' y2='" << y
      << "' stroke='#eee'/><text x='" << f.x0 - 6 << "' y='" << y + 4 << "' text-anchor='end'>"
      << num(t) << "</text>\n";
  }
  o << "<text x='" << f.x0 + f.w / 2 << "' y='" << f.y0 - 12
    << "' text-anchor='middle' font-weight='bold'>" << escape(p.title) << "</text>\n";
  o << "<text x='" << f.x0 + f.w / 2 << "' y='" << f.y0 + f.h + 34 << "' text-anchor='middle'>"
    << escape(p.x_label) << "</text>\n";
  o << "<text transform='translate(" << f.x0 - 48 << "," << f.y0 + f.h / 2
    << ") rotate(-90)' text-anchor='middle'>" << escape(p.y_label + (p.log_y ? " (log)" : ""))
    << "</text>\n";
}

void draw_series(std::ostringstream& o, const PlotPanel& p, const Frame& f) {
  for (size_t i = 0; i < p.series.size(); ++i) {
    o << "<polyline fill='none' stroke-width='1.5' stroke='" << kColours[i % 10] << "' points='";
    for (auto [x, y] : p.series[i].points)
      if (std::isfinite(x) && std::isfinite(y) && !(p.log_y && y <= 0))
        o << num(f.px(x)) << "," << num(f.py(y)) << " ";
    o << "'/>\n";
    const double ly = f.y0 + 14 + 14 * static_cast<double>(i);
    o << "<line x1='" << f.x0 + f.w - 120 << "' y1='" << ly - 4 << "' x2='" << f.x0 + f.w - 104
      << "' y2='" << ly - 4 << "' stroke-width='2' stroke='" << kColours[i % 10] << "'/><text x='"
      << f.x0 + f.w - 100 << "' y='" << ly << "'>" << escape(p.series[i].label) << "</text>\n";
  }
}

}  // namespace

std::vector<std::pair<double, double>> smooth(const std::vector<std::pair<double, double>>& pts,
                                              int window) {
  if (window <= 1) return pts;
  std::vector<std::pair<double, double>> out;
  double sum = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    sum += pts[i].second;
    if (i >= static_cast<size_t>(window)) sum -= pts[i - window].second;
    const size_t n = std::min(i + 1, static_cast<size_t>(window));
    out.emplace_back(pts[i].first, sum / static_cast<double>(n));
  }
  return out;
}

std::string svg_plot(const std::vector<PlotPanel>& panels, int columns) {
  columns = std::max(1, std::min(columns, static_cast<int>(std::max<size_t>(1, panels.size()))));
  const int rows = static_cast<int>((panels.size() + columns - 1) / columns);
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << columns * kPanelW << "' height='"
    << std::max(1, rows) * kPanelH << "' font-family='sans-serif' font-size='11'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n";
  for (size_t i = 0; i < panels.size(); ++i) {
    const Frame f =
        frame_for(panels[i], double(i % columns) * kPanelW, double(i / columns) * kPanelH);
    if (f.x.empty() || f.y.empty()) continue;
    draw_axes(o, panels[i], f);
    draw_series(o, panels[i], f);
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace fcc
