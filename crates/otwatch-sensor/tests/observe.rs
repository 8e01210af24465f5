//! The observe layer on real captures: each protocol's security-relevant facts come out as observations.
//!
//! Reads the public captures where they lie (`../shared/pcaps`, or
//! `OTWATCH_PCAPS`); fails loudly if they are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use otwatch_detect::Observation;
use otwatch_detect::observation::{Kind, LoginOutcome, Operation, Protocol, Role, TcpSignal};
use otwatch_sensor::MergedCaptures;
use otwatch_sensor::inventory::{Inventory, Placement};
use otwatch_sensor::observe::Observer;

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

fn observe(file: &str) -> Vec<Observation> {
    observe_path(&pcaps_dir().join(file))
}

fn observe_path(path: &Path) -> Vec<Observation> {
    let mut input = MergedCaptures::open(&[path.to_path_buf()]).expect("open capture");
    let mut obs = Observer::new(Default::default());
    let mut out = Vec::new();
    while let Some(p) = input.next_packet() {
        obs.process(&p, &mut out);
    }
    obs.finish(&mut out);
    out
}

fn ops(obs: &[Observation], protocol: Protocol) -> BTreeMap<Operation, usize> {
    let mut m = BTreeMap::new();
    for o in obs {
        if let Kind::App(a) = &o.kind
            && a.protocol == protocol
            && a.role == Role::Request
        {
            *m.entry(a.operation).or_default() += 1;
        }
    }
    m
}

#[test]
fn every_ip_packet_is_observed_once() {
    let obs = observe("mixed/mb2.pcap");
    let packets = obs.iter().filter(|o| matches!(o.kind, Kind::Packet(_))).count();
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(pcaps_dir().join("mixed/mb2.pcap.truth.json")).unwrap(),
    )
    .unwrap();
    let ip_packets: u64 = truth["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets as u64, ip_packets);
    let modbus = ops(&obs, Protocol::Modbus);
    assert!(modbus.get(&Operation::Write).copied().unwrap_or(0) >= 498, "{modbus:?}");
    assert!(ops(&obs, Protocol::S7comm).get(&Operation::Write).copied().unwrap_or(0) >= 142);
    assert!(ops(&obs, Protocol::Cip).get(&Operation::Write).copied().unwrap_or(0) >= 367);
}

#[test]
fn s7_stop_and_download_are_operations() {
    let stop = ops(&observe("s7comm/step7_s300_stop.pcapng"), Protocol::S7comm);
    assert_eq!(stop.get(&Operation::Stop), Some(&1), "{stop:?}");
    let dl = ops(&observe("s7comm/step7_s300_download.pcapng"), Protocol::S7comm);
    assert!(dl.get(&Operation::ProgramDownload).copied().unwrap_or(0) >= 3, "{dl:?}");
}

#[test]
fn cip_firmware_update_and_identity() {
    let obs = observe("enip/EIP-FirmwareChange.pcap");
    let cip = ops(&obs, Protocol::Cip);
    assert!(cip.get(&Operation::FirmwareUpdate).copied().unwrap_or(0) >= 5000, "{cip:?}");
    let ids: Vec<_> = obs
        .iter()
        .filter_map(|o| match &o.kind {
            Kind::Identity(i) => Some(i.model.clone().unwrap_or_default()),
            _ => None,
        })
        .collect();
    assert!(ids.iter().any(|m| m.contains("1756-ENBT")), "{ids:?}");
}

#[test]
fn dnp3_cold_restart() {
    let d = ops(&observe("dnp3/cold_restart_and_response.pcap"), Protocol::Dnp3);
    assert_eq!(d.get(&Operation::ColdRestart), Some(&1), "{d:?}");
}

#[test]
fn modbus_device_identification() {
    // The capture's answer is cut short (tshark: malformed), so only the request is an identity fact.
    let obs = observe("modbus/modbus-encapsulated-transport.pcap");
    let m = ops(&obs, Protocol::Modbus);
    assert_eq!(m.get(&Operation::Identify), Some(&1), "{m:?}");
    assert!(
        obs.iter().any(|o| matches!(&o.kind, Kind::Malformed(m) if m.protocol == Protocol::Modbus))
    );
}

#[test]
fn syn_scan_attempts() {
    let obs = observe("scans/nmap_synscan.pcap");
    let attempts = obs.iter().filter(|o| matches!(o.kind, Kind::Tcp(TcpSignal::Attempt))).count();
    assert!(attempts >= 1000, "{attempts}");
}

#[test]
fn iec104_commands_carry_cause_and_common_address() {
    let obs = observe("iec104/iec104.pcap");
    let cmd = obs
        .iter()
        .find_map(|o| match &o.kind {
            Kind::App(a) if a.protocol == Protocol::Iec104 && a.operation == Operation::Command => {
                Some(*a)
            }
            _ => None,
        })
        .expect("a command");
    assert!(cmd.cot.is_some() && cmd.common_address.is_some());
}

#[test]
fn dns_and_malformed_dnp3() {
    let obs = observe("modbus/modbusSmall.pcap");
    assert!(obs.iter().any(|o| matches!(o.kind, Kind::Dns(_))));
    let obs = observe("dnp3/DNP3-Malformed.pcap");
    assert!(
        obs.iter().any(|o| matches!(&o.kind, Kind::Malformed(m) if m.protocol == Protocol::Dnp3))
    );
    let _ = LoginOutcome::Attempt;
}

/// Observations of a capture through the inventory, flushed once at the end.
fn inventory_of(file: &str) -> otwatch_sensor::inventory::Batch {
    let mut inv = Inventory::new(Placement::default());
    for o in observe(file) {
        inv.observe(&o);
    }
    inv.flush(true)
}

/// Identification replies give the device its model, firmware and serial
/// (the vendor comes from the MAC's OUI, else from the reply); devices carry
/// first and last seen, and connections their protocol, port, counts and times.
#[test]
fn identity_replies_fill_the_inventory() {
    // A CIP Identity object reply from the ControlLogix (tshark: product name
    // "1756-L61/B LOGIX5561", revision 16.20, serial 0x0051823f).
    let b = inventory_of("enip/EIP-SoftwareUpload.pcap");
    let plc = b
        .devices
        .iter()
        .rev()
        .find(|d| d.ip.as_deref() == Some("192.168.10.120"))
        .expect("the controller in the inventory");
    assert_eq!(plc.model.as_deref(), Some("1756-L61/B LOGIX5561"), "{plc:?}");
    // Major 16, minor 20, written as Rockwell writes revisions (tshark: "16.20").
    assert_eq!(plc.firmware.as_deref(), Some("16.020"), "{plc:?}");
    assert!(plc.serial.as_deref().is_some_and(|s| s.to_lowercase().contains("51823f")), "{plc:?}");
    assert!(plc.vendor.as_deref().is_some_and(|v| v.contains("Rockwell")), "{plc:?}");
    assert_eq!(plc.is_ot, Some(true));
    assert!(plc.device_type.is_some_and(|t| t.is_ot()), "{plc:?}");
    // First and last seen: the device is written with both (the store keeps min and max).
    let seen: Vec<_> = b
        .devices
        .iter()
        .filter(|d| d.ip.as_deref() == Some("192.168.10.120"))
        .map(|d| d.seen)
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0] < seen[1], "{seen:?}");
    // Its EtherNet/IP connection, with counts and first/last seen.
    let c = b
        .connections
        .iter()
        .find(|c| c.dst == "192.168.10.120" && c.dst_port == Some(44818) && c.transport == "tcp")
        .expect("the EtherNet/IP connection");
    assert_eq!(c.protocol.as_deref(), Some("EtherNet/IP"), "{c:?}");
    assert!(c.packets > 0 && c.bytes >= c.packets * 54, "{c:?}");
    assert!(c.first_seen < c.last_seen, "{c:?}");

    // A List Identity reply (tshark: 10.1.1.164, 1756-ENBT/A, serial 0x00524d8e).
    let b = inventory_of("enip/enip_test.pcap");
    let nic = b
        .devices
        .iter()
        .rev()
        .find(|d| d.ip.as_deref() == Some("10.1.1.164"))
        .expect("the module in the inventory");
    assert_eq!(nic.model.as_deref(), Some("1756-ENBT/A"), "{nic:?}");
    assert!(nic.serial.as_deref().is_some_and(|s| s.to_lowercase().contains("524d8e")), "{nic:?}");
    assert!(nic.firmware.is_some(), "{nic:?}");
}

/// Rewrites port `from` to `to` in the TCP or UDP ports (`ip_proto` 6 or 17)
/// of every Ethernet/IPv4 record of a classic little-endian pcap; returns how
/// many ports were rewritten.
fn move_port(bytes: &mut [u8], ip_proto: u8, from: u16, to: u16) -> usize {
    let mut moved = 0;
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        let (pkt, end) = (off + 16, off + 16 + incl);
        if end > bytes.len() {
            break;
        }
        let f = &mut bytes[pkt..end];
        if f.len() > 34
            && f[12..14] == [0x08, 0x00]
            && f[23] == ip_proto
            && f[20] & 0x1f == 0
            && f[21] == 0
        {
            let t = 14 + usize::from(f[14] & 0x0f) * 4;
            for p in [t, t + 2] {
                if f.len() >= p + 2 && f[p..p + 2] == from.to_be_bytes() {
                    f[p..p + 2].copy_from_slice(&to.to_be_bytes());
                    moved += 1;
                }
            }
        }
        off = end;
    }
    moved
}

/// What the inventory and detection receive does not depend on the port:
/// each OT protocol moved to a port nobody registered is still found by
/// content, with the same operations per protocol (a Modbus server on 5020).
#[test]
fn ot_protocols_on_non_standard_ports_are_observed() {
    for (file, proto, ip_proto, from, to) in [
        ("modbus/modbus_test_2.pcap", Protocol::Modbus, 6u8, 502u16, 5020u16),
        ("dnp3/dnp3_example.pcap", Protocol::Dnp3, 6, 20000, 20001),
        ("s7comm/snap7_s300_everything.pcapng", Protocol::S7comm, 6, 102, 4102),
        ("iec104/iec104.pcap", Protocol::Iec104, 6, 2404, 2405),
        ("enip/EIP-SoftwareUpload.pcap", Protocol::Cip, 6, 44818, 44819),
        ("bacnet/bacnet-ip.cap", Protocol::Bacnet, 17, 47808, 47809),
    ] {
        let src = pcaps_dir().join(file);
        let before = ops(&observe_path(&src), proto);
        assert!(!before.is_empty(), "{file}: no {proto:?} requests on the standard port");
        let mut bytes = std::fs::read(&src).unwrap();
        assert!(move_port(&mut bytes, ip_proto, from, to) > 0, "{file}");
        let dst = std::env::temp_dir()
            .join(format!("otwatch-observe-port-{}-{from}.pcap", std::process::id()));
        std::fs::write(&dst, &bytes).unwrap();
        let after = ops(&observe_path(&dst), proto);
        std::fs::remove_file(&dst).unwrap();
        assert_eq!(after, before, "{file}: {proto:?} on port {to}");
    }
}
