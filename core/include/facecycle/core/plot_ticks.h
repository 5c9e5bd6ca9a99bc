// Axis ticks a person can read, shared by the trainer's loss_curves.png and the client's SVG
// plots. Header-only: neither side gains a link dependency.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace fc {

// "Nice" tick values covering [lo, hi]: multiples of 1, 2 or 5 times a power of ten, the step
// nearest (on a log scale) to a `about`-th of the range.
inline std::vector<double> nice_ticks(double lo, double hi, int about = 5) {
  std::vector<double> ticks;
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  if (hi == lo) return {lo};
  const double raw = (hi - lo) / (about < 1 ? 1 : about);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {2.0, 5.0, 10.0})
    if (std::abs(std::log(m * mag / raw)) < std::abs(std::log(step / raw))) step = m * mag;
  // Multiples counted in integers and rounded to 12 digits, so 0.1 + 0.2 never prints as
  // 0.30000000000000004.
  for (long long k = static_cast<long long>(std::ceil(lo / step - 1e-9));
       static_cast<double>(k) * step <= hi + step * 1e-9; ++k) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.12g", static_cast<double>(k) * step);
    ticks.push_back(std::strtod(buf, nullptr));
  }
  return ticks;
}

}  // namespace fc
