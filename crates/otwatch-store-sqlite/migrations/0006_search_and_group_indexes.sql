-- Free-text search over alerts through a trigram index (substring matches
-- with LIKE use it when the text has three or more characters), kept in step
-- by triggers. Updates that only move last detection or counts don't touch it.
CREATE VIRTUAL TABLE alerts_search USING fts5(doc, tokenize = 'trigram');

INSERT INTO alerts_search (rowid, doc)
SELECT id, name || char(31) || alert_type || char(31) || src_ip || char(31) || src_mac || char(31) || src_name
    || char(31) || dst_ip || char(31) || dst_mac || char(31) || dst_name || char(31) || protocol
    || char(31) || sensor || char(31) || site || char(31) || zone
FROM alerts;

CREATE TRIGGER alerts_search_insert AFTER INSERT ON alerts BEGIN
    INSERT INTO alerts_search (rowid, doc) VALUES (new.id,
        new.name || char(31) || new.alert_type || char(31) || new.src_ip || char(31) || new.src_mac || char(31) || new.src_name
        || char(31) || new.dst_ip || char(31) || new.dst_mac || char(31) || new.dst_name || char(31) || new.protocol
        || char(31) || new.sensor || char(31) || new.site || char(31) || new.zone);
END;

CREATE TRIGGER alerts_search_delete AFTER DELETE ON alerts BEGIN
    DELETE FROM alerts_search WHERE rowid = old.id;
END;

CREATE TRIGGER alerts_search_update
AFTER UPDATE OF name, alert_type, src_ip, src_mac, src_name, dst_ip, dst_mac, dst_name, protocol, sensor, site, zone ON alerts
BEGIN
    UPDATE alerts_search SET doc =
        new.name || char(31) || new.alert_type || char(31) || new.src_ip || char(31) || new.src_mac || char(31) || new.src_name
        || char(31) || new.dst_ip || char(31) || new.dst_mac || char(31) || new.dst_name || char(31) || new.protocol
        || char(31) || new.sensor || char(31) || new.site || char(31) || new.zone
    WHERE rowid = new.id;
END;

-- Group-by and filters on columns that never change after an alert is
-- raised: cheap to keep (no index work when repeats update an alert).
CREATE INDEX alerts_engine ON alerts (engine);
CREATE INDEX alerts_name ON alerts (name);
CREATE INDEX alerts_sensor ON alerts (sensor);
CREATE INDEX alerts_category ON alerts (category);
