// States and kinds written into SQL text by both job-store back ends.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "store/job_records.h"

namespace fcd::sql {

// A state or kind as an SQL literal, spelled by its name table (plain words: nothing to escape).
template <typename E>
std::string lit(E v) {
  return "'" + enum_name(v) + "'";
}

// "('a', 'b')", for IN.
template <typename E>
std::string lits(std::initializer_list<E> vs) {
  std::string out;
  for (E v : vs) out += (out.empty() ? "(" : ", ") + lit(v);
  return out + ")";
}

// "('succeeded', 'failed', 'cancelled')": the states of a job that ended (retention's filter).
inline std::string ended_job_states() {
  return lits({JobState::kSucceeded, JobState::kFailed, JobState::kCancelled});
}

// Open jobs with no queued or running item and no live lease on any item: the candidates that
// take_abandoned_jobs re-checks with job_end_abandoned once it holds the job.
inline std::string abandoned_job_candidates(int64_t now_ms) {
  return "SELECT j.id FROM jobs j WHERE j.state IN " +
         lits({JobState::kQueued, JobState::kRunning}) +
         " AND NOT EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id AND (i.state IN " +
         lits({ItemState::kQueued, ItemState::kRunning}) +
         " OR i.lease_until_ms >= " + std::to_string(now_ms) + ")) ORDER BY j.id";
}

// Which items a holder's heartbeat renews (after "lease_owner = <holder> AND"): those it runs,
// and the one that carries its lease on the end of a job whose items all ended (an ended item
// with a lease, in an open job). An item it handed back (queued) is not its any more.
inline std::string renewed_leases() {
  return "(state = " + lit(ItemState::kRunning) + " OR (state IN " +
         lits({ItemState::kSucceeded, ItemState::kFailed, ItemState::kCancelled}) +
         " AND lease_until_ms > 0 AND job_id IN (SELECT id FROM jobs WHERE state IN " +
         lits({JobState::kQueued, JobState::kRunning}) + ")))";
}

// queue_counts' three reads, the same on both back ends: jobs by kind and state, items by state,
// and the running and queued items by their job's owner (QueueCounts::add_active).
inline const char* kJobCounts = "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state";
inline const char* kItemCounts = "SELECT state, COUNT(*) FROM items GROUP BY state";
inline std::string active_items_by_owner() {
  return "SELECT j.owner, i.state, COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id "
         "WHERE i.state IN " +
         lits({ItemState::kRunning, ItemState::kQueued}) + " GROUP BY j.owner, i.state";
}

}  // namespace fcd::sql
