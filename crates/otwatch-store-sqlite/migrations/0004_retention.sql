-- When each idempotency key was seen (detection time), so keys older than
-- the alert retention can be forgotten; indexes for retention passes.
ALTER TABLE ingest_keys ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ingest_keys_at ON ingest_keys (at);
CREATE INDEX alerts_first_detection ON alerts (first_detection);
