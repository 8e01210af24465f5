-- Retention keeps an alert while anything but the auto-close loop still
-- touches it: a detection, an ingest (a replayed old capture), a person's
-- action. `last_activity` also moves when otwatch closes a quiet alert
-- (Defender for IoT's "Last activity" counts automated changes), so an alert
-- auto-closed after 90 quiet days was kept another full retention period.
-- `last_touched` is the time retention reads. It starts NULL, read as the
-- last activity, which keeps every existing alert at least as long as before
-- and leaves the rows untouched: a backfill rewrote a 1,000,000-alert
-- database (a 0.9 GB write-ahead log and 0.9 GB of memory on first open).
ALTER TABLE alerts ADD COLUMN last_touched INTEGER;
