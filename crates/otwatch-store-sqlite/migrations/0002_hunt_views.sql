-- Read-only relations for hunting (KQL), one per table of
-- otwatch_model::hunt::HUNT_TABLES, with exactly its columns in order.
-- Times stay integer microseconds; dynamic columns are JSON text.

CREATE VIEW hunt_alerts AS
SELECT
    id AS AlertId,
    last_detection AS Timestamp,
    first_detection AS FirstDetection,
    last_detection AS LastDetection,
    last_activity AS LastActivity,
    name AS Title,
    alert_type AS AlertType,
    CASE severity WHEN 4 THEN 'Critical' WHEN 3 THEN 'Major' WHEN 2 THEN 'Minor' ELSE 'Warning' END AS Severity,
    CASE status WHEN 0 THEN 'New' WHEN 1 THEN 'Active' ELSE 'Closed' END AS Status,
    engine AS Engine,
    category AS Category,
    protocol AS Protocol,
    src_ip AS SrcIp,
    src_mac AS SrcMac,
    src_device_id AS SrcDeviceId,
    dst_ip AS DstIp,
    dst_mac AS DstMac,
    dst_device_id AS DstDeviceId,
    sensor AS SensorId,
    site AS Site,
    zone AS Zone,
    CASE WHEN tactics = '' THEN '[]' ELSE '["' || replace(tactics, ';', '","') || '"]' END AS Tactics,
    CASE WHEN techniques = '' THEN '[]' ELSE '["' || replace(techniques, ';', '","') || '"]' END AS Techniques,
    occurrence_count AS OccurrenceCount,
    details AS Details
FROM alerts;

CREATE VIEW hunt_devices AS
SELECT
    id AS DeviceId,
    last_seen AS Timestamp,
    first_seen AS FirstSeen,
    last_seen AS LastSeen,
    name AS DeviceName,
    ip AS IpAddress,
    CASE
        WHEN ip = '' OR ip LIKE '10.%' OR ip LIKE '192.168.%' OR ip LIKE '127.%' OR ip LIKE '169.254.%'
            OR ip LIKE '0.%' OR ip LIKE '%:%'
            OR (ip LIKE '172.%' AND CAST(substr(ip, 5, instr(substr(ip, 5), '.') - 1) AS INTEGER) BETWEEN 16 AND 31)
            OR (ip LIKE '100.%' AND CAST(substr(ip, 5, instr(substr(ip, 5), '.') - 1) AS INTEGER) BETWEEN 64 AND 127)
            OR CAST(substr(ip, 1, instr(ip, '.') - 1) AS INTEGER) >= 224
        THEN '' ELSE ip
    END AS PublicIP,
    mac AS MacAddress,
    vendor AS Vendor,
    model AS Model,
    firmware AS Firmware,
    device_type AS DeviceType,
    CASE
        WHEN device_type IN ('Workstation', 'Server') THEN 'Endpoint'
        WHEN device_type = 'Network Device' THEN 'NetworkDevice'
        WHEN is_ot THEN 'OT'
        ELSE 'IoT'
    END AS DeviceCategory,
    is_ot AS IsOT,
    site AS Site,
    zone AS Zone,
    sensor AS SensorId,
    CASE WHEN protocols = '' THEN '[]'
         ELSE '["' || replace(replace(replace(protocols, '\', '\\'), '"', '\"'), ';', '","') || '"]' END AS Protocols,
    authorized AS Authorized,
    programming_device AS IsProgrammingDevice
FROM devices;

CREATE VIEW hunt_connections AS
SELECT
    last_seen AS Timestamp,
    first_seen AS FirstSeen,
    last_seen AS LastSeen,
    src AS SrcIp,
    src_device_id AS SrcDeviceId,
    dst AS DstIp,
    dst_device_id AS DstDeviceId,
    transport AS Transport,
    dst_port AS DstPort,
    protocol AS Protocol,
    packets AS Packets,
    bytes AS Bytes,
    sensor AS SensorId,
    site AS Site
FROM connections;

CREATE VIEW hunt_events AS
SELECT
    at AS Timestamp,
    event_type AS EventType,
    title AS Title,
    device_id AS DeviceId,
    src_ip AS SrcIp,
    dst_ip AS DstIp,
    protocol AS Protocol,
    sensor AS SensorId,
    site AS Site,
    details AS Details
FROM events;

CREATE INDEX connections_first_seen ON connections (first_seen);
