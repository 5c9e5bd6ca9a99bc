#include "data/domains.h"

#include <algorithm>
#include <stdexcept>

#include "data/seeded_rng.h"

namespace fc::train {
namespace {

std::vector<int> int_list(const toml::node& node, const std::string& key, int lo, int hi) {
  const auto* arr = node.as_array();
  if (!arr) throw std::invalid_argument(key + ": expected a list of integers, e.g. [0, 1]");
  std::vector<int> out;
  for (const auto& v : *arr) {
    // Not value<int64_t>(): it converts a float too, and 5e50 does not fit (found by fuzzing).
    if (!v.is_integer())
      throw std::invalid_argument(key + ": expected a list of integers, e.g. [0, 1]");
    const int64_t i = v.as_integer()->get();
    if (i < lo || i > hi)
      throw std::invalid_argument(key + ": " + std::to_string(i) + " is outside " +
                                  std::to_string(lo) + ".." + std::to_string(hi));
    out.push_back(static_cast<int>(i));
  }
  return out;
}

std::vector<FaceRecord> select(const std::vector<FaceRecord>& all, const LabelFilter& f,
                               const LabelFilter& restrict) {
  std::vector<FaceRecord> out;
  for (const auto& r : all)
    if (f.matches(r)&& restrict.matches(r)) out.push_back(r);
  return out;
}

}  // namespace

bool LabelFilter::matches(const FaceRecord& r) const {
  if (age_min >= 0 && r.age < age_min) return false;
  if (age_max >= 0 && r.age > age_max) return false;
  if (!races.empty() && std::find(races.begin(), races.end(), r.race) == races.end()) return false;
  if (!genders.empty() && std::find(genders.begin(), genders.end(), r.gender) == genders.end())
    return false;
  return true;
}

LabelFilter parse_label_filter(const toml::table& t, const std::string& key) {
  LabelFilter f;
  for (const auto& [k, node] : t) {
    const std::string name(k.str());
    const std::string full = key + "." + name;
    if (name == "age") {
      std::vector<int> range;
      try {
        range = int_list(node, full, 0, 120);
      } catch (const std::invalid_argument&) {
        throw std::invalid_argument(full + ": expected [min, max] with ages in 0..120");
      }
      if (range.size() != 2 || range[0] > range[1])
        throw std::invalid_argument(full + ": expected [min, max] with min <= max");
      f.age_min = range[0];
      f.age_max = range[1];
    } else if (name == "race") {
      f.races = int_list(node, full, 0, 4);
    } else if (name == "gender") {
      f.genders = int_list(node, full, 0, 1);
    } else {
      throw std::invalid_argument(full + ": unknown key (expected age, race or gender)");
    }
  }
  return f;
}

TaskDomains parse_task_domains(const toml::table& t, const std::string& task,
                               const std::string& key) {
  TaskDomains d;
  d.task = task;
  auto filter = [&](const char* name, bool required) {
    const toml::node* node = t.get(name);
    if (!node) {
      if (required) throw std::invalid_argument(key + "." + name + ": missing (a label filter)");
      return LabelFilter{};
    }
    const auto* table = node->as_table();
    if (!table)
      throw std::invalid_argument(key + "." + name +
                                  ": expected a table like {age = [20, 29], race = [0]}");
    return parse_label_filter(*table, key + "." + name);
  };
  d.a = filter("a", true);
  d.b = filter("b", true);
  d.restrict = filter("restrict", false);
  for (const auto& [k, node] : t) {
    const std::string name(k.str());
    if (name == "a" || name == "b" || name == "restrict") continue;
    if (name == "a_name" || name == "b_name") {
      auto s = node.value<std::string>();
      if (!s) throw std::invalid_argument(key + "." + name + ": expected a string");
      (name == "a_name" ? d.a_name : d.b_name) = *s;
    }
  }
  if (d.a_name.empty()) d.a_name = "A";
  if (d.b_name.empty()) d.b_name = "B";
  return d;
}

std::vector<FaceRecord> TaskDomains::select_a(const std::vector<FaceRecord>& all) const {
  return select(all, a, restrict);
}
std::vector<FaceRecord> TaskDomains::select_b(const std::vector<FaceRecord>& all) const {
  return select(all, b, restrict);
}

Split split_heldout(const std::vector<FaceRecord>& all, double heldout_fraction, uint64_t seed) {
  if (heldout_fraction < 0 || heldout_fraction > 1)
    throw std::invalid_argument("heldout_fraction must be in [0, 1], got " +
                                std::to_string(heldout_fraction));
  Split s;
  for (const auto& r : all) {
    // FNV-1a over the file name (not the folder), then mixed with the seed.
    const size_t slash = r.path.find_last_of("/\\");
    const std::string name = slash == std::string::npos ? r.path : r.path.substr(slash + 1);
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
    const double u = static_cast<double>(mix64(h ^ mix64(seed)) >> 11) * (1.0 / 9007199254740992.0);
    (u < heldout_fraction ? s.heldout : s.train).push_back(r);
  }
  return s;
}

std::vector<FaceRecord> seeded_sample(std::vector<FaceRecord> v, int cap, uint64_t seed) {
  if (cap <= 0 || static_cast<int>(v.size()) <= cap) return v;
  SeededRng rng(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  v.resize(cap);
  return v;
}

}  // namespace fc::train
