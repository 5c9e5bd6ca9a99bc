#include "service/train_policy.h"

#include <toml++/toml.h>

#include <regex>
#include <sstream>
#include <stdexcept>

#include "facecycle/core/config_paths.h"
#include "facecycle/core/toml_limits.h"
#include "facecycle/core/toml_reader.h"
#include "text_limits.h"

namespace fcd {

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw std::invalid_argument(key + ": " + why);
}

// A string under a dotted key ("eval.judge_path") through the shared reader, which names the
// key when its type is wrong. No finish(): the trainer checks every key; the daemon only picks
// out the ones it must vouch for.
std::string string_at(fc::TomlReader& root, const std::string& dotted) {
  const auto dot = dotted.find('.');
  if (dot == std::string::npos) return root.string(dotted, "");
  const toml::table* t = root.table(dotted.substr(0, dot));
  if (!t) return "";
  fc::TomlReader r(*t, dotted.substr(0, dot + 1));
  return r.string(dotted.substr(dot + 1), "");
}

}  // namespace

TrainConfigFacts read_train_config_facts(const std::string& text, const std::string& config_path) {
  if (auto why = fc::toml_limits_problem(text); !why.empty())
    throw std::invalid_argument("the training config was refused: " + why);
  toml::table root;
  try {
    root = toml::parse(text, config_path);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << (config_path.empty() ? "config" : clip(config_path)) << ":" << e.source().begin.line << ":"
      << e.source().begin.column << ": " << e.description();
    throw std::invalid_argument(s.str());
  }
  fc::TomlReader r(root, "");
  TrainConfigFacts f;
  f.model_name = r.string("model_name", kDefaultTrainedModelName);
  static const std::regex plain(R"([A-Za-z0-9][A-Za-z0-9._-]{0,127})");
  if (!std::regex_match(f.model_name, plain))
    bad("model_name", "\"" + clip(f.model_name) +
                          "\" must be a plain name: letters, digits, '.', '_' and '-', at most "
                          "128, not starting with '.'");
  f.run_name = r.string("run_name", "");
  f.tags = r.strings("tags");
  for (const char* key : {"data.dir", "warm_start", "eval.judge_path"}) {
    std::string p = string_at(r, key);
    if (!p.empty()) f.read_paths.emplace_back(key, fc::resolve_config_path(p, config_path));
  }
  return f;
}

void check_train_paths(const TrainConfigFacts& facts, const AllowedRoots& roots,
                       const std::vector<std::string>& model_dirs) {
  AllowedRoots readable = roots;
  for (const auto& d : model_dirs) readable.add(d);
  for (const auto& [key, path] : facts.read_paths) {
    try {
      if (key == "data.dir")
        roots.check_read_dir(path);
      else
        readable.check_read(path);
    } catch (const PathError& e) {
      bad(key, clip(e.what(), 1000));
    }
  }
}

std::string model_name_refusal(const std::string& name, const User& user, ModelRegistry& models) {
  if (can_manage_models(user)) return {};
  auto owner = models.owner_of(name);
  if (!owner || *owner == user.name) return {};
  // Not the owner's name: which user trains what is theirs to tell (admins never get here).
  return "model_name: a model called '" + name + "' already exists and belongs to " +
         (owner->empty() ? std::string("the daemon (shipped or installed by an admin)")
                         : std::string("another user")) +
         "; only an admin may replace it, since activating it changes every user's results. "
         "Choose another model_name";
}

}  // namespace fcd
