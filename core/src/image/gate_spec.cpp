#include "facecycle/core/gate_spec.h"

#include <filesystem>
#include <stdexcept>

#include "facecycle/core/safetensors_header.h"

namespace fc {

using nlohmann::json;

int GateSpec::task_index(const std::string& task) const {
  for (size_t i = 0; i < tasks.size(); ++i)
    if (tasks[i].task == task) return static_cast<int>(i);
  return -1;
}

std::string gate_path_for(const std::string& model_path) {
  std::filesystem::path p(model_path);
  return (p.parent_path() / (p.stem().string() + ".gate.safetensors")).string();
}

json gate_spec_json(const GateSpec& s) {
  json tasks = json::array();
  for (const auto& t : s.tasks)
    tasks.push_back({{"task", t.task}, {"a", t.a_name}, {"b", t.b_name}});
  return {{"size", s.size},
          {"width", s.width},
          {"tasks", tasks},
          {"skip_at", s.skip_at},
          {"heldout", json::parse(s.heldout_json, nullptr, false)}};
}

GateSpec gate_spec_from_json(const json& j) {
  GateSpec s;
  s.size = j.at("size").get<int>();
  s.width = j.at("width").get<int>();
  s.skip_at = j.at("skip_at").get<double>();
  for (const auto& t : j.at("tasks")) s.tasks.push_back({t.at("task"), t.at("a"), t.at("b")});
  s.heldout_json = j.value("heldout", json::object()).dump();
  if (s.size < 16 || s.size > 512 || s.width < 1 || s.width > 256 || s.tasks.empty() ||
      !(s.skip_at > 0.5 && s.skip_at <= 1.0))
    throw std::invalid_argument("gate spec out of range: " + j.dump());
  return s;
}

GateSpec gate_spec_from_metadata(const std::map<std::string, std::string>& meta) {
  const auto format = meta.find("format");
  const auto spec = meta.find("gate");
  if (format == meta.end() || format->second != kGateFormat || spec == meta.end())
    throw std::runtime_error("not a domain gate (format '" +
                             (format == meta.end() ? std::string() : format->second) + "')");
  return gate_spec_from_json(json::parse(spec->second));
}

std::optional<GateSpec> read_gate_spec(const std::string& model_path) {
  const std::string path = gate_path_for(model_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  try {
    return gate_spec_from_metadata(read_safetensors_metadata(path));
  } catch (const std::exception& e) {
    throw std::runtime_error("domain gate " + path + ": " + e.what());
  }
}

}  // namespace fc
