#include "metrics_csv.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "facecycle/core/text_fields.h"

namespace fc::train {
namespace {

namespace fs = std::filesystem;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

}  // namespace

MetricsCsv::MetricsCsv(std::string path, long resumed_step) : path_(std::move(path)) {
  load(resumed_step);
  rewrite();
}

// Metric names are the trainer's own ("age/loss_G", "eval/race/forward/cycle_l1"): no commas or
// quotes, so a plain split reads what rewrite() wrote.
void MetricsCsv::load(long resumed_step) {
  std::ifstream in(path_);
  std::string header;
  if (resumed_step <= 0 || !std::getline(in, header)) return;
  const auto names = fc::split_fields(header, ',');
  if (names.front() != "step") return;
  columns_.assign(names.begin() + 1, names.end());
  std::string text;
  while (std::getline(in, text)) {
    const auto cells = fc::split_fields(text, ',');
    Row r;
    try {
      r.step = std::stol(std::string(cells[0]));
      for (size_t i = 1; i < cells.size() && i <= columns_.size(); ++i)
        if (!cells[i].empty()) r.values[columns_[i - 1]] = std::stod(std::string(cells[i]));
    } catch (const std::exception&) {
      continue;  // a line cut short by a kill
    }
    if (r.step <= resumed_step) rows_.push_back(std::move(r));
  }
}

void MetricsCsv::add(const std::string& name, double value, long step) {
  if (has_open_ && step != open_.step) close_row();
  if (!has_open_) {
    open_ = Row{step, {}};
    has_open_ = true;
  }
  open_.values[name] = value;
}

void MetricsCsv::flush() {
  if (has_open_) close_row();
}

void MetricsCsv::close_row() {
  has_open_ = false;
  bool new_column = false;
  for (const auto& [name, v] : open_.values)
    if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) {
      columns_.push_back(name);
      new_column = true;
    }
  rows_.push_back(std::move(open_));
  if (new_column)
    rewrite();
  else
    append(rows_.back());
}

std::string MetricsCsv::line(const Row& r) const {
  std::string s = std::to_string(r.step);
  for (const auto& c : columns_) {
    s += ',';
    if (auto it = r.values.find(c); it != r.values.end()) s += number(it->second);
  }
  return s + '\n';
}

void MetricsCsv::append(const Row& r) const {
  std::ofstream out(path_, std::ios::app);
  out << line(r);
}

void MetricsCsv::rewrite() const {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "step";
    for (const auto& c : columns_) out << ',' << c;
    out << '\n';
    for (const auto& r : rows_) out << line(r);
    if (!out) return;  // a full disk: keep the old file rather than a cut one
  }
  std::error_code ec;
  fs::rename(tmp, path_, ec);
}

}  // namespace fc::train
