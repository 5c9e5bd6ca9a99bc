// Reads one TOML table of a training config with typed, range-checked getters. Every error
// names the full key (prefix + key) so a user finds the line; unknown keys are refused.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "facecycle/core/enum_names.h"

namespace fc::train {

[[noreturn]] void fail(const std::string& key, const std::string& what);

// "\"x\"", "3", "an array", ... for messages.
std::string describe(const toml::node& n);

class TomlReader {
 public:
  TomlReader(const toml::table& t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string key(const std::string& k) const { return prefix_ + k; }
  bool has(const std::string& k) const { return t_.contains(k); }
  const toml::node* node(const std::string& k);

  long long integer(const std::string& k, long long def, long long lo, long long hi);
  double number(const std::string& k, double def, double lo, double hi);
  bool boolean(const std::string& k, bool def);
  std::string string(const std::string& k, const std::string& def);
  std::vector<std::string> strings(const std::string& k);  // an array of strings; absent: {}
  const toml::table* table(const std::string& k);

  // A string spelled as one of E's names (enum_names.h).
  template <typename E>
  E choice(const std::string& k, E def) {
    const std::string v = string(k, enum_name(def));
    if (auto e = enum_from_string<E>(v)) return *e;
    fail(key(k), "\"" + v + "\" is not one of " + enum_choices<E>());
  }

  // Unknown keys are almost always typos; refuse them rather than silently ignore.
  void finish() const;

 private:
  const toml::table& t_;
  std::string prefix_;
  std::set<std::string> used_;
};

}  // namespace fc::train
