#include "facecycle/core/toml_reader.h"

#include <algorithm>
#include <sstream>

namespace fc {

namespace {

std::string what_of(const std::string& key, const std::string& detail) {
  return config::clip(key) + ": " + detail;
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

ConfigError::ConfigError(std::string key, std::string detail)
    : std::invalid_argument(what_of(key, detail)),
      key_(std::move(key)),
      detail_(std::move(detail)) {}

ConfigError ConfigError::unknown(std::string key, std::string known) {
  ConfigError e(std::move(key), "unknown key" + (known.empty() ? "" : " (known: " + known + ")"));
  e.known_ = std::move(known);
  e.unknown_key_ = true;
  return e;
}

std::string ConfigError::in_file(const std::string& origin) const {
  // The daemon has always worded an unknown key as "unknown key 'K'", the key last.
  if (unknown_key_)
    return origin + ": unknown key '" + config::clip(key_) + "'" +
           (known_.empty() ? "" : " (known: " + known_ + ")");
  return origin + ": key '" + config::clip(key_) + "' " + detail_;
}

namespace config {

void fail(const std::string& key, const std::string& detail) { throw ConfigError(key, detail); }

std::string clip(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "... (" + std::to_string(s.size()) + " bytes)";
}

std::string describe(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return "\"" + clip(*s) + "\"";
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) return number_text(*d);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  if (n.is_array()) return "an array";
  if (n.is_table()) return "a table";
  return "a date/time";
}

}  // namespace config

using config::describe;
using config::fail;

void TomlReader::ask(const std::string& k) {
  if (std::find(asked_.begin(), asked_.end(), k) == asked_.end()) asked_.push_back(k);
}

bool TomlReader::has(const std::string& k) {
  ask(k);
  return t_.contains(k);
}

const toml::node* TomlReader::node(const std::string& k) {
  ask(k);
  used_.insert(k);
  return t_.get(k);
}

long long TomlReader::integer(const std::string& k, long long def, long long lo, long long hi) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_integer()) fail(key(k), "must be an integer (got " + describe(*n) + ")");
  const long long v = n->as_integer()->get();
  if (v < lo || v > hi)
    fail(key(k), "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
                     std::to_string(v) + ")");
  return v;
}

double TomlReader::number(const std::string& k, double def, double lo, double hi) {
  const toml::node* n = node(k);
  if (!n) return def;
  double v;
  if (n->is_floating_point())
    v = n->as_floating_point()->get();
  else if (n->is_integer())
    v = static_cast<double>(n->as_integer()->get());
  else
    fail(key(k), "must be a number (got " + describe(*n) + ")");
  if (!(v >= lo && v <= hi))  // written so that NaN fails too
    fail(key(k), "must be between " + number_text(lo) + " and " + number_text(hi) + " (got " +
                     number_text(v) + ")");
  return v;
}

bool TomlReader::boolean(const std::string& k, bool def) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_boolean()) fail(key(k), "must be true or false (got " + describe(*n) + ")");
  return n->as_boolean()->get();
}

std::string TomlReader::string(const std::string& k, const std::string& def) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_string()) fail(key(k), "must be a string (got " + describe(*n) + ")");
  return n->as_string()->get();
}

std::vector<std::string> TomlReader::strings(const std::string& k) {
  const toml::node* n = node(k);
  std::vector<std::string> out;
  if (!n) return out;
  const std::string expected = "must be an array of strings, e.g. [\"a\", \"b\"]";
  const toml::array* a = n->as_array();
  if (!a) fail(key(k), expected + " (got " + describe(*n) + ")");
  for (const toml::node& e : *a) {
    if (!e.is_string()) fail(key(k), expected + " (it holds " + describe(e) + ")");
    out.push_back(e.as_string()->get());
  }
  return out;
}

const toml::table* TomlReader::table(const std::string& k) {
  const toml::node* n = node(k);
  if (!n) return nullptr;
  if (!n->is_table()) fail(key(k), "must be a table (got " + describe(*n) + ")");
  return n->as_table();
}

std::string TomlReader::one_of(const std::string& k, const std::string& def,
                               const std::vector<std::string>& allowed) {
  const std::string v = string(k, def);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(key(k), "must be one of: " + list + " (got \"" + config::clip(v) + "\")");
}

void TomlReader::finish() const {
  for (const auto& [k, v] : t_) {
    const std::string name(k.str());
    if (used_.count(name)) continue;
    std::string known;
    for (const auto& a : asked_) known += (known.empty() ? "" : ", ") + a;
    throw ConfigError::unknown(key(name), known);
  }
}

}  // namespace fc
