// metrics.csv in a training job's folder: one row per logged step, one column per metric, so
// pandas or a spreadsheet reads a run without the daemon. No torch.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fc::train {

class MetricsCsv {
 public:
  // Keeps the rows of an earlier attempt up to `resumed_step` (0: none) and drops the rest:
  // steps after the last checkpoint are trained, and logged, again.
  MetricsCsv(std::string path, long resumed_step);

  // Metrics of one step arrive one by one; a larger step closes the row before it.
  void add(const std::string& name, double value, long step);
  // Writes the open row (at checkpoints and the end, so the file is whole when a run stops).
  void flush();

 private:
  struct Row {
    long step = 0;
    std::map<std::string, double> values;
  };
  void load(long resumed_step);
  void close_row();
  void append(const Row& r) const;
  void rewrite() const;  // a new column changes the header: the file is written again, atomically
  std::string line(const Row& r) const;

  std::string path_;
  std::vector<std::string> columns_;  // metric names in the order first seen, after "step"
  std::vector<Row> rows_;
  Row open_;
  bool has_open_ = false;
};

}  // namespace fc::train
