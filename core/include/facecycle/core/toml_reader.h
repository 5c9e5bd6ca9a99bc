// The one typed reader of TOML configuration, shared by the daemon (its config file), the
// trainer (training configs) and the stage plugins (their [plugins.NAME] tables).
//
// Each getter takes the default to return when the key is absent and checks type and range;
// every error is a ConfigError naming the full key (prefix + key) so a user finds the line.
// finish() refuses keys nobody asked for: in a config they are almost always typos, and a typo
// silently ignored leaves a setting at its default without a word.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "facecycle/core/enum_names.h"

namespace fc {

// A bad configuration value. what() is "KEY: DETAIL"; key() and detail() are kept apart so a
// caller that knows the file (the daemon) can word it its own way (in_file). Derives from
// std::invalid_argument, which the trainer's callers have always caught.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(std::string key, std::string detail);
  // A key no getter asked for; `known` lists the keys that were asked for.
  static ConfigError unknown(std::string key, std::string known);

  const std::string& key() const { return key_; }
  const std::string& detail() const { return detail_; }
  bool unknown_key() const { return unknown_key_; }
  // "ORIGIN: key 'KEY' DETAIL", or "ORIGIN: unknown key 'KEY' (known: ...)".
  std::string in_file(const std::string& origin) const;

 private:
  std::string key_, detail_, known_;
  bool unknown_key_ = false;
};

namespace config {

[[noreturn]] void fail(const std::string& key, const std::string& detail);

// "\"x\"", "3", "an array", ... for messages; long strings are clipped, since a value repeated
// whole in every message bloats replies and logs.
std::string describe(const toml::node& n);

// `s`, or its first `max` bytes (never half a UTF-8 character) and how long it was.
std::string clip(const std::string& s, std::size_t max = 200);

}  // namespace config

class TomlReader {
 public:
  // `prefix` is prepended to every key in messages: "optimizer.", "plugins.detect.".
  TomlReader(const toml::table& t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string key(const std::string& k) const { return prefix_ + k; }
  bool has(const std::string& k);
  // The raw node (nullptr when absent), marked as read.
  const toml::node* node(const std::string& k);

  long long integer(const std::string& k, long long def, long long lo, long long hi);
  double number(const std::string& k, double def, double lo, double hi);  // integers too
  bool boolean(const std::string& k, bool def);
  std::string string(const std::string& k, const std::string& def);
  std::vector<std::string> strings(const std::string& k);  // an array of strings; absent: {}
  const toml::table* table(const std::string& k);          // absent: nullptr
  // A string that must be one of `allowed`.
  std::string one_of(const std::string& k, const std::string& def,
                     const std::vector<std::string>& allowed);

  // A string spelled as one of E's names (enum_names.h).
  template <typename E>
  E choice(const std::string& k, E def) {
    const std::string v = string(k, enum_name(def));
    if (auto e = enum_from_string<E>(v)) return *e;
    config::fail(key(k),
                 "must be one of: " + enum_choices<E>(", ") + " (got \"" + config::clip(v) + "\")");
  }

  // Throws for the first key of the table that no getter asked for; its message lists the
  // keys that were asked for, so the list of known keys is never kept by hand.
  void finish() const;

 private:
  void ask(const std::string& k);

  const toml::table& t_;
  std::string prefix_;
  std::set<std::string> used_;
  std::vector<std::string> asked_;  // in order, for the known-keys list
};

}  // namespace fc
