-- PCAP evidence per alert (the packets that triggered it, with a window around them).
CREATE TABLE alert_pcaps (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    bytes    INTEGER NOT NULL,
    pcap     BLOB    NOT NULL
);
