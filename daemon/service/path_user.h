// Who a job's paths are checked for (data_dir_zones.h): the requesting user at submit time, and
// the job's owner when a worker checks them again at run time.
#pragma once

#include "data_dir_zones.h"
#include "service/auth.h"
#include "store/job_store.h"

namespace fcd {

// In a job's request JSON: whether its owner was an admin when it was submitted, so that the
// run-time check grants what the submit-time check granted.
inline const char* kOwnerIsAdminKey = "owner_is_admin";

PathUser path_user_for(const User& user, JobStore& queue);
PathUser path_user_for(const JobRecord& job, JobStore& queue);

}  // namespace fcd
