#include "service/retry_status.h"

namespace fcd {

using grpc::Status;
using grpc::StatusCode;

Status retry_status(const RetryResult& r, int64_t job_id) {
  const std::string job = "job " + std::to_string(job_id);
  switch (r.verdict) {
    case RetryVerdict::kRequeued:
      return Status::OK;
    case RetryVerdict::kNoSuchJob:
      return Status(StatusCode::NOT_FOUND, "no " + job + " of yours (`facecycle jobs` lists them)");
    case RetryVerdict::kStillOpen:
      return Status(StatusCode::FAILED_PRECONDITION,
                    job + " is still " + enum_name(r.job.state) +
                        ": retry it once it has ended (`facecycle watch " + std::to_string(job_id) +
                        "`)");
    case RetryVerdict::kCancelled:
      return Status(StatusCode::FAILED_PRECONDITION,
                    job +
                        " was cancelled, so retry does not re-open it: run the same transform "
                        "command again with --skip-existing to finish it (what succeeded is "
                        "skipped)");
    case RetryVerdict::kNotTransform:
      return Status(StatusCode::FAILED_PRECONDITION,
                    job +
                        " is a training job: retry re-runs transform items only; submit the "
                        "training again with `facecycle train --config FILE`");
    case RetryVerdict::kNoneFailed:
      return Status(StatusCode::FAILED_PRECONDITION,
                    job + " has no failed items; nothing to retry");
  }
  return Status(StatusCode::INTERNAL, "retry of " + job + ": unknown outcome");
}

}  // namespace fcd
