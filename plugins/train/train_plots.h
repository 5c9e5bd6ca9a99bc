// The pictures a training job leaves in its job dir (OpenCV only): loss curves and the sample
// sheet of fixed held-out faces.
#pragma once

#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fc::train {

// name -> (step, value) points, e.g. "age/loss_G". Names are grouped into one panel per prefix
// before the '/', each line in its own colour with a legend. BGR CV_8UC3.
using LossHistory = std::map<std::string, std::vector<std::pair<long, double>>>;
cv::Mat plot_loss_curves(const LossHistory& history, int panel_width = 640, int panel_height = 240);

// rows[r][c]: BGR images of equal size; each row starts with its label. BGR CV_8UC3.
cv::Mat make_sample_sheet(const std::vector<std::vector<cv::Mat>>& rows,
                          const std::vector<std::string>& labels, int cell = 96);

}  // namespace fc::train
