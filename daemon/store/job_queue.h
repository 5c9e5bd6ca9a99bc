// The old name of the SQLite job store, kept for code that builds one directly on a Database
// (tests, the dashboard). New code takes a JobStore& (store/job_store.h).
#pragma once

#include "store/sqlite_job_store.h"

namespace fcd {
using JobQueue = SqliteJobStore;
}  // namespace fcd
