-- Watchers resume "after event N" (WatchJob), so an event must never become readable behind one
-- a watcher has already read. Ids come from a sequence before commit: with several daemons
-- writing they commit out of order, and "id > N" can skip one. Each event now records its
-- writer's transaction id. Every transaction still able to commit has an id at or above the
-- reader's snapshot xmin, so the events below it, in (writer, id) order, only ever grow at the
-- end: that order is the watch order (postgres_job_reads.cpp: events_after).
ALTER TABLE events ADD COLUMN writer xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_by_job_writer ON events (job_id, writer, id);
