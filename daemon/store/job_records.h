// What the job store holds: jobs, their items and their events, with typed kinds and states.
//
// Each enum has one name table (fc::EnumNames). The database stores these names (schema/ CHECKs
// them), events carry them in JSON, and the proto conversion maps the enums, so a state is
// spelled in exactly one place. No SQLite and no gRPC here: a store interface can use this alone.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "facecycle/core/enum_names.h"

namespace fcd {

enum class JobKind { kTransform, kTrain };
enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class ItemState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class EventType { kState, kProgress, kLog, kMetric, kItem };

// How a worker ended an item; each is also the item's terminal state (item_state()).
enum class ItemOutcome { kSucceeded, kFailed, kCancelled };

}  // namespace fcd

namespace fc {

template <>
struct EnumNames<fcd::JobKind> {
  static constexpr std::pair<fcd::JobKind, const char*> table[] = {
      {fcd::JobKind::kTransform, "transform"}, {fcd::JobKind::kTrain, "train"}};
};

template <>
struct EnumNames<fcd::JobState> {
  static constexpr std::pair<fcd::JobState, const char*> table[] = {
      {fcd::JobState::kQueued, "queued"},
      {fcd::JobState::kRunning, "running"},
      {fcd::JobState::kSucceeded, "succeeded"},
      {fcd::JobState::kFailed, "failed"},
      {fcd::JobState::kCancelled, "cancelled"}};
};

template <>
struct EnumNames<fcd::ItemState> {
  static constexpr std::pair<fcd::ItemState, const char*> table[] = {
      {fcd::ItemState::kQueued, "queued"},
      {fcd::ItemState::kRunning, "running"},
      {fcd::ItemState::kSucceeded, "succeeded"},
      {fcd::ItemState::kFailed, "failed"},
      {fcd::ItemState::kCancelled, "cancelled"}};
};

template <>
struct EnumNames<fcd::EventType> {
  static constexpr std::pair<fcd::EventType, const char*> table[] = {
      {fcd::EventType::kState, "state"},
      {fcd::EventType::kProgress, "progress"},
      {fcd::EventType::kLog, "log"},
      {fcd::EventType::kMetric, "metric"},
      {fcd::EventType::kItem, "item"}};
};

}  // namespace fc

namespace fcd {

using fc::enum_name;

// A name read back from the store; the schema's CHECKs make a miss a corrupt database.
template <typename E>
E parse_stored(const std::string& name) {
  if (auto v = fc::enum_from_string<E>(name)) return *v;
  throw std::runtime_error("the database holds an unknown value '" + name +
                           "' (expected one of: " + fc::enum_choices<E>() + ")");
}

inline bool is_terminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled;
}

inline ItemState item_state(ItemOutcome o) {
  switch (o) {
    case ItemOutcome::kSucceeded:
      return ItemState::kSucceeded;
    case ItemOutcome::kFailed:
      return ItemState::kFailed;
    default:
      return ItemState::kCancelled;
  }
}

constexpr int kMinPriority = -100;
constexpr int kMaxPriority = 100;

struct JobRecord {
  int64_t id = 0;
  JobKind kind = JobKind::kTransform;
  JobState state = JobState::kQueued;
  std::string owner;
  int priority = 0;
  std::string request_json;
  std::string output_dir;
  std::string result_json;
  std::string error;
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  int items_total = 0, items_done = 0, items_failed = 0, items_cancelled = 0;
  int items_running = 0, items_queued = 0;
};

struct ItemRecord {
  int64_t job_id = 0;
  int idx = 0;
  std::string input, output;
  ItemState state = ItemState::kQueued;
  int attempts = 0;
  std::string error, report_json;
  int crashes = 0;  // crashes this item plausibly caused (see crash_note.h)
};

// The item a fatal signal hit, as the crash note (workers/crash_note.h) recorded it.
struct CrashedItem {
  int64_t job_id = 0;
  int idx = 0;
  int signal = 0;
};

struct EventRecord {
  int64_t id = 0, job_id = 0, time_ms = 0;
  EventType type = EventType::kLog;
  nlohmann::json payload;
};

struct NewItem {
  std::string input, output;
};

struct Claim {
  JobRecord job;  // the job's row as claimed; its item counts are left 0 (counting every item of
                  // a large job on every claim would cost more than the claim itself)
  ItemRecord item;
};

}  // namespace fcd
