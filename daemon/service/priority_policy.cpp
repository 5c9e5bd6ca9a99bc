#include "service/priority_policy.h"

#include "store/job_records.h"

namespace fcd {

PriorityCheck check_priority(int priority, const User& user, int max_user_priority) {
  const std::string p = std::to_string(priority);
  if (priority < kMinPriority || priority > kMaxPriority)
    return {PriorityVerdict::kOutOfRange,
            "priority " + p + " is out of range: use " + std::to_string(kMinPriority) +
                " (background) to " + std::to_string(kMaxPriority) + " (urgent); 0 is normal"};
  if (priority > max_user_priority && !may_exceed_priority_cap(user))
    return {PriorityVerdict::kAboveCap,
            "priority " + p + " is above " + std::to_string(max_user_priority) +
                ", the most this daemon lets a non-admin ask for (max_user_priority): submit "
                "with --priority " +
                std::to_string(max_user_priority) + " or lower, or ask an admin to submit the job"};
  return {};
}

}  // namespace fcd
