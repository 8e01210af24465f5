-- Retention keeps an alert while anything but the auto-close loop still
-- touches it: a detection, an ingest (a replayed old capture), a person's
-- action. `last_activity` also moves when otwatch closes a quiet alert
-- (Defender for IoT's "Last activity" counts automated changes), so an alert
-- auto-closed after 90 quiet days was kept another full retention period.
-- `last_touched` is the time retention reads; existing alerts start from
-- their last activity, which keeps every one of them at least as long as before.
ALTER TABLE alerts ADD COLUMN last_touched INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET last_touched = last_activity;
