-- The alerts grid filtered by status and sorted by severity (the triage view:
-- "New, most severe first") read every matching alert and sorted them: with
-- the status value bound as a parameter the planner chose the status index,
-- then sorted 200,000 rows of a 1,000,000-alert store (0.5-0.9 s; BENCHMARKS.md).
-- This index answers it in index order.
CREATE INDEX IF NOT EXISTS alerts_status_severity ON alerts (status, severity, last_detection);
