// bench_queue's store rows: the job store alone, as N daemon processes use it, without gRPC or
// images. Each process opens the store as facecycled does (its own SQLite file, or the shared
// PostgreSQL database), keeps its leases with a LeaseKeeper, and loops claim_batch(K) then
// finish_items until the queue is empty, while a thread of it submits single-item jobs through
// the same store, as gRPC's threads do, timing each. What these rows measure is the ceiling the
// queue puts on a daemon's throughput.
#pragma once

#include <string>

namespace fcb {

struct StoreRow {
  double p50_ms = 0, p99_ms = 0;  // single-item submits while the queue drains
  double transitions_s = 0;       // 2 per item: queued->running, running->done
};

// `url` empty: SQLite, one file per process under `dir`; else the PostgreSQL database all share.
// `claim_nice`: the nice value of each process's claim loop (its submit thread stays at 0), as
// a daemon's workers run below its RPC threads.
StoreRow measure_store(const std::string& dir, const std::string& url, int processes, int items,
                       int submits, int batch, int claim_nice = 0);

}  // namespace fcb
