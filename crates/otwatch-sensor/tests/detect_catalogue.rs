//! Every alert type of the five engines fires: generated packets go through
//! the real pipeline (decoding, flows, dissectors, the observe layer) into
//! the detection engines, one scenario per type (or small group of types).
//!
//! Policy scenarios first learn a normal capture (an HMI polling a PLC over
//! Modbus) in learning mode, then run the deviation in operational mode with
//! the learned baseline; the other scenarios run in learning mode, where the
//! other engines still alert. The last test checks that every catalogue
//! type of the five engines has a scenario that made it fire.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use otwatch_detect::indicators::Indicators;
use otwatch_detect::rules::RuleSet;
use otwatch_detect::settings::TypeSwitches;
use otwatch_detect::{Engines, Finding, Mode, Settings};
use otwatch_model::catalog::builtin;
use otwatch_model::{Engine, Timestamp};
use otwatch_sensor::observe::Observer;
use support::net::*;

/// Runs a capture through the observer and the engines; returns the findings.
fn run(cap: &Capture, e: &mut Engines) -> Vec<Finding> {
    let mut obs = Observer::new(Default::default());
    let mut buf = Vec::new();
    let mut found = Vec::new();
    let mut last_tick = 0i64;
    for p in cap.packets() {
        buf.clear();
        obs.process(&p, &mut buf);
        for o in &buf {
            e.observe(o);
        }
        // As the sensor does: packet time moves the engines on every second.
        let now = (p.ts_ns / 1000) as i64;
        if now - last_tick >= 1_000_000 {
            e.tick(Timestamp(now));
            last_tick = now;
        }
        found.extend(e.take_output().findings);
    }
    buf.clear();
    obs.finish(&mut buf);
    for o in &buf {
        e.observe(o);
    }
    e.tick(Timestamp((cap.t_ns / 1000) as i64));
    e.finish();
    found.extend(e.take_output().findings);
    found
}

fn settings(mode: Mode) -> Settings {
    let mut s = Settings::new(builtin());
    s.mode = mode;
    s.types = TypeSwitches::all(builtin());
    s
}

/// Extra setup of a scenario.
type Setup = fn(&mut Engines);

fn no_setup(_: &mut Engines) {}

/// Learns `learn` (when given), then runs `test`; returns the types raised by `test`.
fn detect(learn: Option<&Capture>, test: &Capture, setup: Setup) -> BTreeMap<String, Vec<Finding>> {
    let mut e = match learn {
        Some(l) => {
            let mut le = Engines::new(settings(Mode::Learning), builtin());
            setup(&mut le);
            run(l, &mut le);
            let entries = le.take_baseline_entries();
            let mut oe = Engines::new(settings(Mode::Operational), builtin());
            oe.load_baseline(&entries);
            oe
        }
        None => Engines::new(settings(Mode::Learning), builtin()),
    };
    setup(&mut e);
    let mut by_type: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in run(test, &mut e) {
        by_type.entry(f.detection.alert_type.clone()).or_default().push(f);
    }
    by_type
}

const HMI: u8 = 5;
const PLC: u8 = 9;

/// Normal traffic: the HMI polls the PLC (Modbus FC 3, registers 0-9) and gets answers.
fn normal(cap: &mut Capture) -> Conn {
    let mut c = cap.connect(&host(HMI), &host(PLC), 502);
    for i in 0..5 {
        c.exchange(cap, &modbus(i, 1, &mb_read(0, 10)), &modbus(i, 1, &mb_read_resp(10)));
        cap.wait_ms(100);
    }
    c
}

fn normal_capture() -> Capture {
    let mut cap = Capture::new();
    normal(&mut cap);
    cap
}

/// A capture that continues after `normal_capture` in time.
fn later() -> Capture {
    let mut cap = Capture::new();
    cap.wait_ms(60_000);
    cap
}

struct Scenario {
    name: &'static str,
    learn: bool,
    build: fn(&mut Capture),
    expect: &'static [&'static str],
    setup: Setup,
}

fn dnp3_conn(cap: &mut Capture) -> Conn {
    cap.connect(&host(HMI), &host(PLC), 20000)
}

fn dnp3_exchange(cap: &mut Capture, c: &mut Conn, function: u8, objects: &[u8], iin: u16) {
    c.exchange(
        cap,
        &dnp3(10, 1, true, &dnp3_request(function, objects)),
        &dnp3(1, 10, false, &dnp3_response(iin, &[])),
    );
}

fn enip_session(cap: &mut Capture) -> Conn {
    let mut c = cap.connect(&host(HMI), &host(PLC), 44818);
    c.exchange(cap, &enip(0x65, 0, 0, &REGISTER), &enip(0x65, 0x1234, 0, &REGISTER));
    c
}

fn cip(cap: &mut Capture, c: &mut Conn, request: &[u8], service: u8, status: u8) {
    c.exchange(
        cap,
        &send_rr(0x1234, request),
        &send_rr(0x1234, &cip_response(service, status, &[])),
    );
}

fn s7_session(cap: &mut Capture) -> Conn {
    let mut c = cap.connect(&host(HMI), &host(PLC), 102);
    c.exchange(cap, &cotp_connect(false), &cotp_connect(true));
    c.exchange(cap, &s7_job(1, &S7_SETUP, &[]), &s7_ack(1, &S7_SETUP, &[]));
    c
}

fn iec_session(cap: &mut Capture) -> Conn {
    let mut c = cap.connect(&host(HMI), &host(PLC), 2404);
    c.exchange(cap, &STARTDT_ACT, &STARTDT_CON);
    c
}

fn bacnet_exchange(cap: &mut Capture, request: &[u8], response: &[u8]) {
    cap.udp(&host(HMI), &host(PLC), 47808, 47808, &bacnet(true, request));
    cap.wait_ms(2);
    cap.udp(&host(PLC), &host(HMI), 47808, 47808, &bacnet(false, response));
    cap.wait_ms(2);
}

fn ftp_failures(cap: &mut Capture, n: usize) {
    let mut c = cap.connect(&host(HMI), &host(PLC), 21);
    c.reply(cap, b"220 FTP ready\r\n");
    for _ in 0..n {
        c.exchange(cap, b"USER admin\r\n", b"331 Password required\r\n");
        c.exchange(cap, b"PASS guess\r\n", b"530 Login incorrect.\r\n");
    }
}

fn feeds(e: &mut Engines) {
    let mut ind = Indicators::new();
    let problems = ind.add_feed(
        "test-feed.txt",
        "203.0.113.66 botnet C2\n198.51.100.99 scanner\nevil.example\n/cgi-bin/backdoor.sh\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    e.set_indicators(ind);
}

fn rules(e: &mut Engines) {
    let set = RuleSet::parse(
        r#"
[[rule]]
id = "no-writes"
name = "Writes to the PLC"
protocol = "modbus"
operation = "write"
destination = "10.0.0.9"
message = "{source} wrote {function_name} to {destination}"
"#,
    )
    .unwrap();
    e.set_rules(set);
}

fn silence(e: &mut Engines) {
    e.update_settings(|s| s.silence_after = Some(60_000_000));
}

fn short_length(e: &mut Engines) {
    e.update_settings(|s| {
        let errs =
            s.thresholds.apply("anomaly_unexpected_message_length.max_length=200", builtin());
        assert!(errs.is_empty());
    });
}

fn scenarios() -> Vec<Scenario> {
    vec![
        // ---------------------------------------------------------------- policy
        Scenario {
            name: "new device on an OT subnet",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(77), &host(PLC), 502);
                c.exchange(cap, &modbus(1, 1, &mb_read(0, 10)), &modbus(1, 1, &mb_read_resp(10)));
            },
            expect: &[
                "policy_new_asset",
                "policy_new_communication_pair",
                "policy_modbus_function_code",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "a field device nobody knew answers Modbus",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(78), 502);
                c.exchange(cap, &modbus(1, 1, &mb_read(0, 10)), &modbus(1, 1, &mb_read_resp(10)));
            },
            expect: &[
                "policy_field_device_discovered",
                "policy_new_asset",
                "policy_new_communication_pair",
                "policy_new_port",
                "policy_modbus_function_code",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "firmware changed (CIP identity) and Modbus device identification changed",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 44818);
                c.exchange(
                    cap,
                    &enip(0x63, 0, 0, &[]),
                    &list_identity_reply(host(PLC).ip, 21, 3, "1756-L71"),
                );
                let mut m = cap.connect(&host(HMI), &host(PLC), 502);
                m.exchange(
                    cap,
                    &modbus(1, 1, &[0x2b, 0x0e, 0x01, 0x00]),
                    &modbus(1, 1, &mei_reply("V2.0")),
                );
            },
            expect: &["policy_firmware_version_changed", "policy_modbus_firmware_version_changed"],
            setup: no_setup,
        },
        Scenario {
            name: "an HMI and an office PC talk to the Internet",
            learn: true,
            build: |cap| {
                normal(cap);
                let net = host_at([8, 8, 4, 4]);
                cap.connect(&host(HMI), &net, 443);
                cap.connect(&host(20), &net, 443);
            },
            expect: &[
                "policy_unauthorized_internet_connectivity",
                "policy_internet_access",
                "policy_new_asset",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "FTP login refused",
            learn: true,
            build: |cap| ftp_failures(cap, 1),
            expect: &["policy_ftp_login_failed", "policy_new_port", "policy_new_protocol"],
            setup: no_setup,
        },
        Scenario {
            name: "new Modbus function code, address range, UMAS, exception",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                c.exchange(
                    cap,
                    &modbus(1, 1, &mb_write(0, &[1, 2])),
                    &modbus(1, 1, &mb_write_resp(0, 2)),
                );
                c.exchange(cap, &modbus(2, 1, &mb_read(500, 10)), &modbus(2, 1, &mb_read_resp(10)));
                c.exchange(cap, &modbus(3, 1, &[90, 0x00, 0x02]), &modbus(3, 1, &[90, 0x00, 0xfe]));
                c.exchange(cap, &modbus(4, 1, &mb_read(0, 10)), &modbus(4, 1, &[0x83, 0x02]));
            },
            expect: &[
                "policy_modbus_function_code",
                "policy_modbus_address_range",
                "policy_modbus_schneider_extension",
                "policy_modbus_unauthorized_exception",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "DNP3 new function code, integrity poll, new IIN",
            learn: true,
            build: |cap| {
                let mut c = dnp3_conn(cap);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(60, 2), 0);
                dnp3_exchange(cap, &mut c, 2, &[], 0);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(60, 1), 0x1000);
            },
            expect: &[
                "policy_dnp3_function_code",
                "policy_dnp3_illegal_integrity_scan",
                "policy_dnp3_internal_indication",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "IEC-104 command type not in the baseline",
            learn: true,
            build: |cap| {
                let mut c = iec_session(cap);
                c.send(cap, &iec104(0, 0, 45, 6, false, 1, 100, &[0x01]));
            },
            expect: &["policy_iec104_asdu_type"],
            setup: no_setup,
        },
        Scenario {
            name: "CIP class, class service, I/O connection, encapsulation command, configuration write",
            learn: true,
            build: |cap| {
                let mut c = enip_session(cap);
                cip(cap, &mut c, &cip_request(0x0e, 0x8e, 1, Some(1), &[]), 0x0e, 0);
                cip(cap, &mut c, &cip_request(0x54, 0x06, 1, None, &[0; 36]), 0x54, 0);
                cip(cap, &mut c, &cip_request(0x10, 0xf5, 1, Some(3), &[1, 0, 0, 0]), 0x10, 0);
                c.exchange(cap, &enip(0x04, 0x1234, 0, &[]), &enip(0x04, 0x1234, 0, &[]));
            },
            expect: &[
                "policy_cip_class",
                "policy_cip_class_service",
                "policy_enip_io_connection",
                "policy_enip_command",
                "policy_unauthorized_plc_configuration_write",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "S7 data block write, control function, user data, download, upload, SZL read",
            learn: true,
            build: |cap| {
                let mut c = s7_session(cap);
                let (p, d) = s7_write_db(7);
                c.exchange(cap, &s7_job(2, &p, &d), &s7_ack(2, &[0x05, 0x01], &[0xff]));
                c.exchange(cap, &s7_job(3, &s7_request_download(), &[]), &s7_ack(3, &[0x1a], &[]));
                c.exchange(cap, &s7_job(4, &s7_start_upload(), &[]), &s7_ack(4, &[0x1d], &[]));
                c.exchange(
                    cap,
                    &s7_userdata(5, 4, 1, &[0xff, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00]),
                    &s7_userdata_response(5, 4, 1, &[0x0a, 0x00, 0x00, 0x00]),
                );
            },
            expect: &[
                "policy_s7_data_block",
                "policy_s7_control_function",
                "policy_s7_user_defined_function",
                "policy_unauthorized_plc_programming",
                "policy_unauthorized_plc_program_upload",
                "policy_unauthorized_plc_configuration_read",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "BACnet object access not in the baseline",
            learn: true,
            build: |cap| {
                bacnet_exchange(cap, &bacnet_read_property(1, 2, 1, 85), &[0x30, 1, 12]);
            },
            expect: &["policy_bacnet_object_access"],
            setup: no_setup,
        },
        Scenario {
            name: "HTTP between a known pair, with a user agent",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 80);
                c.exchange(
                    cap,
                    &http_get("plc.local", "/status", "curl/8.0"),
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                );
            },
            expect: &[
                "policy_unauthorized_http_activity",
                "policy_unauthorized_http_user_agent",
                "policy_new_port",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "multicast, name query, new port",
            learn: true,
            build: |cap| {
                let group = Host {
                    mac: [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01],
                    ip: Ipv4Addr::new(239, 1, 1, 1),
                };
                cap.udp_to(&host(HMI), &group, group.mac, 5000, 5000, b"hello");
                cap.udp(
                    &host(HMI),
                    &host(53),
                    5353,
                    53,
                    &dns(7, "historian.plant.local", None, &[]),
                );
                cap.connect(&host(HMI), &host(PLC), 102);
                let mut d = dnp3_conn(cap);
                dnp3_exchange(cap, &mut d, 1, &dnp3_all(60, 2), 0);
            },
            expect: &[
                "policy_unauthorized_multicast_broadcast",
                "policy_unauthorized_name_query",
                "policy_new_port",
                "policy_new_protocol",
                "policy_dnp3_function_code",
                "policy_new_communication_pair",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "custom rule: Modbus writes to the PLC",
            learn: true,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                c.exchange(
                    cap,
                    &modbus(1, 1, &mb_write(0, &[7])),
                    &modbus(1, 1, &mb_write_resp(0, 1)),
                );
            },
            expect: &["custom_user_defined_rule", "policy_modbus_function_code"],
            setup: rules,
        },
        // ---------------------------------------------------------------- anomaly
        Scenario {
            name: "port scan (fast) and Havex-like ICS port sweep",
            learn: false,
            build: |cap| {
                for port in 1..=30u16 {
                    cap.syn(&host(66), &host(PLC), 40000 + port, port);
                }
                for h in [PLC, 10, 11] {
                    for port in HAVEX {
                        cap.syn(&host(66), &host(h), 41000, port);
                    }
                }
            },
            expect: &["anomaly_port_scan", "malware_havex"],
            setup: no_setup,
        },
        Scenario {
            name: "address scans (short and long window) and PLC scan",
            learn: false,
            build: |cap| {
                for h in 1..=60u8 {
                    cap.syn(&host(66), &host_at([10, 0, 1, h]), 40000, 502);
                    cap.wait_ms(50);
                }
            },
            expect: &[
                "anomaly_address_scan",
                "anomaly_long_duration_address_scan",
                "anomaly_plc_scan",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "ARP address scan and ARP spoofing",
            learn: false,
            build: |cap| {
                for h in 1..=45u8 {
                    cap.arp(1, &host(66), [0; 6], Ipv4Addr::new(10, 0, 2, h));
                }
                cap.arp(2, &host(PLC), host(HMI).mac, host(HMI).ip);
                let spoofer = Host { mac: host(66).mac, ip: host(PLC).ip };
                for _ in 0..65 {
                    cap.arp(2, &spoofer, host(HMI).mac, host(HMI).ip);
                    cap.wait_ms(100);
                }
            },
            expect: &["anomaly_arp_address_scan", "anomaly_arp_spoofing"],
            setup: no_setup,
        },
        Scenario {
            name: "excessive login attempts and password guessing",
            learn: false,
            build: |cap| ftp_failures(cap, 110),
            expect: &["anomaly_excessive_login_attempts", "anomaly_password_guessing"],
            setup: no_setup,
        },
        Scenario {
            name: "excessive sessions",
            learn: false,
            build: |cap| {
                for _ in 0..55 {
                    cap.connect(&host(HMI), &host(PLC), 502);
                }
            },
            expect: &["anomaly_excessive_sessions"],
            setup: no_setup,
        },
        Scenario {
            name: "ICMP flooding",
            learn: false,
            build: |cap| {
                for i in 0..70 {
                    cap.ping(&host(66), &host(PLC), i);
                }
            },
            expect: &["anomaly_icmp_flooding"],
            setup: no_setup,
        },
        Scenario {
            name: "exceptions, restarts of an outstation",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                for i in 0..25 {
                    c.exchange(cap, &modbus(i, 1, &mb_read(0, 1)), &modbus(i, 1, &[0x83, 0x02]));
                }
                let mut d = dnp3_conn(cap);
                for _ in 0..12 {
                    dnp3_exchange(cap, &mut d, 13, &[], 0x8000);
                    cap.wait_ms(1000);
                }
            },
            expect: &[
                "anomaly_abnormal_exception_pattern",
                "anomaly_excessive_restart_rate",
                "operational_dnp3_frequent_restarts",
                "operational_dnp3_cold_restart",
                "protocol_modbus_exception",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "a polled channel goes quiet, then polls at another rate",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                // 3 minutes at one request per second, then 2 minutes at five per second.
                for i in 0..180u16 {
                    c.exchange(cap, &modbus(i, 1, &mb_read(0, 1)), &modbus(i, 1, &mb_read_resp(1)));
                    cap.wait_ms(996);
                }
                for i in 0..600u16 {
                    c.exchange(cap, &modbus(i, 1, &mb_read(0, 1)), &modbus(i, 1, &mb_read_resp(1)));
                    cap.wait_ms(196);
                }
                cap.wait_ms(120_000);
                cap.ping(&host(HMI), &host(PLC), 1);
            },
            expect: &[
                "anomaly_abnormal_periodic_behavior",
                "anomaly_inactive_communication_channel",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "traffic bandwidth of a source and a pair jumps",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                for minute in 0..8u64 {
                    let burst = if minute < 6 { 1 } else { 400 };
                    for i in 0..burst {
                        c.exchange(
                            cap,
                            &modbus(i as u16, 1, &mb_read(0, 100)),
                            &modbus(i as u16, 1, &mb_read_resp(100)),
                        );
                    }
                    cap.wait_ms(60_000);
                }
            },
            expect: &[
                "anomaly_abnormal_traffic_bandwidth",
                "anomaly_abnormal_traffic_bandwidth_between_devices",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "unexpected message length and traffic on a standard port",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 80);
                let ua = "x".repeat(300);
                c.send(cap, &http_get("plc.local", "/", &ua));
                let mut g = cap.connect(&host(HMI), &host(PLC), 502);
                for _ in 0..3 {
                    g.send(cap, b"SSH-2.0-OpenSSH_9.0 this is not Modbus at all\r\n");
                }
            },
            expect: &[
                "anomaly_unexpected_message_length",
                "anomaly_unexpected_traffic_standard_port",
            ],
            setup: short_length,
        },
        // ---------------------------------------------------------------- protocol violation
        Scenario {
            name: "Modbus: function code zero, exception by master, reserved code, protocol version, malformed session",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                c.send(cap, &modbus(1, 1, &[0x00, 0x00, 0x00]));
                c.send(cap, &modbus(2, 1, &[0x83, 0x02]));
                c.send(cap, &modbus(3, 1, &[42, 0x00]));
                c.send(cap, &modbus_proto(4, 1, 1, &mb_read(0, 1)));
                c.send(cap, &modbus(5, 1, &[3, 0x00]));
            },
            expect: &[
                "protocol_modbus_function_code_zero",
                "protocol_modbus_exception_by_master",
                "protocol_reserved_function_code",
                "protocol_illegal_protocol_version",
                "protocol_excessive_malformed_packets",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "DNP3 outstation indications and obsolete function codes",
            learn: false,
            build: |cap| {
                let mut c = dnp3_conn(cap);
                dnp3_exchange(cap, &mut c, 30, &[], 0x0001);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(99, 1), 0x0002);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(30, 1), 0x0004);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(30, 1), 0x0040);
                dnp3_exchange(cap, &mut c, 15, &[], 0);
                dnp3_exchange(cap, &mut c, 19, &[], 0);
            },
            expect: &[
                "protocol_dnp3_function_code_not_supported",
                "protocol_dnp3_unknown_object",
                "protocol_dnp3_incorrect_parameter",
                "protocol_dnp3_reserved_iin",
                "protocol_dnp3_obsolete_initialize_data",
                "protocol_dnp3_obsolete_save_config",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "DNP3 malformed request and response",
            learn: false,
            build: |cap| {
                let mut c = dnp3_conn(cap);
                let mut bad = dnp3(10, 1, true, &dnp3_request(1, &dnp3_all(60, 1)));
                let n = bad.len();
                bad[n - 1] ^= 0xff;
                let mut bad_resp = dnp3(1, 10, false, &dnp3_response(0, &[]));
                let n = bad_resp.len();
                bad_resp[n - 1] ^= 0xff;
                c.exchange(cap, &bad, &bad_resp);
            },
            expect: &["protocol_illegal_dnp3_operation", "protocol_dnp3_improper_formatting"],
            setup: no_setup,
        },
        Scenario {
            name: "IEC-104 negative confirmations",
            learn: false,
            build: |cap| {
                let mut c = iec_session(cap);
                for (i, cot) in [44u8, 45, 46, 47].into_iter().enumerate() {
                    let i = i as u16;
                    c.exchange(
                        cap,
                        &iec104(i, i, 45, 6, false, 1, 100, &[0x01]),
                        &iec104(i, i + 1, 45, cot, true, 1, 100, &[0x01]),
                    );
                }
            },
            expect: &[
                "protocol_iec104_illegal_asdu_type",
                "protocol_iec104_illegal_cot",
                "protocol_iec104_illegal_common_address",
                "protocol_iec104_illegal_ioa",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "BACnet illegal message, port 0, firmware update",
            learn: false,
            build: |cap| {
                cap.udp(
                    &host(HMI),
                    &host(PLC),
                    47808,
                    47808,
                    &[0x81, 0x0a, 0x00, 0x09, 0x01, 0x04, 0x00, 0x05, 0x01],
                );
                cap.syn(&host(HMI), &host(PLC), 40000, 0);
                let mut c = enip_session(cap);
                cip(cap, &mut c, &cip_request(0x4b, 0xa1, 1, None, &[0; 8]), 0x4b, 0);
            },
            expect: &[
                "protocol_illegal_bacnet_message",
                "protocol_port_zero",
                "protocol_firmware_update",
            ],
            setup: no_setup,
        },
        // ---------------------------------------------------------------- malware
        Scenario {
            name: "indicator feeds: IP, domain, URL path, inbound from a listed IP; EICAR; NXDOMAIN storm",
            learn: false,
            build: |cap| {
                cap.connect(&host(HMI), &host_at([203, 0, 113, 66]), 443);
                cap.syn(&host_at([198, 51, 100, 99]), &host(PLC), 40000, 502);
                cap.udp(&host(HMI), &host(53), 5353, 53, &dns(1, "www.evil.example", None, &[]));
                let mut w = cap.connect(&host(HMI), &host(80), 80);
                w.exchange(
                    cap,
                    &http_get("files.local", "/cgi-bin/backdoor.sh?x=1", "Wget"),
                    b"HTTP/1.1 200 OK\r\n\r\n",
                );
                w.reply(cap, EICAR);
                for i in 0..30u16 {
                    cap.udp(
                        &host(53),
                        &host(HMI),
                        53,
                        5353,
                        &dns(i, &format!("q{i}.example.com"), Some(3), &[]),
                    );
                }
            },
            expect: &[
                "malware_known_malicious_ip",
                "malware_suspicious_activity",
                "malware_malicious_domain",
                "malware_malicious_url_path",
                "malware_eicar_test_file",
                "malware_suspicious_name_queries",
            ],
            setup: feeds,
        },
        Scenario {
            name: "SYN flood",
            learn: false,
            build: |cap| {
                for i in 0..3100u32 {
                    cap.syn(&host(66), &host(PLC), 10000 + (i % 50000) as u16, 502);
                    cap.t_ns += 5_000_000;
                }
            },
            expect: &["malware_denial_of_service"],
            setup: no_setup,
        },
        // ---------------------------------------------------------------- operational
        Scenario {
            name: "S7 PLC stop",
            learn: false,
            build: |cap| {
                let mut c = s7_session(cap);
                c.exchange(cap, &s7_job(2, &s7_stop(), &[]), &s7_ack(2, &[0x29], &[]));
            },
            expect: &["operational_s7_plc_stop"],
            setup: no_setup,
        },
        Scenario {
            name: "CIP stop, start (mode change), reset; failed service and command",
            learn: false,
            build: |cap| {
                let mut c = enip_session(cap);
                cip(cap, &mut c, &cip_request(0x07, 0x8e, 1, None, &[]), 0x07, 0);
                cip(cap, &mut c, &cip_request(0x06, 0x8e, 1, None, &[]), 0x06, 0);
                cip(cap, &mut c, &cip_request(0x05, 0x01, 1, None, &[]), 0x05, 0);
                cip(cap, &mut c, &cip_request(0x0e, 0x01, 1, Some(7), &[]), 0x0e, 0x08);
                c.exchange(cap, &enip(0x04, 0x1234, 0, &[]), &enip(0x04, 0x1234, 0x01, &[]));
            },
            expect: &[
                "operational_controller_stop",
                "operational_controller_start",
                "operational_plc_operating_mode_changed",
                "operational_controller_reset",
                "operational_cip_service_failed",
                "operational_enip_command_failed",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "BACnet operation failed",
            learn: false,
            build: |cap| {
                bacnet_exchange(
                    cap,
                    &bacnet_read_property(3, 8, 1, 77),
                    &bacnet_error(3, 12, 2, 32),
                );
            },
            expect: &["operational_bacnet_operation_failed"],
            setup: no_setup,
        },
        Scenario {
            name: "DNP3 outstation trouble: buffer overflow, corrupt configuration, hardware, authentication, configuration change",
            learn: false,
            build: |cap| {
                let mut c = dnp3_conn(cap);
                for _ in 0..3 {
                    dnp3_exchange(cap, &mut c, 1, &dnp3_all(60, 2), 0x0008);
                }
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(60, 2), 0x0020);
                dnp3_exchange(cap, &mut c, 1, &dnp3_all(60, 2), 0x4000);
                c.exchange(
                    cap,
                    &dnp3(10, 1, true, &dnp3_request(32, &[])),
                    &dnp3(
                        1,
                        10,
                        false,
                        &[
                            0xC1, 0x83, 0x00, 0x00, 120, 7, 0x5b, 0x01, 0x0b, 0x00, 1, 0, 0, 0, 1,
                            0, 1, 0, 0, 0, 0, 0,
                        ],
                    ),
                );
                dnp3_exchange(cap, &mut c, 22, &dnp3_all(60, 2), 0);
            },
            expect: &[
                "operational_dnp3_event_buffer_overflow",
                "operational_dnp3_continuous_buffer_overflow",
                "operational_dnp3_corrupted_configuration",
                "operational_dnp3_hardware_problem",
                "operational_dnp3_authentication_error",
                "operational_outstation_configuration_changed",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "Modbus server failure; Modbus device and TCP service unresponsive",
            learn: false,
            build: |cap| {
                let mut c = cap.connect(&host(HMI), &host(PLC), 502);
                c.exchange(cap, &modbus(1, 1, &mb_read(0, 1)), &modbus(1, 1, &[0x83, 0x04]));
                for i in 0..8 {
                    c.send(cap, &modbus(10 + i, 1, &mb_read(0, 1)));
                    cap.wait_ms(60_000);
                }
                cap.connect(&host(HMI), &host(PLC), 102);
                for i in 0..10 {
                    cap.syn(&host(HMI), &host(PLC), 45000 + i, 102);
                    cap.wait_ms(1000);
                }
            },
            expect: &[
                "operational_modbus_unrecoverable_failure",
                "operational_modbus_unresponsive",
                "operational_device_unresponsive",
            ],
            setup: no_setup,
        },
        Scenario {
            name: "DHCP failure, illegal IP address, silence on the interface",
            learn: false,
            build: |cap| {
                let client =
                    Host { mac: [0x00, 0x1d, 0x9c, 0xaa, 0xbb, 0xcc], ip: Ipv4Addr::UNSPECIFIED };
                let all = Host { mac: [0xff; 6], ip: Ipv4Addr::BROADCAST };
                for xid in 0..4 {
                    cap.udp_to(&client, &all, [0xff; 6], 68, 67, &dhcp(1, xid, client.mac));
                    cap.wait_ms(4000);
                }
                let bogus = Host { mac: host(66).mac, ip: Ipv4Addr::new(240, 0, 0, 1) };
                cap.udp(&bogus, &host(PLC), 1234, 502, b"x");
                cap.wait_ms(120_000);
                cap.ping(&host(HMI), &host(PLC), 1);
            },
            expect: &[
                "operational_dhcp_failure",
                "operational_illegal_ip_address",
                "operational_no_traffic_on_interface",
                "operational_traffic_on_interface",
            ],
            setup: silence,
        },
    ]
}

/// The ports Havex's scanner probes.
const HAVEX: [u16; 5] = [44818, 502, 102, 11234, 12401];

/// A Modbus Read Device Identification (43/14) response with vendor, product code and revision.
fn mei_reply(revision: &str) -> Vec<u8> {
    let mut p = vec![0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03];
    for (id, v) in [(0u8, "Schneider Electric"), (1, "BMX P34 2020"), (2, revision)] {
        p.push(id);
        p.push(v.len() as u8);
        p.extend_from_slice(v.as_bytes());
    }
    p
}

fn learn_capture_for(s: &Scenario) -> Capture {
    let mut cap = normal_capture();
    if s.name.starts_with("firmware") {
        let mut c = cap.connect(&host(HMI), &host(PLC), 44818);
        c.exchange(
            &mut cap,
            &enip(0x63, 0, 0, &[]),
            &list_identity_reply(host(PLC).ip, 20, 11, "1756-L71"),
        );
        let mut m = cap.connect(&host(HMI), &host(PLC), 502);
        m.exchange(
            &mut cap,
            &modbus(1, 1, &[0x2b, 0x0e, 0x01, 0x00]),
            &modbus(1, 1, &mei_reply("V1.0")),
        );
    }
    if s.name.starts_with("DNP3 new") {
        let mut c = dnp3_conn(&mut cap);
        dnp3_exchange(&mut cap, &mut c, 1, &dnp3_all(60, 2), 0);
    }
    if s.name.starts_with("IEC-104") {
        let mut c = iec_session(&mut cap);
        c.send(&mut cap, &iec104(0, 0, 100, 6, false, 1, 0, &[0x14]));
    }
    if s.name.starts_with("CIP class") {
        let mut c = enip_session(&mut cap);
        cip(&mut cap, &mut c, &cip_request(0x0e, 0x01, 1, Some(1), &[]), 0x0e, 0);
    }
    if s.name.starts_with("S7") {
        let mut c = s7_session(&mut cap);
        c.exchange(
            &mut cap,
            &s7_job(2, &s7_read_db(7, 4), &[]),
            &s7_ack(2, &[0x04, 0x01], &[0xff, 0x04, 0x00, 0x20, 0, 0, 0, 0]),
        );
    }
    if s.name.starts_with("BACnet object") {
        bacnet_exchange(&mut cap, &bacnet_read_property(1, 8, 1, 77), &[0x30, 1, 12]);
    }
    cap
}

#[test]
fn every_scenario_raises_its_alert_types() {
    let mut failures = Vec::new();
    for s in scenarios() {
        let mut test = later();
        if s.learn {
            // The deviations continue the learned traffic in time.
            test.t_ns = learn_capture_for(&s).t_ns + 1_000_000_000;
        }
        (s.build)(&mut test);
        let learn = s.learn.then(|| learn_capture_for(&s));
        let found = detect(learn.as_ref(), &test, s.setup);
        for ty in s.expect {
            if !found.contains_key(*ty) {
                failures.push(format!(
                    "{:?}: {ty} not raised; raised: {:?}",
                    s.name,
                    found.keys().collect::<Vec<_>>()
                ));
            }
        }
        if s.learn {
            // After learning, the deviations raise their policy alerts and no other policy alert.
            for (ty, f) in &found {
                let engine = builtin().get(ty).map(|t| t.engine);
                if engine == Some(Engine::PolicyViolation) && !s.expect.contains(&ty.as_str()) {
                    failures.push(format!("{:?}: unexpected {ty}: {:?}", s.name, f[0].detection));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_catalogue_type_of_the_engines_has_a_scenario() {
    let covered: BTreeSet<&str> =
        scenarios().iter().flat_map(|s| s.expect.iter().copied()).collect();
    let engine_types: Vec<&str> = builtin()
        .types()
        .iter()
        .filter(|t| t.engine != Engine::MicroAgent)
        .map(|t| t.id.as_str())
        .collect();
    let missing: Vec<&&str> = engine_types.iter().filter(|t| !covered.contains(**t)).collect();
    assert!(missing.is_empty(), "catalogue types no scenario raises: {missing:?}");
    assert!(covered.len() >= 60, "only {} types covered", covered.len());
}
