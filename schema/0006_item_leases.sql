-- Leases (issue 18): the daemon process that holds a running item, and when its claim runs out
-- unless that daemon's heartbeat renews it. Any daemon sharing the store re-queues items whose
-- lease ran out (store/lease_keeper.h). '' and 0 = not held (queued, ended, or claimed before
-- this migration). On SQLite one daemon owns the file, so leases there only ever expire after a
-- stalled heartbeat; a restart re-queues everything still running, as before.
ALTER TABLE items ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
