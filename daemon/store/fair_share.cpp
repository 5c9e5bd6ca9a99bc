#include "store/fair_share.h"

#include <algorithm>
#include <tuple>

namespace fcd {

std::optional<size_t> pick_fair(const std::vector<ClaimCandidate>& candidates,
                                const OwnerTurns& turns, const FairShareLimits& limits) {
  std::optional<size_t> best;
  auto rank = [&](const ClaimCandidate& c) {
    // Higher priority, fewer running, served longer ago, older job: smaller is better.
    return std::make_tuple(-c.priority, c.owner_running, turns.last(c.owner), c.job_id);
  };
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    if (limits.max_running_per_user > 0 && c.owner_running >= limits.max_running_per_user) continue;
    if (!best || rank(c) < rank(candidates[*best])) best = i;
  }
  return best;
}

int claim_batch_size(const ClaimCandidate& picked, bool train_job, const FairShareLimits& limits,
                     int max_items) {
  int n = train_job ? 1 : std::max(1, max_items);
  if (limits.max_running_per_user > 0)
    n = std::min(n, std::max(1, limits.max_running_per_user - picked.owner_running));
  return n;
}

}  // namespace fcd
