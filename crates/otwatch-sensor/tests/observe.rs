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
    let path = pcaps_dir().join(file);
    let mut input = MergedCaptures::open(&[path]).expect("open capture");
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
