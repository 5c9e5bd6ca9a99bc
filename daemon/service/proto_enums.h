// The store's enums (job_records.h) and the proto's, one table per pair. The proto adds an
// UNSPECIFIED value, which is what an unknown or absent name becomes.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "facecycle/v1/facecycle.pb.h"
#include "store/job_records.h"

namespace fcd {

template <typename E>
struct ProtoEnum;

template <>
struct ProtoEnum<JobKind> {
  using Proto = facecycle::v1::JobKind;
  static constexpr Proto kUnspecified = facecycle::v1::JOB_KIND_UNSPECIFIED;
  static constexpr std::pair<JobKind, Proto> table[] = {
      {JobKind::kTransform, facecycle::v1::JOB_KIND_TRANSFORM},
      {JobKind::kTrain, facecycle::v1::JOB_KIND_TRAIN}};
};

template <>
struct ProtoEnum<JobState> {
  using Proto = facecycle::v1::JobState;
  static constexpr Proto kUnspecified = facecycle::v1::JOB_STATE_UNSPECIFIED;
  static constexpr std::pair<JobState, Proto> table[] = {
      {JobState::kQueued, facecycle::v1::JOB_STATE_QUEUED},
      {JobState::kRunning, facecycle::v1::JOB_STATE_RUNNING},
      {JobState::kSucceeded, facecycle::v1::JOB_STATE_SUCCEEDED},
      {JobState::kFailed, facecycle::v1::JOB_STATE_FAILED},
      {JobState::kCancelled, facecycle::v1::JOB_STATE_CANCELLED}};
};

// The proto has no item state of its own: items report JobState values.
template <>
struct ProtoEnum<ItemState> {
  using Proto = facecycle::v1::JobState;
  static constexpr Proto kUnspecified = facecycle::v1::JOB_STATE_UNSPECIFIED;
  static constexpr std::pair<ItemState, Proto> table[] = {
      {ItemState::kQueued, facecycle::v1::JOB_STATE_QUEUED},
      {ItemState::kRunning, facecycle::v1::JOB_STATE_RUNNING},
      {ItemState::kSucceeded, facecycle::v1::JOB_STATE_SUCCEEDED},
      {ItemState::kFailed, facecycle::v1::JOB_STATE_FAILED},
      {ItemState::kCancelled, facecycle::v1::JOB_STATE_CANCELLED}};
};

template <>
struct ProtoEnum<EventType> {
  using Proto = facecycle::v1::EventType;
  static constexpr Proto kUnspecified = facecycle::v1::EVENT_TYPE_UNSPECIFIED;
  static constexpr std::pair<EventType, Proto> table[] = {
      {EventType::kState, facecycle::v1::EVENT_TYPE_STATE},
      {EventType::kProgress, facecycle::v1::EVENT_TYPE_PROGRESS},
      {EventType::kLog, facecycle::v1::EVENT_TYPE_LOG},
      {EventType::kMetric, facecycle::v1::EVENT_TYPE_METRIC},
      {EventType::kItem, facecycle::v1::EVENT_TYPE_ITEM}};
};

template <typename E>
typename ProtoEnum<E>::Proto to_proto(E value) {
  for (const auto& [v, p] : ProtoEnum<E>::table)
    if (v == value) return p;
  return ProtoEnum<E>::kUnspecified;
}

// Empty for UNSPECIFIED (e.g. "no state filter").
template <typename E>
std::optional<E> from_proto(typename ProtoEnum<E>::Proto value) {
  for (const auto& [v, p] : ProtoEnum<E>::table)
    if (p == value) return v;
  return std::nullopt;
}

// A name as stored in an event's JSON payload, straight to the proto value.
template <typename E>
typename ProtoEnum<E>::Proto proto_from_name(const std::string& name) {
  auto v = fc::enum_from_string<E>(name);
  return v ? to_proto(*v) : ProtoEnum<E>::kUnspecified;
}

}  // namespace fcd
