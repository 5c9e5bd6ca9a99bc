// The pictures a training job leaves in its job dir: loss curves and the sample sheet of fixed
// held-out faces. train_plots.cpp draws them with OpenCV (titles, legends, row labels);
// train_plots_torch.cpp, in the LibTorch-only build, writes the same layout without text, the
// names going into the PNG's tEXt chunks instead.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fc::train {

// name -> (step, value) points, e.g. "age/loss_G". Names are grouped into one panel per prefix
// before the '/', each line in its own colour with a legend.
using LossHistory = std::map<std::string, std::vector<std::pair<long, double>>>;

// Both write a PNG through a temporary name, with the step in its metadata.
void write_loss_curves_png(const std::string& path, const LossHistory& history, long step);

// rows[r][c]: [H, W, 3] uint8 RGB faces of equal size; labels[r] names row r, one line per
// '\n' (the task, then the directions its columns show).
void write_sample_sheet_png(const std::string& path,
                            const std::vector<std::vector<torch::Tensor>>& rows,
                            const std::vector<std::string>& labels, long step);

}  // namespace fc::train
