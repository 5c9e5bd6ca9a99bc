#include "text_view.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "json_view.h"

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

std::string format_time_ms(long long ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds != seconds) return "?";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh %02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

namespace {

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << std::setprecision(4) << v.get<double>();
    return s.str();
  }
  return v.dump();
}

// " (detector scores 1.00, 0.62)" from a report's "faces": a low score is where a false
// detection (lettering, a shirt fold) shows, and the contact sheet marks the same boxes.
std::string scores_text(const json& faces) {
  if (!faces.is_array() || faces.empty()) return "";
  std::string s = " (detector scores ";
  for (size_t i = 0; i < faces.size(); ++i) {
    char score[16];
    std::snprintf(score, sizeof score, "%.2f",
                  faces[i].is_object() ? faces[i].value("score", 0.0) : 0.0);
    s += (i ? ", " : "") + std::string(score);
  }
  return s + ")";
}

// "faces found 2 (detector scores ...), edited 1; skipped: ...; key=value ..." from an item's
// report.
std::string report_text(const json& report) {
  if (report.is_null()) return "";
  if (!report.is_object()) return scalar_text(report);
  std::string s;
  if (report.contains("faces_found") || report.contains("faces_edited"))
    s = "faces found " + scalar_text(report.value("faces_found", json(0))) +
        scores_text(report.value("faces", json())) + ", edited " +
        scalar_text(report.value("faces_edited", json(0)));
  for (auto it = report.begin(); it != report.end(); ++it) {
    const std::string& k = it.key();
    if (k == "faces_found" || k == "faces_edited" || k == "faces" || k == "output") continue;
    if (it.value().is_array() && it.value().empty()) continue;
    if (!s.empty()) s += "; ";
    s += k + "=" + scalar_text(it.value());
  }
  return s;
}

// An array of flat objects becomes a table; returns false for anything else.
bool print_object_table(std::ostream& out, const json& rows, const std::string& indent) {
  if (!rows.is_array() || rows.empty()) return false;
  std::vector<std::string> cols;
  for (const auto& r : rows) {
    if (!r.is_object()) return false;
    for (auto it = r.begin(); it != r.end(); ++it)
      if (std::find(cols.begin(), cols.end(), it.key()) == cols.end()) cols.push_back(it.key());
  }
  std::vector<std::vector<std::string>> table{cols};
  for (const auto& r : rows) {
    std::vector<std::string> line;
    for (const auto& c : cols) line.push_back(r.contains(c) ? scalar_text(r[c]) : "");
    table.push_back(line);
  }
  std::ostringstream tmp;
  print_table(tmp, table);
  std::istringstream lines(tmp.str());
  for (std::string l; std::getline(lines, l);) out << indent << l << "\n";
  return true;
}

// Paths to before/after sheets anywhere in the result, by key name.
void find_sheets(const json& j, std::vector<std::string>& found) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().find("sheet") != std::string::npos && it.value().is_string())
        found.push_back(it.value().get<std::string>());
      else
        find_sheets(it.value(), found);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) find_sheets(v, found);
  }
}

// "OUT (REAL)": a texture ratio of the outputs against real target photos, and of the real
// source photos (what real photos reach).
std::string texture(const json& d, const char* key) {
  auto get = [&](const char* part) {
    return d.contains(part) && d[part].contains(key) ? scalar_text(d[part][key]) : "-";
  };
  if (!d.contains("texture")) return "-";
  return get("texture") + " (" + get("texture_source") + ")";
}

// The trainer's held-out evaluation: one row per task and direction, judged attribute before
// and after the translation next to the real target domain's value.
bool print_evaluation(std::ostream& out, const json& eval) {
  if (!eval.is_object() || !eval.contains("tasks") || !eval["tasks"].is_object()) return false;
  out << "evaluation (held-out";
  if (eval.contains("step")) out << ", step " << scalar_text(eval["step"]);
  const json& judge = eval.value("judge", json::object());
  if (judge.contains("heldout_age_mae"))
    out << "; judge: age MAE " << scalar_text(judge["heldout_age_mae"]) << " y";
  if (judge.contains("heldout_white_black_accuracy"))
    out << ", White/Black accuracy " << scalar_text(judge["heldout_white_black_accuracy"]);
  out << "):\n";
  std::vector<std::vector<std::string>> table{{"task", "direction", "n", "judged", "before",
                                               "after", "real target", "cycle L1", "patch share",
                                               "texture HF", "spectral peak"}};
  for (auto t = eval["tasks"].begin(); t != eval["tasks"].end(); ++t) {
    for (const char* dir : {"forward", "reverse"}) {
      if (!t.value().contains(dir)) continue;
      const json& d = t.value()[dir];
      bool age = d.contains("judged_age_before");
      auto field = [&](const char* age_key, const char* race_key) {
        const char* k = age ? age_key : race_key;
        return d.contains(k) ? scalar_text(d[k]) : std::string("-");
      };
      table.push_back({t.key(), d.value("from", "?") + " -> " + d.value("to", "?"),
                       scalar_text(d.value("n", json(0))),
                       age ? "age (years)" : "P(" + d.value("to", "?") + ")",
                       field("judged_age_before", "p_target_before"),
                       field("judged_age_after", "p_target_after"),
                       field("judged_age_target_real", "p_target_real"),
                       d.contains("cycle_l1") ? scalar_text(d["cycle_l1"]) : "-",
                       d.contains("patch_share") ? scalar_text(d["patch_share"]) : "-",
                       texture(d, "hf_power_ratio"), texture(d, "spectral_peak_ratio")});
    }
  }
  std::ostringstream tmp;
  print_table(tmp, table);
  std::istringstream lines(tmp.str());
  for (std::string l; std::getline(lines, l);) out << "  " << l << "\n";
  return true;
}

// Result members: tables for lists of rows or maps of rows (e.g. an evaluation per task),
// "key: value" for the rest. Sheet paths are printed separately.
void print_result(std::ostream& out, const json& result, bool have_items) {
  if (result.is_null()) return;
  if (!result.is_object()) {
    out << "result: " << scalar_text(result) << "\n";
    return;
  }
  for (auto it = result.begin(); it != result.end(); ++it) {
    const json& v = it.value();
    if (it.key().find("sheet") != std::string::npos && v.is_string()) continue;
    if (it.key() == "items" && have_items) continue;  // already printed per item
    if (it.key() == "evaluation" && print_evaluation(out, v)) continue;
    if (v.is_array() && !v.empty() && v[0].is_object()) {
      out << it.key() << ":\n";
      if (!print_object_table(out, v, "  ")) out << "  " << v.dump() << "\n";
      continue;
    }
    if (v.is_object() && !v.empty()) {
      json rows = json::array();
      for (auto r = v.begin(); r != v.end(); ++r) {
        if (!r.value().is_object()) {
          rows = nullptr;
          break;
        }
        json row = {{"", r.key()}};
        row.update(r.value());
        rows.push_back(row);
      }
      out << it.key() << ":\n";
      if (rows.is_null() || !print_object_table(out, rows, "  "))
        out << "  " << report_text(v) << "\n";
      continue;
    }
    out << it.key() << ": " << scalar_text(v) << "\n";
  }
}

}  // namespace

void print_job_header(std::ostream& out, const v1::Job& job) {
  out << "job " << job.id() << " (" << kind_word(job.kind());
  if (!job.task().empty()) out << " " << job.task() << (job.reverse() ? " reverse" : "");
  if (job.strength() != 0 && job.strength() != 1) out << ", strength " << job.strength();
  if (job.all_faces()) out << ", all faces";
  out << ")\n";
  out << "state:    " << state_word(job.state()) << "\n";
  out << "owner:    " << (job.owner().empty() ? "-" : job.owner())
      << "   priority: " << job.priority() << "\n";
  out << "created:  " << format_time_ms(job.created_ms())
      << "   started: " << format_time_ms(job.started_ms())
      << "   finished: " << format_time_ms(job.finished_ms()) << "\n";
  out << "items:    " << job.items_total() << " total, " << job.items_done() << " done, "
      << job.items_failed() << " failed, " << job.items_cancelled() << " cancelled\n";
  if (!job.output_dir().empty()) out << "output:   " << job.output_dir() << "\n";
  if (!job.config_path().empty()) out << "config:   " << job.config_path() << "\n";
  if (!job.error().empty()) out << "error:    " << job.error() << "\n";
}

void print_items(std::ostream& out, const std::vector<v1::Item>& items) {
  for (const auto& it : items) {
    out << "  #" << it.index() << " " << state_word(it.state()) << "  " << it.input();
    if (!it.output().empty() && it.state() == v1::JOB_STATE_SUCCEEDED) out << " -> " << it.output();
    out << "\n";
    if (!it.error().empty()) out << "      error: " << it.error() << "\n";
    std::string rep = report_text(embedded_json(it.report_json()));
    if (!rep.empty()) out << "      report: " << rep << "\n";
  }
}

void print_job_result(std::ostream& out, const v1::Job& job) {
  json result = embedded_json(job.result_json());
  // A per-item list in the result repeats the items; `show` prints those a page at a time.
  print_result(out, result, /*have_items=*/true);
  std::vector<std::string> sheets;
  find_sheets(result, sheets);
  for (const auto& s : sheets) out << "contact sheet: " << s << "\n";
}

void print_job_details(std::ostream& out, const v1::Job& job) {
  print_job_header(out, job);
  if (job.items_size() > 0) {
    out << "per item:\n";
    print_items(out, {job.items().begin(), job.items().end()});
  }
  print_job_result(out, job);
}

std::string calibration_text(const std::string& card_json) {
  const nlohmann::json card = nlohmann::json::parse(card_json, nullptr, false);
  if (!card.is_object() || !card.contains("conditions") || !card["conditions"].is_array())
    return "-";
  std::string out;
  for (const auto& c : card["conditions"]) {
    if (!c.is_object()) continue;
    std::string shaping;
    if (c.contains("scale") && c["scale"].is_number()) {
      char scale[32];
      std::snprintf(scale, sizeof scale, " x%g", c["scale"].get<double>());
      shaping += scale;
    }
    if (c.contains("change_blur") && c["change_blur"].is_number_integer())
      shaping += " blur " + std::to_string(c["change_blur"].get<int>());
    if (shaping.empty()) continue;
    out += (out.empty() ? "" : ", ") + c.value("task", std::string("?")) + " " +
           c.value("from", std::string("?")) + "->" + c.value("to", std::string("?")) + shaping;
  }
  return out.empty() ? "-" : out;
}

std::string gate_text(const v1::Model& m) {
  if (!m.gate_error().empty()) return "unreadable: " + m.gate_error();
  if (m.gated_tasks_size() == 0) return "-";
  std::string tasks;
  for (const auto& t : m.gated_tasks()) tasks += (tasks.empty() ? "" : ",") + t;
  char at[32];
  std::snprintf(at, sizeof at, " >= %g", m.gate_skip_at());
  return tasks + at;
}

std::string event_line(const v1::Event& e) {
  std::ostringstream s;
  std::string t = format_time_ms(e.time_ms());
  s << (t.size() > 11 ? t.substr(11) : t) << " job " << e.job_id() << " ";
  switch (e.type()) {
    case v1::EVENT_TYPE_STATE:
      s << "state " << state_word(e.job().state());
      if (e.has_job() && e.job().items_total() > 0)
        s << " (" << e.job().items_done() << "/" << e.job().items_total() << " done, "
          << e.job().items_failed() << " failed)";
      if (e.has_job() && !e.job().error().empty()) s << ": " << e.job().error();
      break;
    case v1::EVENT_TYPE_PROGRESS:
      s << "item " << e.item_index() << " " << static_cast<int>(e.fraction() * 100 + 0.5) << "%";
      break;
    case v1::EVENT_TYPE_LOG:
      s << "log " << (e.level().empty() ? "info" : e.level());
      break;
    case v1::EVENT_TYPE_METRIC:
      s << "metric " << e.metric_name() << "=" << e.metric_value() << " step " << e.metric_step();
      break;
    case v1::EVENT_TYPE_ITEM:
      s << "item " << e.item_index() << " " << state_word(e.item_state());
      break;
    default:
      s << "event";
      break;
  }
  if (!e.message().empty() && e.type() != v1::EVENT_TYPE_STATE) s << ": " << e.message();
  return s.str();
}

}  // namespace fcc
