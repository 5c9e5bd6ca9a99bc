// RetryJob's refusals as gRPC statuses, each saying what to do instead.
#pragma once

#include <grpcpp/support/status.h>

#include "store/job_store.h"

namespace fcd {

// OK for kRequeued; FAILED_PRECONDITION (or NOT_FOUND) naming the job and the way forward.
grpc::Status retry_status(const RetryResult& r, int64_t job_id);

}  // namespace fcd
