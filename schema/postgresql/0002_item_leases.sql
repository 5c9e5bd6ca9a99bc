-- Leases (issue 18): the daemon process that holds a running item, and when its claim runs out
-- unless that daemon's heartbeat renews it. Any daemon re-queues items whose lease ran out
-- (store/lease_keeper.h). '' and 0 = not held (queued, ended, or claimed before this migration).
ALTER TABLE items ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
-- What heartbeats renew and the expiry sweep scans: the running items only, a few rows however
-- large the queue.
CREATE INDEX items_running_by_owner ON items (lease_owner) WHERE state = 'running';
CREATE INDEX items_running_by_lease ON items (lease_until_ms) WHERE state = 'running';
