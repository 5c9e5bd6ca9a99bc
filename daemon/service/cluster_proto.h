// ModelRegistry's cluster status (models/model_registry.h) in the proto's words: the reply of
// `models activate --everywhere` and what `facecycle health` shows per daemon.
#pragma once

#include "facecycle/v1/facecycle.pb.h"
#include "models/model_registry.h"

namespace fcd {

inline facecycle::v1::ClusterAnswer to_proto(ClusterAnswer a) {
  switch (a) {
    case ClusterAnswer::kSwitched:
      return facecycle::v1::CLUSTER_ANSWER_SWITCHED;
    case ClusterAnswer::kKept:
      return facecycle::v1::CLUSTER_ANSWER_KEPT;
    case ClusterAnswer::kTold:
      return facecycle::v1::CLUSTER_ANSWER_TOLD;
    case ClusterAnswer::kNone:
      break;
  }
  return facecycle::v1::CLUSTER_ANSWER_NONE;
}

inline void add_daemons(const ClusterStatus& s,
                        google::protobuf::RepeatedPtrField<facecycle::v1::DaemonModel>* out) {
  for (const auto& n : s.nodes) {
    auto* d = out->Add();
    d->set_node(n.node);
    d->set_resident(n.resident);
    d->set_answer(to_proto(n.answer));
    d->set_error(n.error);
    d->set_self(n.self);
  }
}

}  // namespace fcd
