// Domains A and B of a task as label filters over UTKFace records, and the held-out split.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/utkface.h"

namespace fc::train {

// Empty / negative means "any".
struct LabelFilter {
  int age_min = -1, age_max = -1;  // inclusive
  std::vector<int> races, genders;
  bool matches(const FaceRecord& r) const;
};

// Parses {age = [20, 29], race = [0], gender = [0, 1]} (all keys optional) from the table t
// whose full key is `key`. Throws std::invalid_argument naming the full key, e.g.
// "tasks.age.a.age: expected [min, max]". Unknown keys are refused too.
LabelFilter parse_label_filter(const toml::table& t, const std::string& key);

struct TaskDomains {
  std::string task;            // "age" | "race"
  LabelFilter a, b;            // domain A (forward source) and B
  LabelFilter restrict;        // applied to both domains (e.g. the race task keeps ages 20-59)
  std::string a_name, b_name;  // "20-29", "50-59", "White", "Black"
  std::vector<FaceRecord> select_a(const std::vector<FaceRecord>& all) const;
  std::vector<FaceRecord> select_b(const std::vector<FaceRecord>& all) const;
};

// Parses a task table {a = {...}, b = {...}, restrict = {...}, a_name = "..", b_name = ".."}
// (restrict, a_name, b_name optional) whose full key is `key` (e.g. "tasks.age").
TaskDomains parse_task_domains(const toml::table& t, const std::string& task,
                               const std::string& key);

struct Split {
  std::vector<FaceRecord> train, heldout;
};

// Each file goes to heldout when a hash of (file name, seed) falls below heldout_fraction:
// fixed by the seed, and a file keeps its side when other files are added or removed.
// Order within each side follows `all`.
Split split_heldout(const std::vector<FaceRecord>& all, double heldout_fraction, uint64_t seed);

// At most `cap` of the records (all when cap <= 0 or they are fewer), a seeded shuffle's first:
// the same sample for the same seed on every machine (SeededRng).
std::vector<FaceRecord> seeded_sample(std::vector<FaceRecord> records, int cap, uint64_t seed);

}  // namespace fc::train
