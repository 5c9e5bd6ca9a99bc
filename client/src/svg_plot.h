// Line plots as SVG text: panels of curves with ticks, axis labels and a legend. No drawing
// library: an SVG opens in any browser and diffs as text, and the client stays small.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "facecycle/core/plot_ticks.h"

namespace fcc {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct PlotPanel {
  std::string title, x_label, y_label;
  bool log_y = false;  // losses that fall by orders of magnitude; non-positive values are dropped
  std::vector<PlotSeries> series;
};

// Panels in a grid `columns` wide; series keep their colour across panels by position.
std::string svg_plot(const std::vector<PlotPanel>& panels, int columns = 2);

using fc::nice_ticks;

// A trailing mean over `window` points, so that noisy per-step losses read as curves.
std::vector<std::pair<double, double>> smooth(const std::vector<std::pair<double, double>>& pts,
                                              int window);

}  // namespace fcc
