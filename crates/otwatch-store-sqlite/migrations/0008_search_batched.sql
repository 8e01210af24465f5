-- New alerts enter the free-text index once per ingest batch (one statement
-- at the end of the transaction, in alerts.rs) instead of by a trigger per
-- row: FTS5 writes its pending terms to disk at every statement of a
-- transaction that touches it, so a trigger per insert made one tiny index
-- segment per alert and spent most of the ingest time merging them
-- (perf, BENCHMARKS.md). The update and delete triggers stay.
DROP TRIGGER IF EXISTS alerts_search_insert;
