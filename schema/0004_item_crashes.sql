-- Crashes an item plausibly caused: a fatal signal in its own worker thread, or a crash while it
-- was the only item in flight. Unlike `attempts`, kill -9s and other items' crashes do not count,
-- so that they never use up a good item's retries.
ALTER TABLE items ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
