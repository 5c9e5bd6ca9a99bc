#include "toml_reader.h"

#include <sstream>

namespace fc::train {

void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument(key + ": " + what);
}

std::string describe(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return "\"" + *s + "\"";
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) {
    std::ostringstream s;
    s << *d;
    return s.str();
  }
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  if (n.is_array()) return "an array";
  if (n.is_table()) return "a table";
  return "a date/time";
}

const toml::node* TomlReader::node(const std::string& k) {
  used_.insert(k);
  return t_.get(k);
}

long long TomlReader::integer(const std::string& k, long long def, long long lo, long long hi) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_integer()) fail(key(k), "expected an integer, got " + describe(*n));
  long long v = n->as_integer()->get();
  if (v < lo || v > hi)
    fail(key(k), std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
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
    fail(key(k), "expected a number, got " + describe(*n));
  if (!(v >= lo && v <= hi)) {
    std::ostringstream s;
    s << v << " is out of range [" << lo << ", " << hi << "]";
    fail(key(k), s.str());
  }
  return v;
}

bool TomlReader::boolean(const std::string& k, bool def) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_boolean()) fail(key(k), "expected true or false, got " + describe(*n));
  return n->as_boolean()->get();
}

std::string TomlReader::string(const std::string& k, const std::string& def) {
  const toml::node* n = node(k);
  if (!n) return def;
  if (!n->is_string()) fail(key(k), "expected a string, got " + describe(*n));
  return n->as_string()->get();
}

std::vector<std::string> TomlReader::strings(const std::string& k) {
  const toml::node* n = node(k);
  std::vector<std::string> out;
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) fail(key(k), "expected an array of strings, got " + describe(*n));
  for (const toml::node& e : *a) {
    if (!e.is_string()) fail(key(k), "expected an array of strings, holds " + describe(e));
    out.push_back(e.as_string()->get());
  }
  return out;
}

const toml::table* TomlReader::table(const std::string& k) {
  const toml::node* n = node(k);
  if (!n) return nullptr;
  if (!n->is_table()) fail(key(k), "expected a table, got " + describe(*n));
  return n->as_table();
}

void TomlReader::finish() const {
  for (const auto& [k, v] : t_) {
    std::string name(k.str());
    if (!used_.count(name)) fail(key(name), "unknown key");
  }
}

}  // namespace fc::train
