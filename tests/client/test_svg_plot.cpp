// The SVG of `runs compare`: ticks a person can read, curves on the panel, text that cannot break
// the markup.
#include <gtest/gtest.h>

#include "svg_plot.h"

using namespace fcc;

TEST(SvgPlot, TicksAreRoundNumbersCoveringTheRange) {
  EXPECT_EQ(nice_ticks(0, 1200), (std::vector<double>{0, 200, 400, 600, 800, 1000, 1200}));
  EXPECT_EQ(nice_ticks(0.013, 0.052), (std::vector<double>{0.02, 0.03, 0.04, 0.05}));
  EXPECT_EQ(nice_ticks(3, 3), (std::vector<double>{3}));
  EXPECT_TRUE(nice_ticks(1, 0).empty());
}

TEST(SvgPlot, SmoothingIsATrailingMean) {
  const auto s = smooth({{1, 2}, {2, 4}, {3, 6}, {4, 8}}, 2);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_DOUBLE_EQ(s[0].second, 2);
  EXPECT_DOUBLE_EQ(s[1].second, 3);
  EXPECT_DOUBLE_EQ(s[3].second, 7);
  EXPECT_DOUBLE_EQ(s[3].first, 4);
}

TEST(SvgPlot, OnePolylinePerRunWithItsNameInTheLegend) {
  PlotPanel p{"age/loss_G", "step", "loss", true, {}};
  p.series.push_back({"#3 v11 <base>", {{1, 1.0}, {2, 0.5}, {3, 0.25}}});
  p.series.push_back({"#4 v14", {{1, 2.0}, {2, 0.0}, {3, 0.1}}});  // 0 cannot be drawn on log y
  const std::string svg = svg_plot({p});
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("#3 v11 &lt;base&gt;"), std::string::npos) << "names are escaped";
  EXPECT_EQ(svg.find("<base>"), std::string::npos);
  EXPECT_NE(svg.find("loss (log)"), std::string::npos);
  EXPECT_NE(svg.find(">age/loss_G<"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}
