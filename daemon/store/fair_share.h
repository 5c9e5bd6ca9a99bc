// Which owner's job the next claim serves: the highest priority first, then, within it, the owner
// with the fewest running items, then the owner served longest ago. A user's 20-item job is
// therefore not stuck behind another user's 3,000-item job of the same priority. Pure functions:
// the queue collects the candidates under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fcd {

// An owner's oldest job, among the claimable ones, at one priority.
struct ClaimCandidate {
  int priority = 0;
  std::string owner;
  int64_t job_id = 0;
  int owner_running = 0;  // the owner's running items, all jobs and kinds
};

struct FairShareLimits {
  int max_running_per_user = 0;  // 0 = no cap
};

// When each owner was last served: a counter, not a clock, so two claims in one millisecond
// still take turns. Kept in memory: after a restart everyone starts level, which is fair too.
class OwnerTurns {
 public:
  void served(const std::string& owner) { last_[owner] = ++seq_; }
  uint64_t last(const std::string& owner) const {
    auto it = last_.find(owner);
    return it == last_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, uint64_t> last_;
  uint64_t seq_ = 0;
};

// The index of the candidate to serve; none when every owner with work is at the cap.
std::optional<size_t> pick_fair(const std::vector<ClaimCandidate>& candidates,
                                const OwnerTurns& turns, const FairShareLimits& limits);

// How many items one claim takes from the picked candidate's job: up to max_items, one for a
// training job (each runs for hours on its own worker), and no more than the owner's room under
// max_running_per_user.
int claim_batch_size(const ClaimCandidate& picked, bool train_job, const FairShareLimits& limits,
                     int max_items);

}  // namespace fcd
