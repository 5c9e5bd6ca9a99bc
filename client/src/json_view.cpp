#include "json_view.h"

#include <cctype>

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

namespace {

// "JOB_STATE_SUCCEEDED" -> "succeeded" given the prefix "JOB_STATE_".
std::string short_enum(const std::string& full, const std::string& prefix) {
  std::string s = full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string state_word(v1::JobState s) { return short_enum(v1::JobState_Name(s), "JOB_STATE_"); }
std::string kind_word(v1::JobKind k) { return short_enum(v1::JobKind_Name(k), "JOB_KIND_"); }
std::string event_word(v1::EventType t) { return short_enum(v1::EventType_Name(t), "EVENT_TYPE_"); }
std::string answer_word(v1::ClusterAnswer a) {
  return short_enum(v1::ClusterAnswer_Name(a), "CLUSTER_ANSWER_");
}

std::vector<std::string> state_words() {
  std::vector<std::string> out;
  const auto* d = v1::JobState_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    const auto s = static_cast<v1::JobState>(d->value(i)->number());
    if (s != v1::JOB_STATE_UNSPECIFIED) out.push_back(state_word(s));
  }
  return out;
}

bool is_terminal(v1::JobState s) {
  return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED || s == v1::JOB_STATE_CANCELLED;
}

json embedded_json(const std::string& text) {
  if (text.empty()) return nullptr;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(text) : j;
}

json to_json(const v1::Item& item) {
  return {{"index", item.index()},
          {"input", item.input()},
          {"output", item.output()},
          {"state", state_word(item.state())},
          {"attempts", item.attempts()},
          {"error", item.error()},
          {"report", embedded_json(item.report_json())}};
}

json to_json(const v1::Job& job) {
  json j = {{"id", job.id()},
            {"kind", kind_word(job.kind())},
            {"state", state_word(job.state())},
            {"owner", job.owner()},
            {"priority", job.priority()},
            {"created_ms", job.created_ms()},
            {"started_ms", job.started_ms()},
            {"finished_ms", job.finished_ms()},
            {"items_total", job.items_total()},
            {"items_done", job.items_done()},
            {"items_failed", job.items_failed()},
            {"items_cancelled", job.items_cancelled()},
            {"error", job.error()},
            {"output_dir", job.output_dir()},
            {"task", job.task()},
            {"reverse", job.reverse()},
            {"strength", job.strength()},
            {"all_faces", job.all_faces()},
            {"config_path", job.config_path()},
            {"result", embedded_json(job.result_json())}};
  if (job.kind() == v1::JOB_KIND_TRAIN) {
    j["run_name"] = job.run_name();
    j["tags"] = json(std::vector<std::string>(job.tags().begin(), job.tags().end()));
  }
  if (job.items_size() > 0) {
    json items = json::array();
    for (const auto& it : job.items()) items.push_back(to_json(it));
    j["items"] = std::move(items);
  }
  return j;
}

json to_json(const v1::Event& e) {
  json j = {{"id", e.id()},
            {"job_id", e.job_id()},
            {"time_ms", e.time_ms()},
            {"type", event_word(e.type())},
            {"message", e.message()}};
  switch (e.type()) {
    case v1::EVENT_TYPE_STATE:
      if (e.has_job()) j["job"] = to_json(e.job());
      break;
    case v1::EVENT_TYPE_PROGRESS:
      j["item_index"] = e.item_index();
      j["fraction"] = e.fraction();
      break;
    case v1::EVENT_TYPE_LOG:
      j["level"] = e.level();
      j["item_index"] = e.item_index();
      break;
    case v1::EVENT_TYPE_METRIC:
      j["metric_name"] = e.metric_name();
      j["metric_value"] = e.metric_value();
      j["metric_step"] = e.metric_step();
      break;
    case v1::EVENT_TYPE_ITEM:
      j["item_index"] = e.item_index();
      j["item_state"] = state_word(e.item_state());
      break;
    default:
      break;
  }
  return j;
}

json to_json(const v1::Model& m) {
  return {{"name", m.name()},
          {"path", m.path()},
          {"registered_ms", m.registered_ms()},
          {"active", m.active()},
          {"loaded", m.loaded()},
          {"device", m.device()},
          {"precision", m.precision()},
          {"card", embedded_json(m.card_json())},
          {"gate", m.gated_tasks_size()
                       ? json{{"tasks", m.gated_tasks()}, {"skip_at", m.gate_skip_at()}}
                   : m.gate_error().empty() ? json(nullptr)
                                            : json{{"error", m.gate_error()}}}};
}

json to_json(const v1::DaemonModel& d) {
  return {{"node", d.node()},
          {"model", d.resident()},
          {"answer", answer_word(d.answer())},
          {"error", d.error()},
          {"self", d.self()}};
}

json to_json(const v1::Plugin& p) {
  return {{"name", p.name()},
          {"kind", p.kind()},
          {"description", p.description()},
          {"file", p.file()},
          {"status", "loaded"}};
}

}  // namespace fcc
