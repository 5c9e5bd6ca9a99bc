// Which item a fatal signal hit. A worker marks the item its thread runs; the signal handler
// writes that item to a small file, and the next start blames that item alone. Without a note
// (kill -9, the OOM killer, power loss) a crash is blamed on an item only when it was the only
// one in flight, so that crashes an item did not cause never use up its retries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/job_records.h"  // CrashedItem

namespace fcd {

// Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that write the note to
// `path` and then die of the same signal. Call once, before the workers start.
void install_crash_note(const std::string& path);

// Reads the note a previous run left (nullopt: none, or unreadable) and removes it.
std::optional<CrashedItem> take_crash_note(const std::string& path);

// Marks the calling thread as running this item until destroyed.
class CurrentItem {
 public:
  CurrentItem(int64_t job_id, int idx);
  ~CurrentItem();
  CurrentItem(const CurrentItem&) = delete;
  CurrentItem& operator=(const CurrentItem&) = delete;
};

}  // namespace fcd
