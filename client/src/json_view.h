// Proto messages as plain JSON for --json output: snake_case keys, numbers as numbers, enums as
// short lower-case words ("succeeded"), embedded JSON texts (report, result, card) parsed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "facecycle/v1/facecycle.pb.h"

namespace fcc {

std::string state_word(facecycle::v1::JobState s);        // "queued", "running", ...
std::string kind_word(facecycle::v1::JobKind k);          // "transform" | "train"
std::string event_word(facecycle::v1::EventType t);       // "state", "progress", ...
std::string answer_word(facecycle::v1::ClusterAnswer a);  // "switched", "kept", "told", "none"
// Every state's word, in the proto's order, read from its descriptor: the CLI's --state choices.
std::vector<std::string> state_words();
bool is_terminal(facecycle::v1::JobState s);

// Parses an embedded JSON text; keeps it as a string when it is not valid JSON, null when empty.
nlohmann::json embedded_json(const std::string& text);

nlohmann::json to_json(const facecycle::v1::Item& item);
nlohmann::json to_json(const facecycle::v1::Job& job);
nlohmann::json to_json(const facecycle::v1::Event& event);
nlohmann::json to_json(const facecycle::v1::Model& model);
nlohmann::json to_json(const facecycle::v1::Plugin& plugin);
nlohmann::json to_json(const facecycle::v1::DaemonModel& daemon);

}  // namespace fcc
