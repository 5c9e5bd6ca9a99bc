// Who may ask for which priority. A high priority jumps every other user's queue, so above the
// configured cap (max_user_priority, default 0) only admins and the local user (the daemon's own
// account) may submit. Refused rather than clamped: a job quietly run at another priority than
// the one asked for would surprise its owner.
#pragma once

#include <string>

#include "service/auth.h"

namespace fcd {

enum class PriorityVerdict { kAllowed, kOutOfRange, kAboveCap };

struct PriorityCheck {
  PriorityVerdict verdict = PriorityVerdict::kAllowed;
  std::string message;  // what to do instead; empty when allowed
};

PriorityCheck check_priority(int priority, const User& user, int max_user_priority);

// Admins and the local user: they may also take the priority above the cap.
inline bool may_exceed_priority_cap(const User& u) { return can_manage_models(u); }

}  // namespace fcd
