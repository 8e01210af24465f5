//! Scripted attacks and faults added on top of the plant, each with the alerts it must raise.
//!
//! A scenario picks its cast from the plant (always the same devices for the same
//! options), adds its own actors, and may change plant state (a device that goes silent
//! or reboots). [`Scenario::expected_alerts`] is the contract the end-to-end detection
//! tests check: the alert types from the catalogue, with source and destination, that
//! running the scenario capture after learning on the clean plant (same options without
//! the scenario) must raise — exactly these, no others. The rules behind the lists are
//! in `docs/simulator.md` ("Expected alerts").

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::actors::PlantActors;
use crate::actors::{enip as enip_actor, modbus as modbus_actor, s7 as s7_actor};
use crate::emit::{FrameInfo, Layer, Layers, Rec};
use crate::plant::{self, Identity, Plant, Role};
use crate::proto::{bacnet, dnp3, enip, iec104, it, modbus, s7};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cmd, Cx, Ready, World};
use crate::tcp::{Conn, Dir, Pdu, Side};
use crate::time::{Civil, MS, SEC};
use crate::wire::{self, Ip, L2, Mac};
use crate::{ManifestScenario, Options, SimError};

/// A scenario that can be added to the plant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// TCP SYN scan of 100 ports on a PLC from an office workstation.
    PortScan,
    /// ICMP echo sweep of a control subnet from an office workstation.
    AddressScan,
    /// A new laptop on a control zone identifying every controller it can reach.
    PlcScan,
    /// An unknown Raspberry Pi joins a control zone and reads a PLC.
    NewDevice,
    /// The HMI writes registers with a function code it never used.
    ModbusWrite,
    /// The HMI (not an engineering station) stops an S7 PLC.
    S7PlcStop,
    /// The HMI (not an engineering station) downloads a block to an S7 PLC.
    S7ProgramDownload,
    /// A CIP firmware update (class 0xA1 services) and reset of a Logix PLC.
    CipFirmwareChange,
    /// The SCADA master cold-restarts a DNP3 outstation four times in a minute.
    Dnp3ColdRestartStorm,
    /// An office workstation acting as an IEC-104 master sends a command to an RTU.
    Iec104UnknownMaster,
    /// Malformed frames of every OT protocol from their usual clients.
    Malformed,
    /// An office workstation downloads a file from an address on the indicator feed.
    KnownBadIp,
    /// A polled Modbus PLC stops answering (its NIC still answers ARP).
    DeviceSilent,
}

/// One scenario at an offset from the capture start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioRun {
    /// The scenario.
    pub scenario: Scenario,
    /// Offset from the capture start, microseconds.
    pub offset_us: u64,
}

impl Serialize for Scenario {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One alert a scenario must raise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectedAlert {
    /// Alert type id from the catalogue.
    #[serde(rename = "type")]
    pub alert_type: &'static str,
    /// Source IP, as the catalogue defines source for this type.
    pub source: Option<String>,
    /// Destination IP, if the type has one.
    pub destination: Option<String>,
    /// Protocol the alert is about.
    pub protocol: Option<&'static str>,
    /// Key detail fields (function code, firmware versions, …).
    pub details: BTreeMap<&'static str, String>,
}

impl ExpectedAlert {
    fn new(
        alert_type: &'static str,
        src: Option<Ipv4Addr>,
        dst: Option<Ipv4Addr>,
        proto: Option<&'static str>,
    ) -> Self {
        ExpectedAlert {
            alert_type,
            source: src.map(|i| i.to_string()),
            destination: dst.map(|i| i.to_string()),
            protocol: proto,
            details: BTreeMap::new(),
        }
    }

    fn with(mut self, k: &'static str, v: impl ToString) -> Self {
        self.details.insert(k, v.to_string());
        self
    }
}

/// The alerts a scenario must raise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// Raised with the catalogue's defaults.
    pub alerts: Vec<ExpectedAlert>,
    /// Raised in addition when the types that are off by default are enabled.
    pub if_enabled: Vec<ExpectedAlert>,
}

/// The known-bad address the `known-bad-ip` scenario contacts (RFC 5737 documentation range).
pub const BAD_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 66);
/// The indicator feed written with `known-bad-ip`: the contacted address and two others.
pub const FEED: [Ipv4Addr; 3] =
    [Ipv4Addr::new(198, 51, 100, 23), BAD_IP, Ipv4Addr::new(192, 0, 2, 200)];
/// Host number of the Raspberry Pi of `new-device` in site 1's first control zone.
pub const NEW_DEVICE_HOST: u8 = 200;
/// Host number of the laptop of `plc-scan` in site 1's first control zone.
pub const LAPTOP_HOST: u8 = 201;
/// Ports probed by `port-scan` (well-known services and industrial protocols).
pub const SCAN_PORTS: [u16; 100] = [
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 102, 106, 110, 111, 113, 119, 135, 139,
    143, 144, 179, 199, 389, 427, 443, 444, 445, 465, 502, 513, 514, 515, 543, 544, 548, 554, 587,
    631, 646, 873, 990, 993, 995, 1025, 1026, 1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1900,
    2000, 2001, 2049, 2121, 2222, 2404, 2717, 3000, 3128, 3306, 3389, 3986, 4840, 4899, 5000, 5009,
    5051, 5060, 5101, 5190, 5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008,
    8009, 8080, 8081, 8443, 8888, 9100, 9999, 10000, 20000, 44818,
];

const MODBUS: Option<&str> = Some("Modbus");
const S7COMM: Option<&str> = Some("S7comm");
const ENIP: Option<&str> = Some("EtherNet/IP");
/// Alerts about CIP objects (classes, services, identity) name CIP; pairs and
/// encapsulation commands name EtherNet/IP.
const CIP: Option<&str> = Some("CIP");
const DNP3: Option<&str> = Some("DNP3");
const IEC104: Option<&str> = Some("IEC-104");
const BACNET: Option<&str> = Some("BACnet");

/// The devices a scenario uses.
#[derive(Clone, Debug)]
struct Cast {
    ws1: usize,
    ws2: usize,
    zone_a: usize,
    hmi_a: usize,
    eng: usize,
    scada: usize,
    modbus: Option<usize>,
    s7: Option<usize>,
    enip_plc: Option<usize>,
    dnp3: Option<usize>,
    iec104: Option<usize>,
    bacnet: Option<usize>,
}

fn first(plant: &Plant, role: Role, site: usize) -> Option<usize> {
    plant.devices.iter().find(|d| d.role == role && d.site == site).map(|d| d.id)
}

fn first_in_zone(plant: &Plant, role: Role, zone: usize) -> Option<usize> {
    plant.devices.iter().find(|d| d.role == role && d.zone == zone).map(|d| d.id)
}

fn cast(plant: &Plant) -> Cast {
    let s = &plant.sites[0];
    let zone_a = s.control_zones[0];
    Cast {
        ws1: s.workstations[0],
        ws2: s.workstations[1],
        zone_a,
        hmi_a: s.hmis[0],
        eng: s.eng,
        scada: s.scada,
        modbus: first_in_zone(plant, Role::ModbusPlc, zone_a),
        s7: first_in_zone(plant, Role::S7Plc, zone_a),
        enip_plc: first(plant, Role::EnipPlc, 0),
        dnp3: first(plant, Role::Dnp3Rtu, 0),
        iec104: first(plant, Role::Iec104Rtu, 0),
        bacnet: first_in_zone(plant, Role::BacnetController, zone_a),
    }
}

fn need(dev: Option<usize>, scenario: Scenario, what: &str, devices: u32) -> Result<usize, String> {
    dev.ok_or_else(|| {
        format!(
            "scenario {} needs {what} in site 1; use --devices {devices} or more",
            scenario.name()
        )
    })
}

/// Controllers that answer identification requests, in scan order (at most 30).
fn identifiable(plant: &Plant) -> Vec<usize> {
    plant
        .devices
        .iter()
        .filter(|d| {
            matches!(
                d.role,
                Role::ModbusPlc
                    | Role::S7Plc
                    | Role::EnipPlc
                    | Role::EnipAdapter
                    | Role::BacnetController
            )
        })
        .map(|d| d.id)
        .take(30)
        .collect()
}

/// The firmware a Logix PLC reports after `cip-firmware-change`.
pub fn new_firmware(old: &Identity) -> Identity {
    let mut n = old.clone();
    n.revision = (old.revision.0 + 1, 11);
    n.firmware = format!("{}.{}", n.revision.0, n.revision.1);
    n
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 13] = [
        Scenario::PortScan,
        Scenario::AddressScan,
        Scenario::PlcScan,
        Scenario::NewDevice,
        Scenario::ModbusWrite,
        Scenario::S7PlcStop,
        Scenario::S7ProgramDownload,
        Scenario::CipFirmwareChange,
        Scenario::Dnp3ColdRestartStorm,
        Scenario::Iec104UnknownMaster,
        Scenario::Malformed,
        Scenario::KnownBadIp,
        Scenario::DeviceSilent,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::PortScan => "port-scan",
            Scenario::AddressScan => "address-scan",
            Scenario::PlcScan => "plc-scan",
            Scenario::NewDevice => "new-device",
            Scenario::ModbusWrite => "modbus-write",
            Scenario::S7PlcStop => "s7-plc-stop",
            Scenario::S7ProgramDownload => "s7-program-download",
            Scenario::CipFirmwareChange => "cip-firmware-change",
            Scenario::Dnp3ColdRestartStorm => "dnp3-cold-restart-storm",
            Scenario::Iec104UnknownMaster => "iec104-unknown-master",
            Scenario::Malformed => "malformed",
            Scenario::KnownBadIp => "known-bad-ip",
            Scenario::DeviceSilent => "device-silent",
        }
    }

    /// Parses a command-line name.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::ALL.iter().copied().find(|s| s.name() == text.trim()).ok_or_else(|| {
            format!(
                "unknown scenario '{text}'; choose one of: {}",
                Scenario::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// What it does, in one paragraph.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::PortScan => {
                "Office workstation ws-1 of site 1 SYN-scans 100 TCP ports of the first S7 PLC of control zone A in 10 s; closed ports answer RST, port 102 answers SYN/ACK and the scanner resets it."
            }
            Scenario::AddressScan => {
                "Office workstation ws-1 of site 1 pings every address of control zone A (10.1.1.1-254) in 25 s; live hosts answer (the router does not)."
            }
            Scenario::PlcScan => {
                "A new laptop (Intel NIC, static 10.1.1.201) appears on control zone A and identifies up to 30 controllers across all sites, one every 3 s: Modbus 43/14, S7 SZL 0x0011, EtherNet/IP ListIdentity, BACnet ReadProperty of the model name."
            }
            Scenario::NewDevice => {
                "An unknown Raspberry Pi (10.1.1.200) joins control zone A, announces itself with gratuitous ARP and reads holding registers of the zone's Modbus PLC every 5 s for a minute."
            }
            Scenario::ModbusWrite => {
                "The HMI of control zone A opens a second connection to its Modbus PLC and writes four holding registers with function code 16, which it never uses otherwise."
            }
            Scenario::S7PlcStop => {
                "The HMI of control zone A (not an engineering station) connects to its S7 PLC and sends PLC STOP."
            }
            Scenario::S7ProgramDownload => {
                "The HMI of control zone A (not an engineering station) downloads data block DB5 to its S7 PLC (request download, two download-block parts, download ended, PI service _INSE)."
            }
            Scenario::CipFirmwareChange => {
                "The engineering workstation of site 1 updates the firmware of the first Logix PLC with the class 0xA1 service sequence (0x51, 0x4B, 50 x 0x4D) and resets it (Identity Reset); the PLC reboots for 4 s and then reports a new revision; HMI and I/O connections are re-established."
            }
            Scenario::Dnp3ColdRestartStorm => {
                "The SCADA server of site 1 sends DNP3 Cold Restart to the first outstation of site 1 four times, 20 s apart, in its existing session; the outstation reports IIN1.7 after each and the master clears it."
            }
            Scenario::Iec104UnknownMaster => {
                "Office workstation ws-2 of site 1 connects to the first IEC-104 RTU of site 1, sends STARTDT and a single command (C_SC_NA_1, IOA 3001), then STOPDT."
            }
            Scenario::Malformed => {
                "The usual client of each OT protocol opens a new session to a device and sends three malformed messages: Modbus FC 3 requests cut after the start address (answered with exception 3), DNP3 frames whose first data block has a bad CRC, S7 jobs whose parameter length exceeds the PDU, EtherNet/IP encapsulation longer than its data, IEC-104 ASDUs announcing more objects than they carry, truncated BACnet datagrams."
            }
            Scenario::KnownBadIp => {
                "Office workstation ws-1 of site 1 downloads /update.bin over HTTP from 203.0.113.66, an address on the indicator feed written next to the capture."
            }
            Scenario::DeviceSilent => {
                "The Modbus PLC of control zone A stops answering at the offset (its NIC still answers ARP): the HMI's requests are retransmitted, the HMI aborts and reconnects every 10 s with unanswered SYNs."
            }
        }
    }

    /// Whether the scenario changes the plant's own packets (not only adds packets).
    pub fn intrusive(self) -> bool {
        matches!(
            self,
            Scenario::CipFirmwareChange | Scenario::Dnp3ColdRestartStorm | Scenario::DeviceSilent
        )
    }

    /// Simulated time the scenario needs after its offset.
    pub fn min_tail_us(self) -> u64 {
        match self {
            Scenario::PlcScan => 95 * SEC,
            Scenario::NewDevice | Scenario::Dnp3ColdRestartStorm => 70 * SEC,
            Scenario::CipFirmwareChange => 40 * SEC,
            Scenario::Malformed => 35 * SEC,
            Scenario::AddressScan => 30 * SEC,
            Scenario::DeviceSilent => 120 * SEC,
            _ => 15 * SEC,
        }
    }

    /// tshark expert-info summaries this scenario causes on purpose (at Warning or above).
    pub fn expected_expert(self) -> Vec<&'static str> {
        match self {
            Scenario::PortScan => vec!["Connection reset (RST)"],
            Scenario::CipFirmwareChange | Scenario::DeviceSilent => vec!["Connection reset (RST)"],
            Scenario::Malformed => {
                vec![
                    "Malformed Packet (Exception occurred)",
                    "CPF Item Length Mismatch",
                    "Data Chunk Checksum incorrect",
                ]
            }
            _ => Vec::new(),
        }
    }

    /// The alerts this scenario must raise in `plant` (the plant built from the same options),
    /// after learning on the clean plant. The rules are in `docs/simulator.md`.
    pub fn expected_alerts(self, plant: &Plant) -> Result<Expectation, String> {
        let c = cast(plant);
        let ip = |d: usize| plant.devices[d].ip;
        let zone_a = &plant.zones[c.zone_a];
        let mut e = Expectation::default();
        let pair = |src: Ipv4Addr, dst: Ipv4Addr, proto: Option<&'static str>| {
            ExpectedAlert::new("policy_new_communication_pair", Some(src), Some(dst), proto)
        };
        let s7_function = |src: Ipv4Addr, dst: Ipv4Addr, f: u8| {
            ExpectedAlert::new("policy_s7_control_function", Some(src), Some(dst), S7COMM)
                .with("function", format!("0x{f:02x}"))
        };
        match self {
            Scenario::PortScan => {
                let plc = need(c.s7, self, "an S7 PLC", 2)?;
                e.alerts.push(
                    ExpectedAlert::new(
                        "anomaly_port_scan",
                        Some(ip(c.ws1)),
                        Some(ip(plc)),
                        Some("TCP"),
                    )
                    .with("ports", SCAN_PORTS.len()),
                );
                e.alerts.push(pair(ip(c.ws1), ip(plc), Some("TCP")));
            }
            Scenario::AddressScan => {
                e.alerts.push(
                    ExpectedAlert::new("anomaly_address_scan", Some(ip(c.ws1)), None, Some("ICMP"))
                        .with("subnet", format!("{}.{}.0.0/16", zone_a.net[0], zone_a.net[1])),
                );
                for d in plant.devices.iter().filter(|d| d.zone == c.zone_a && answers_ping(d.role))
                {
                    e.alerts.push(pair(ip(c.ws1), d.ip, Some("ICMP")));
                }
            }
            Scenario::PlcScan => {
                let targets = identifiable(plant);
                if targets.len() < 10 {
                    return Err(format!(
                        "scenario plc-scan needs at least 10 controllers that answer identification requests (the plant has {}); use --devices 16 or more",
                        targets.len()
                    ));
                }
                let laptop = zone_a.addr(LAPTOP_HOST);
                e.alerts.push(ExpectedAlert::new("policy_new_asset", Some(laptop), None, None));
                e.alerts.push(
                    ExpectedAlert::new("anomaly_plc_scan", Some(laptop), None, None)
                        .with("count", targets.len()),
                );
                for t in targets {
                    let d = ip(t);
                    match plant.devices[t].role {
                        Role::ModbusPlc => {
                            e.alerts.push(pair(laptop, d, MODBUS));
                            e.alerts.push(
                                ExpectedAlert::new(
                                    "policy_modbus_function_code",
                                    Some(laptop),
                                    Some(d),
                                    MODBUS,
                                )
                                .with("function_code", 43),
                            );
                        }
                        Role::S7Plc => {
                            e.alerts.push(pair(laptop, d, S7COMM));
                            e.alerts.push(s7_function(laptop, d, s7::func::SETUP));
                            e.alerts.push(
                                ExpectedAlert::new(
                                    "policy_s7_user_defined_function",
                                    Some(laptop),
                                    Some(d),
                                    S7COMM,
                                )
                                .with("function_group", 4)
                                .with("subfunction", 1),
                            );
                            // Reading system status lists is reading the PLC's
                            // configuration, whichever SZL.
                            e.alerts.push(ExpectedAlert::new(
                                "policy_unauthorized_plc_configuration_read",
                                Some(laptop),
                                Some(d),
                                S7COMM,
                            ));
                        }
                        Role::EnipPlc | Role::EnipAdapter => {
                            e.alerts.push(pair(laptop, d, ENIP));
                            e.alerts.push(
                                ExpectedAlert::new(
                                    "policy_enip_command",
                                    Some(laptop),
                                    Some(d),
                                    ENIP,
                                )
                                .with("command", "0x63"),
                            );
                        }
                        _ => {
                            e.alerts.push(pair(laptop, d, BACNET));
                            e.alerts.push(
                                ExpectedAlert::new(
                                    "policy_bacnet_object_access",
                                    Some(laptop),
                                    Some(d),
                                    BACNET,
                                )
                                .with("service", "readProperty")
                                .with("object", "device"),
                            );
                        }
                    }
                }
            }
            Scenario::NewDevice => {
                let plc = need(c.modbus, self, "a Modbus PLC", 1)?;
                let rpi = zone_a.addr(NEW_DEVICE_HOST);
                e.alerts.push(ExpectedAlert::new("policy_new_asset", Some(rpi), None, None));
                e.alerts.push(pair(rpi, ip(plc), MODBUS));
                e.alerts.push(
                    ExpectedAlert::new(
                        "policy_modbus_function_code",
                        Some(rpi),
                        Some(ip(plc)),
                        MODBUS,
                    )
                    .with("function_code", 3),
                );
            }
            Scenario::ModbusWrite => {
                let plc = need(c.modbus, self, "a Modbus PLC", 1)?;
                e.alerts.push(
                    ExpectedAlert::new(
                        "policy_modbus_function_code",
                        Some(ip(c.hmi_a)),
                        Some(ip(plc)),
                        MODBUS,
                    )
                    .with("function_code", 16),
                );
            }
            Scenario::S7PlcStop => {
                let plc = need(c.s7, self, "an S7 PLC", 2)?;
                e.alerts.push(ExpectedAlert::new(
                    "operational_s7_plc_stop",
                    Some(ip(c.hmi_a)),
                    Some(ip(plc)),
                    S7COMM,
                ));
                e.alerts.push(s7_function(ip(c.hmi_a), ip(plc), s7::func::PLC_STOP));
            }
            Scenario::S7ProgramDownload => {
                let plc = need(c.s7, self, "an S7 PLC", 2)?;
                e.alerts.push(ExpectedAlert::new(
                    "policy_unauthorized_plc_programming",
                    Some(ip(c.hmi_a)),
                    Some(ip(plc)),
                    S7COMM,
                ));
                for f in [
                    s7::func::REQUEST_DOWNLOAD,
                    s7::func::DOWNLOAD_BLOCK,
                    s7::func::DOWNLOAD_ENDED,
                    s7::func::PI_SERVICE,
                ] {
                    e.alerts.push(s7_function(ip(c.hmi_a), ip(plc), f));
                }
            }
            Scenario::CipFirmwareChange => {
                let plc = need(c.enip_plc, self, "an EtherNet/IP PLC", 3)?;
                let old = plant.devices[plc]
                    .identity
                    .clone()
                    .unwrap_or_else(|| unreachable!("field device"));
                let new = new_firmware(&old);
                let (eng, p) = (ip(c.eng), ip(plc));
                e.alerts.push(ExpectedAlert::new(
                    "protocol_firmware_update",
                    Some(eng),
                    Some(p),
                    ENIP,
                ));
                e.alerts.push(ExpectedAlert::new(
                    "operational_controller_reset",
                    Some(eng),
                    Some(p),
                    ENIP,
                ));
                e.alerts.push(
                    ExpectedAlert::new("policy_firmware_version_changed", Some(p), None, CIP)
                        .with("firmware_old", &old.firmware)
                        .with("firmware_new", &new.firmware),
                );
                e.alerts.push(
                    ExpectedAlert::new("policy_cip_class", Some(eng), Some(p), CIP)
                        .with("class", format!("0x{:02x}", enip::FIRMWARE_CLASS)),
                );
                for (svc, class) in [
                    (0x51, enip::FIRMWARE_CLASS),
                    (0x4b, enip::FIRMWARE_CLASS),
                    (0x4d, enip::FIRMWARE_CLASS),
                    (enip::svc::RESET, 0x01),
                ] {
                    e.alerts.push(
                        ExpectedAlert::new("policy_cip_class_service", Some(eng), Some(p), CIP)
                            .with("service", format!("0x{svc:02x}"))
                            .with("class", format!("0x{class:02x}")),
                    );
                }
            }
            Scenario::Dnp3ColdRestartStorm => {
                let rtu = need(c.dnp3, self, "a DNP3 outstation", 5)?;
                let (m, o) = (ip(c.scada), ip(rtu));
                e.alerts.push(ExpectedAlert::new(
                    "operational_dnp3_cold_restart",
                    Some(m),
                    Some(o),
                    DNP3,
                ));
                e.alerts.push(
                    ExpectedAlert::new(
                        "operational_dnp3_frequent_restarts",
                        Some(m),
                        Some(o),
                        DNP3,
                    )
                    .with("count", 4),
                );
                e.alerts.push(
                    ExpectedAlert::new("policy_dnp3_function_code", Some(m), Some(o), DNP3)
                        .with("function_code", dnp3::fc::COLD_RESTART),
                );
            }
            Scenario::Iec104UnknownMaster => {
                let rtu = need(c.iec104, self, "an IEC-104 RTU", 9)?;
                e.alerts.push(pair(ip(c.ws2), ip(rtu), IEC104));
                e.alerts.push(
                    ExpectedAlert::new(
                        "policy_iec104_asdu_type",
                        Some(ip(c.ws2)),
                        Some(ip(rtu)),
                        IEC104,
                    )
                    .with("type_id", iec104::ty::C_SC_NA_1),
                );
            }
            Scenario::Malformed => {
                let malformed = |src: usize, dst: usize, proto| {
                    ExpectedAlert::new(
                        "protocol_excessive_malformed_packets",
                        Some(ip(src)),
                        Some(ip(dst)),
                        proto,
                    )
                };
                if let Some(plc) = c.modbus {
                    e.alerts.push(
                        ExpectedAlert::new(
                            "protocol_modbus_exception",
                            Some(ip(c.hmi_a)),
                            Some(ip(plc)),
                            MODBUS,
                        )
                        .with("function_code", 3)
                        .with("exception_code", 3),
                    );
                    e.if_enabled.push(malformed(c.hmi_a, plc, MODBUS));
                    e.if_enabled.push(
                        ExpectedAlert::new(
                            "policy_modbus_unauthorized_exception",
                            Some(ip(c.hmi_a)),
                            Some(ip(plc)),
                            MODBUS,
                        )
                        .with("function_code", 3)
                        .with("exception_code", 3),
                    );
                }
                if let Some(rtu) = c.dnp3 {
                    e.alerts.push(
                        ExpectedAlert::new(
                            "protocol_illegal_dnp3_operation",
                            Some(ip(c.scada)),
                            Some(ip(rtu)),
                            DNP3,
                        )
                        .with("reason", "bad data-block CRC"),
                    );
                    e.if_enabled.push(malformed(c.scada, rtu, DNP3));
                }
                if let Some(plc) = c.s7 {
                    e.if_enabled.push(malformed(c.hmi_a, plc, S7COMM));
                }
                if let Some(plc) = c.enip_plc.filter(|p| plant.devices[*p].zone == c.zone_a) {
                    e.if_enabled.push(malformed(c.hmi_a, plc, ENIP));
                }
                if let Some(rtu) = c.iec104 {
                    e.if_enabled.push(malformed(c.scada, rtu, IEC104));
                }
                if let Some(dev) = c.bacnet {
                    e.alerts.push(
                        ExpectedAlert::new(
                            "protocol_illegal_bacnet_message",
                            Some(ip(c.hmi_a)),
                            Some(ip(dev)),
                            BACNET,
                        )
                        .with("reason", "message shorter than its BVLC length"),
                    );
                    e.if_enabled.push(malformed(c.hmi_a, dev, BACNET));
                }
            }
            Scenario::KnownBadIp => {
                e.alerts.push(
                    ExpectedAlert::new(
                        "malware_known_malicious_ip",
                        Some(ip(c.ws1)),
                        Some(BAD_IP),
                        // Feeds are checked on the first packet of a connection (the SYN).
                        Some("TCP"),
                    )
                    .with("feed", "known-bad-ips"),
                );
            }
            Scenario::DeviceSilent => {
                let plc = need(c.modbus, self, "a Modbus PLC", 1)?;
                let (h, p) = (ip(c.hmi_a), ip(plc));
                e.alerts.push(ExpectedAlert::new(
                    "operational_device_unresponsive",
                    Some(h),
                    Some(p),
                    MODBUS,
                ));
                e.if_enabled.push(ExpectedAlert::new(
                    "anomaly_inactive_communication_channel",
                    Some(h),
                    Some(p),
                    MODBUS,
                ));
            }
        }
        Ok(e)
    }
}

/// The expected alerts of every scenario in `plant`, as the Markdown tables of
/// `docs/simulator.md` (a test keeps the document in step with this function).
pub fn expectations_markdown(plant: &Plant) -> String {
    let c = cast(plant);
    let zone_a = &plant.zones[c.zone_a];
    let name = |ip: &Option<String>| -> String {
        let Some(ip) = ip else { return "—".to_string() };
        let who =
            plant.devices.iter().find(|d| d.ip.to_string() == *ip).map(|d| d.name.clone()).or_else(
                || {
                    if *ip == zone_a.addr(LAPTOP_HOST).to_string() {
                        Some("new laptop".into())
                    } else if *ip == zone_a.addr(NEW_DEVICE_HOST).to_string() {
                        Some("new Raspberry Pi".into())
                    } else if *ip == BAD_IP.to_string() {
                        Some("feed address".into())
                    } else {
                        None
                    }
                },
            );
        match who {
            Some(w) => format!("{ip} ({w})"),
            None => ip.clone(),
        }
    };
    let table = |rows: &[ExpectedAlert]| -> String {
        let mut t = String::from(
            "| alert type | source | destination | protocol | key details |\n|---|---|---|---|---|\n",
        );
        for a in rows {
            let details: Vec<String> = a.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
            t.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                a.alert_type,
                name(&a.source),
                name(&a.destination),
                a.protocol.unwrap_or("—"),
                if details.is_empty() { "—".to_string() } else { details.join(", ") }
            ));
        }
        t
    };
    let mut out = String::new();
    for s in Scenario::ALL {
        out.push_str(&format!("#### `{}`\n\n{}\n\n", s.name(), s.description()));
        match s.expected_alerts(plant) {
            Ok(e) => {
                out.push_str(&table(&e.alerts));
                if !e.if_enabled.is_empty() {
                    out.push_str("\nAlso, when the types that are off by default are enabled:\n\n");
                    out.push_str(&table(&e.if_enabled));
                }
            }
            Err(why) => out.push_str(&format!("Not available in this plant: {why}\n")),
        }
        out.push('\n');
    }
    out
}

/// Whether a device answers ICMP echo requests from other subnets (routers do not).
fn answers_ping(role: Role) -> bool {
    !matches!(role, Role::Router | Role::Intruder)
}

/// A change to the world made before the run starts.
pub type Setup = Box<dyn Fn(&Plant, &mut World)>;

/// What [`install`] adds to a run.
pub struct Installed {
    /// Scenario actors, ranked after the plant's.
    pub spawns: Vec<crate::actors::Spawn>,
    /// World changes.
    pub setups: Vec<Setup>,
    /// Devices added by scenarios, with the scenario's name.
    pub added: BTreeMap<usize, String>,
    /// Manifest entries.
    pub manifest: Vec<ManifestScenario>,
    /// Indicator feed addresses.
    pub feed: Vec<String>,
}

/// Adds the scenarios of `opts` to the plant.
pub fn install(plant: &mut Plant, opts: &Options, pa: &PlantActors) -> Result<Installed, SimError> {
    let mut out = Installed {
        spawns: Vec::new(),
        setups: Vec::new(),
        added: BTreeMap::new(),
        manifest: Vec::new(),
        feed: Vec::new(),
    };
    let clean = plant.clone();
    for run in &opts.scenarios {
        let sc = run.scenario;
        if let Some(d) = opts.duration_us
            && run.offset_us + sc.min_tail_us() > d
        {
            return Err(SimError::Options(format!(
                "scenario {} at {} s needs {} s of capture after its offset; the capture lasts {} s",
                sc.name(),
                run.offset_us / SEC,
                sc.min_tail_us() / SEC,
                d / SEC
            )));
        }
        let exp = sc.expected_alerts(&clean).map_err(SimError::Options)?;
        let c = cast(&clean);
        let t0 = opts.start_us + run.offset_us;
        let seed =
            opts.seed ^ (run.offset_us.rotate_left(29)) ^ (sc as u64).wrapping_mul(0x9e37_79b9);
        let label = |what: &str| format!("scenario/{}/{what}", sc.name());
        let mut spawn = |first: u64, actor: Box<dyn Actor>| {
            out.spawns.push(crate::actors::Spawn { first: run.offset_us + first, actor });
        };
        match sc {
            Scenario::PortScan => {
                let plc = c.s7.expect("checked by expected_alerts");
                spawn(
                    0,
                    Box::new(PortScan {
                        rng: Rng::new(seed, &label("scan")),
                        scanner: c.ws1,
                        target: plc,
                    }),
                );
            }
            Scenario::AddressScan => {
                spawn(
                    0,
                    Box::new(AddressScan {
                        rng: Rng::new(seed, &label("sweep")),
                        scanner: c.ws1,
                        zone: c.zone_a,
                    }),
                );
            }
            Scenario::PlcScan => {
                let mut rng = Rng::new(seed, &label("laptop"));
                let laptop = plant.add_intruder(
                    &mut rng,
                    "laptop-unknown",
                    [0x34, 0xF6, 0x4B],
                    c.zone_a,
                    LAPTOP_HOST,
                    plant::WINDOWS,
                    &["modbus", "s7comm", "enip", "bacnet"],
                );
                out.added.insert(laptop, sc.name().to_string());
                let targets = identifiable(&clean);
                spawn(0, Box::new(PlcScan { rng, laptop, targets, next: 0, announced: false }));
            }
            Scenario::NewDevice => {
                let mut rng = Rng::new(seed, &label("rpi"));
                let rpi = plant.add_intruder(
                    &mut rng,
                    "raspberrypi",
                    [0xB8, 0x27, 0xEB],
                    c.zone_a,
                    NEW_DEVICE_HOST,
                    plant::LINUX,
                    &["modbus"],
                );
                out.added.insert(rpi, sc.name().to_string());
                let plc = c.modbus.expect("checked");
                spawn(0, Box::new(NewDevice { rng, rpi, plc, link: None, reads: 0, tid: 0 }));
            }
            Scenario::ModbusWrite => {
                let plc = c.modbus.expect("checked");
                spawn(
                    0,
                    Box::new(ModbusWrite {
                        rng: Rng::new(seed, &label("write")),
                        hmi: c.hmi_a,
                        plc,
                    }),
                );
            }
            Scenario::S7PlcStop | Scenario::S7ProgramDownload => {
                let plc = c.s7.expect("checked");
                spawn(
                    0,
                    Box::new(S7Attack {
                        rng: Rng::new(seed, &label("s7")),
                        hmi: c.hmi_a,
                        plc,
                        download: sc == Scenario::S7ProgramDownload,
                    }),
                );
            }
            Scenario::CipFirmwareChange => {
                let plc = c.enip_plc.expect("checked");
                let old = clean.devices[plc].identity.clone().expect("field device");
                let new = new_firmware(&old);
                let reset_at = t0 + FW_RESET;
                let up_at = reset_at + FW_REBOOT_START + FW_REBOOT;
                out.setups.push(Box::new(move |_p: &Plant, w: &mut World| {
                    w.dev[plc].reboot = Some((reset_at + FW_REBOOT_START, up_at));
                    w.dev[plc].new_identity = Some((up_at, new.clone()));
                }));
                spawn(
                    0,
                    Box::new(CipFirmware {
                        rng: Rng::new(seed, &label("flash")),
                        eng: c.eng,
                        plc,
                        step: 0,
                    }),
                );
            }
            Scenario::Dnp3ColdRestartStorm => {
                let rtu = c.dnp3.expect("checked");
                let master = *pa.dnp3_master_of.get(&rtu).expect("every outstation has a master");
                spawn(0, Box::new(ColdRestartStorm { master, left: 4 }));
            }
            Scenario::Iec104UnknownMaster => {
                let rtu = c.iec104.expect("checked");
                spawn(
                    0,
                    Box::new(Iec104Command {
                        rng: Rng::new(seed, &label("master")),
                        ws: c.ws2,
                        rtu,
                    }),
                );
            }
            Scenario::Malformed => {
                spawn(
                    0,
                    Box::new(Malformed {
                        rng: Rng::new(seed, &label("malformed")),
                        cast: c.clone(),
                        step: 0,
                    }),
                );
            }
            Scenario::KnownBadIp => {
                spawn(
                    0,
                    Box::new(KnownBadIp { rng: Rng::new(seed, &label("download")), ws: c.ws1 }),
                );
                out.feed = FEED.iter().map(|i| i.to_string()).collect();
            }
            Scenario::DeviceSilent => {
                let plc = c.modbus.expect("checked");
                out.setups.push(Box::new(move |_p: &Plant, w: &mut World| {
                    w.dev[plc].silent_from = Some(t0);
                }));
            }
        }
        out.manifest.push(ManifestScenario {
            name: sc.name().to_string(),
            offset_s: run.offset_us as f64 / SEC as f64,
            description: sc.description().to_string(),
            expected_alerts: exp.alerts,
            expected_if_enabled: exp.if_enabled,
            intrusive: sc.intrusive(),
            expected_expert: sc.expected_expert().into_iter().map(String::from).collect(),
        });
    }
    Ok(out)
}

/// Firmware scenario timing: reset request this long after the offset.
const FW_RESET: u64 = 5 * SEC;
/// The PLC starts rebooting this long after the reset request.
const FW_REBOOT_START: u64 = 500 * MS;
/// How long the PLC is down.
const FW_REBOOT: u64 = 4 * SEC;

// ---------------------------------------------------------------------------
// Scenario actors.
// ---------------------------------------------------------------------------

struct PortScan {
    rng: Rng,
    scanner: usize,
    target: usize,
}

impl Actor for PortScan {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let sport = cx.port(self.scanner);
        let tip = cx.plant.devices[self.target].ip;
        let sip = cx.plant.devices[self.scanner].ip;
        let mut t = now;
        for &port in &SCAN_PORTS {
            let mut cside = cx.side(self.scanner, tip, sport, &mut self.rng);
            cside.window = 1024;
            cside.mss = 1460;
            cside.sack = false;
            let sside = cx.side(self.target, sip, port, &mut self.rng);
            let mut c = Conn::new(cside, sside);
            c.syn(cx.em, t);
            let answer = t + self.rng.range(300, 1500);
            if port == s7_actor::PORT {
                c.accept_syn(cx.em, answer);
                c.probe_reset(cx.em, answer + self.rng.range(100, 400));
            } else {
                c.refuse(cx.em, answer);
            }
            t += self.rng.range(80 * MS, 120 * MS);
        }
        None
    }
}

struct AddressScan {
    rng: Rng,
    scanner: usize,
    zone: usize,
}

impl Actor for AddressScan {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let id = self.rng.next_u16();
        let sip = cx.plant.devices[self.scanner].ip;
        let payload = b"abcdefghijklmnopqrstuvwabcdefghi";
        let mut t = now;
        let mut ip_id = self.rng.next_u16();
        for host in 1..=254u8 {
            let dst = cx.plant.zones[self.zone].addr(host);
            let seq = u16::from(host);
            let mut rest = [0u8; 4];
            rest[..2].copy_from_slice(&id.to_be_bytes());
            rest[2..].copy_from_slice(&seq.to_be_bytes());
            let d = &cx.plant.devices[self.scanner];
            let ip = Ip { src: sip, dst, ttl: d.stack.ttl, id: ip_id, df: false };
            ip_id = ip_id.wrapping_add(1);
            let f = wire::icmp_frame(cx.plant.l2(self.scanner, dst), &ip, 8, 0, rest, payload);
            cx.em.push(
                t,
                f,
                FrameInfo { layers: Layers::of(&[Layer::Ip, Layer::Icmp]), ..FrameInfo::default() },
            );
            if let Some(dev) = cx.plant.device_by_ip(dst).filter(|d| answers_ping(d.role)) {
                let ip = Ip {
                    src: dst,
                    dst: sip,
                    ttl: dev.stack.ttl,
                    id: self.rng.next_u16(),
                    df: false,
                };
                let f = wire::icmp_frame(cx.plant.l2(dev.id, sip), &ip, 0, 0, rest, payload);
                let at = t + self.rng.range(300, 2 * MS);
                cx.em.push(
                    at,
                    f,
                    FrameInfo {
                        layers: Layers::of(&[Layer::Ip, Layer::Icmp]),
                        ..FrameInfo::default()
                    },
                );
            }
            t += self.rng.range(80 * MS, 120 * MS);
        }
        None
    }
}

/// Gratuitous ARP of a host joining a segment.
fn announce(cx: &mut Cx<'_>, dev: usize, t: u64) {
    let d = &cx.plant.devices[dev];
    let f = wire::arp_frame(
        L2 { src: d.mac, dst: Mac::BROADCAST },
        wire::arp_op::REQUEST,
        (d.mac, d.ip),
        (Mac::ZERO, d.ip),
    );
    cx.em.push(t, f, FrameInfo { layers: Layers::of(&[Layer::Arp]), ..FrameInfo::default() });
}

struct PlcScan {
    rng: Rng,
    laptop: usize,
    targets: Vec<usize>,
    next: usize,
    announced: bool,
}

impl PlcScan {
    fn probe(&mut self, t: u64, cx: &mut Cx<'_>, target: usize) -> Result<u64, u64> {
        let tip = cx.plant.devices[target].ip;
        let nh = cx.plant.next_hop(self.laptop, tip);
        cx.arp_between(self.laptop, nh, t);
        let lip = cx.plant.devices[self.laptop].ip;
        match cx.plant.devices[target].role {
            Role::ModbusPlc => {
                let mut link =
                    ClientLink::new(self.laptop, target, modbus_actor::PORT, (2 * MS, 10 * MS));
                let Ready::At { t, .. } = link.ensure(t, cx, &mut self.rng) else { return Err(t) };
                let ident = cx.identity(target, t);
                let unit = cx.plant.devices[target].proto_addr as u8;
                let t = link.exchange(
                    t,
                    cx,
                    &mut self.rng,
                    vec![modbus::read_device_id_request(1, unit)],
                    vec![modbus::read_device_id_response(
                        1,
                        unit,
                        &ident.vendor_name,
                        &ident.model,
                        &ident.firmware,
                    )],
                )?;
                Ok(link.close(t + self.rng.range(MS, 10 * MS), cx, &mut self.rng))
            }
            Role::S7Plc => {
                let mut link =
                    ClientLink::new(self.laptop, target, s7_actor::PORT, (3 * MS, 15 * MS));
                let Ready::At { t, .. } = link.ensure(t, cx, &mut self.rng) else { return Err(t) };
                let mut pduref = 0;
                let t = s7_actor::connect(&mut link, t, cx, &mut self.rng, &mut pduref)?;
                let ident = cx.identity(target, t);
                pduref += 1;
                let recs = s7::szl_0011_records(
                    &ident.model,
                    ident.product_code,
                    s7_actor::parse_fw(&ident.firmware),
                );
                let t = link.exchange(
                    t + self.rng.range(MS, 5 * MS),
                    cx,
                    &mut self.rng,
                    vec![s7::szl_request(pduref, 0x0011, 0)],
                    vec![s7::szl_response(pduref, 0x0011, 0, 28, &recs)],
                )?;
                Ok(link.close(t + self.rng.range(MS, 10 * MS), cx, &mut self.rng))
            }
            Role::EnipPlc | Role::EnipAdapter => {
                let ctx = self.rng.next_u64();
                let port = cx.port(self.laptop);
                let req = enip::list_identity_request(ctx, true);
                let id = self.rng.next_u16();
                cx.udp(
                    t,
                    self.laptop,
                    tip,
                    port,
                    enip::PORT,
                    &req.bytes,
                    &[Layer::Enip],
                    req.recs,
                    id,
                );
                let ident = cx.identity(target, t);
                let rep = enip::list_identity_reply(ctx, &ident, tip, true);
                let at = t + self.rng.range(2 * MS, 10 * MS);
                let id = self.rng.next_u16();
                cx.udp(at, target, lip, enip::PORT, port, &rep.bytes, &[Layer::Enip], rep.recs, id);
                Ok(at)
            }
            _ => {
                let inst = cx.plant.devices[target].proto_addr;
                let ident = cx.identity(target, t);
                let invoke = self.rng.next_u32() as u8;
                let m = bacnet::read_property(
                    invoke,
                    bacnet::obj::DEVICE,
                    inst,
                    bacnet::prop::MODEL_NAME,
                );
                let id = self.rng.next_u16();
                cx.udp(
                    t,
                    self.laptop,
                    tip,
                    bacnet::PORT,
                    bacnet::PORT,
                    &m.bytes,
                    &[Layer::Bvlc, Layer::Bacnet, Layer::Bacapp],
                    vec![m.rec],
                    id,
                );
                let a = bacnet::read_property_ack(
                    invoke,
                    bacnet::obj::DEVICE,
                    inst,
                    bacnet::prop::MODEL_NAME,
                    &bacnet::Value::Text(ident.model),
                );
                let at = t + self.rng.range(3 * MS, 20 * MS);
                let id = self.rng.next_u16();
                cx.udp(
                    at,
                    target,
                    lip,
                    bacnet::PORT,
                    bacnet::PORT,
                    &a.bytes,
                    &[Layer::Bvlc, Layer::Bacnet, Layer::Bacapp],
                    vec![a.rec],
                    id,
                );
                Ok(at)
            }
        }
    }
}

impl Actor for PlcScan {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        if !self.announced {
            self.announced = true;
            announce(cx, self.laptop, now);
            return Some(now + 2 * SEC);
        }
        let target = *self.targets.get(self.next)?;
        self.next += 1;
        let _ = self.probe(now, cx, target);
        Some(now + self.rng.jitter(3 * SEC, 50))
    }
}

struct NewDevice {
    rng: Rng,
    rpi: usize,
    plc: usize,
    link: Option<ClientLink>,
    reads: u32,
    tid: u16,
}

impl Actor for NewDevice {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let Some(link) = self.link.as_mut() else {
            announce(cx, self.rpi, now);
            let mut link =
                ClientLink::new(self.rpi, self.plc, modbus_actor::PORT, (2 * MS, 10 * MS));
            let t = now + SEC;
            cx.arp_between(self.rpi, self.plc, t);
            let _ = link.ensure(t, cx, &mut self.rng);
            self.link = Some(link);
            return Some(t + 500 * MS);
        };
        let unit = cx.plant.devices[self.plc].proto_addr as u8;
        self.tid = self.tid.wrapping_add(1);
        let vals: Vec<u16> = (0..10).map(|i| 1000 + i * 7 + (self.reads as u16 % 5)).collect();
        let r = link.exchange(
            now,
            cx,
            &mut self.rng,
            vec![modbus::read_request(self.tid, unit, modbus::fc::READ_HOLDING, 0, 10)],
            vec![modbus::read_registers_response(self.tid, unit, modbus::fc::READ_HOLDING, &vals)],
        );
        self.reads += 1;
        if self.reads >= 12 || r.is_err() {
            link.close(now + 500 * MS, cx, &mut self.rng);
            return None;
        }
        Some(now + 5 * SEC)
    }
}

struct ModbusWrite {
    rng: Rng,
    hmi: usize,
    plc: usize,
}

impl Actor for ModbusWrite {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let mut link = ClientLink::new(self.hmi, self.plc, modbus_actor::PORT, (2 * MS, 12 * MS));
        let Ready::At { t, .. } = link.ensure(now, cx, &mut self.rng) else { return None };
        let unit = cx.plant.devices[self.plc].proto_addr as u8;
        let tid = self.rng.next_u16();
        let values = [0x0bb8, 0x0bb8, 0x0000, 0x0001];
        if let Ok(t) = link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![modbus::write_registers(tid, unit, 0, &values)],
            vec![modbus::write_multiple_response(tid, unit, modbus::fc::WRITE_REGISTERS, 0, 4)],
        ) {
            link.close(t + self.rng.range(5 * MS, 50 * MS), cx, &mut self.rng);
        }
        None
    }
}

struct S7Attack {
    rng: Rng,
    hmi: usize,
    plc: usize,
    download: bool,
}

impl S7Attack {
    fn run(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut link = ClientLink::new(self.hmi, self.plc, s7_actor::PORT, (3 * MS, 15 * MS));
        let Ready::At { t, .. } = link.ensure(now, cx, &mut self.rng) else { return Err(now) };
        let mut pduref = self.rng.next_u16();
        let mut t = s7_actor::connect(&mut link, t, cx, &mut self.rng, &mut pduref)?
            + self.rng.range(10 * MS, 50 * MS);
        if !self.download {
            pduref = pduref.wrapping_add(1);
            t = link.exchange(
                t,
                cx,
                &mut self.rng,
                vec![s7::plc_stop_job(pduref)],
                vec![s7::short_ack(pduref, s7::func::PLC_STOP)],
            )?;
            return Ok(link.close(t + self.rng.range(50 * MS, 200 * MS), cx, &mut self.rng));
        }
        let file = s7::block_file("0A", 5);
        let image = s7::db_image(5, 300, self.rng.next_u32());
        pduref = pduref.wrapping_add(1);
        t = link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![s7::request_download_job(pduref, &file, image.len() as u32, 300)],
            vec![s7::short_ack(pduref, s7::func::REQUEST_DOWNLOAD)],
        )?;
        // The PLC pulls the block in parts with Download block jobs; the PG answers with data.
        let Some(c) = link.conn.as_mut() else { return Err(t) };
        let parts: Vec<&[u8]> = image.chunks(200).collect();
        let mut plc_ref = self.rng.next_u16();
        for (i, part) in parts.iter().enumerate() {
            plc_ref = plc_ref.wrapping_add(1);
            let t1 = c.send(
                cx.em,
                t + self.rng.range(5 * MS, 20 * MS),
                Dir::S2C,
                vec![s7::block_job(plc_ref, s7::func::DOWNLOAD_BLOCK, &file)],
            );
            let more = i + 1 < parts.len();
            t = c.send(
                cx.em,
                t1 + self.rng.range(MS, 5 * MS),
                Dir::C2S,
                vec![s7::download_block_ack(plc_ref, more, part)],
            );
        }
        plc_ref = plc_ref.wrapping_add(1);
        let t1 = c.send(
            cx.em,
            t + self.rng.range(5 * MS, 20 * MS),
            Dir::S2C,
            vec![s7::block_job(plc_ref, s7::func::DOWNLOAD_ENDED, &file)],
        );
        t = c.send(
            cx.em,
            t1 + self.rng.range(MS, 5 * MS),
            Dir::C2S,
            vec![s7::short_ack(plc_ref, s7::func::DOWNLOAD_ENDED)],
        );
        let t2 = t + self.rng.range(2 * MS, 10 * MS);
        c.ack(cx.em, t2, Dir::S2C);
        pduref = pduref.wrapping_add(1);
        t = link.exchange(
            t2 + self.rng.range(20 * MS, 80 * MS),
            cx,
            &mut self.rng,
            vec![s7::pi_insert_job(pduref, &file[1..])],
            vec![s7::short_ack(pduref, s7::func::PI_SERVICE)],
        )?;
        Ok(link.close(t + self.rng.range(50 * MS, 200 * MS), cx, &mut self.rng))
    }
}

impl Actor for S7Attack {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let _ = self.run(now, cx);
        None
    }
}

struct CipFirmware {
    rng: Rng,
    eng: usize,
    plc: usize,
    step: u8,
}

impl CipFirmware {
    fn flash(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut link = ClientLink::new(self.eng, self.plc, enip::PORT, (2 * MS, 8 * MS));
        let Ready::At { t, .. } = link.ensure(now, cx, &mut self.rng) else { return Err(now) };
        let (mut t, session) = enip_actor::register(&mut link, t, cx, &mut self.rng)?;
        let path = enip::path(enip::FIRMWARE_CLASS, 1, None);
        let cip = |link: &mut ClientLink,
                   t: u64,
                   cx: &mut Cx<'_>,
                   rng: &mut Rng,
                   svc: u8,
                   p: &[u8],
                   req: &[u8],
                   rep: &[u8]| {
            let ctx = rng.next_u64();
            link.exchange(
                t,
                cx,
                rng,
                vec![enip::send_rr_data(session, ctx, &enip::request(svc, p, req))],
                vec![enip::send_rr_data(
                    session,
                    ctx,
                    &enip::CipMsg { generic: p[1] >= 0x64, ..enip::reply(svc, 0, rep) },
                )],
            )
        };
        t = cip(
            &mut link,
            t + 50 * MS,
            cx,
            &mut self.rng,
            0x51,
            &path,
            &[],
            &[0, 0, 0x01, 0x00, 0, 0, 0, 0],
        )?;
        let chunks = 50u32;
        let size = chunks * 400;
        let mut begin = size.to_le_bytes().to_vec();
        begin.extend_from_slice(&400u16.to_le_bytes());
        t = cip(
            &mut link,
            t + 50 * MS,
            cx,
            &mut self.rng,
            0x4b,
            &path,
            &begin,
            &[0x90, 0x01, 0, 0],
        )?;
        let mut x = self.rng.next_u32();
        for i in 0..chunks {
            let mut d = (i * 400).to_le_bytes().to_vec();
            for _ in 0..400 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((x >> 16) as u8);
            }
            t = cip(
                &mut link,
                t + 2 * MS,
                cx,
                &mut self.rng,
                0x4d,
                &path,
                &d,
                &(i * 400).to_le_bytes(),
            )?;
        }
        let reset_at = now + FW_RESET;
        let identity = enip::path(0x01, 0x01, None);
        let t = cip(
            &mut link,
            reset_at.max(t + 10 * MS),
            cx,
            &mut self.rng,
            enip::svc::RESET,
            &identity,
            &[0],
            &[],
        )?;
        // The PLC closes its sockets before it restarts.
        if let Some(mut c) = link.conn.take() {
            c.close(cx.em, t + 20 * MS, Dir::S2C, self.rng.range(300, 900));
        }
        Ok(t)
    }
}

impl Actor for CipFirmware {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        self.step += 1;
        match self.step {
            1 => {
                let _ = self.flash(now, cx);
                // Look at the PLC again once it is back.
                Some(now + FW_RESET + FW_REBOOT_START + FW_REBOOT + 10 * SEC)
            }
            _ => {
                let mut v = crate::actors::eng::EngOnline::new(
                    self.rng.next_u64(),
                    self.eng,
                    self.plc,
                    "scenario/cip-firmware-change/check",
                );
                v.fire(now, cx);
                None
            }
        }
    }
}

struct ColdRestartStorm {
    master: u32,
    left: u8,
}

impl Actor for ColdRestartStorm {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        cx.world.mailbox.entry(self.master).or_default().push(Cmd::Dnp3ColdRestart);
        self.left -= 1;
        (self.left > 0).then_some(now + 20 * SEC)
    }
}

struct Iec104Command {
    rng: Rng,
    ws: usize,
    rtu: usize,
}

impl Iec104Command {
    fn run(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut link = ClientLink::new(self.ws, self.rtu, iec104::PORT, (5 * MS, 30 * MS));
        let Ready::At { t, .. } = link.ensure(now, cx, &mut self.rng) else { return Err(now) };
        let ca = cx.plant.devices[self.rtu].proto_addr as u16;
        let t = link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![iec104::u_frame(iec104::u::STARTDT_ACT)],
            vec![iec104::u_frame(iec104::u::STARTDT_CON)],
        )?;
        let asdu = |c: u8| iec104::Asdu {
            type_id: iec104::ty::C_SC_NA_1,
            cot: c,
            negative: false,
            ca,
            objects: vec![(3001, vec![0x01])],
        };
        let t = link.exchange(
            t + self.rng.range(50 * MS, 300 * MS),
            cx,
            &mut self.rng,
            vec![iec104::i_frame(0, 0, &asdu(iec104::cot::ACT))],
            vec![iec104::i_frame(0, 1, &asdu(iec104::cot::ACTCON))],
        )?;
        let t = link
            .push_from_server(
                t + self.rng.range(100 * MS, 400 * MS),
                cx,
                &mut self.rng,
                vec![iec104::i_frame(1, 1, &asdu(iec104::cot::ACTTERM))],
            )
            .ok_or(t)?;
        let t = link.push_from_client(
            t + self.rng.range(50 * MS, 200 * MS),
            cx,
            &mut self.rng,
            vec![iec104::s_frame(2)],
        )?;
        let t = link.exchange(
            t + self.rng.range(SEC, 2 * SEC),
            cx,
            &mut self.rng,
            vec![iec104::u_frame(0x13)],
            vec![iec104::u_frame(0x23)],
        )?;
        Ok(link.close(t + self.rng.range(10 * MS, 100 * MS), cx, &mut self.rng))
    }
}

impl Actor for Iec104Command {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let _ = self.run(now, cx);
        None
    }
}

struct Malformed {
    rng: Rng,
    cast: Cast,
    step: u8,
}

fn mark_malformed(mut p: Pdu) -> Pdu {
    p.malformed = true;
    p
}

/// Opens a malformed-traffic session (protocol set-up on a fresh connection).
type SetupFn<'a> = dyn FnMut(&mut ClientLink, u64, &mut Cx<'_>, &mut Rng) -> Result<u64, u64> + 'a;
/// The i-th malformed request and the server's answer, if it answers.
type BadFn<'a> = dyn FnMut(u8, &mut Rng) -> (Pdu, Option<Pdu>) + 'a;

impl Malformed {
    #[allow(clippy::too_many_arguments)]
    fn session(
        &mut self,
        now: u64,
        cx: &mut Cx<'_>,
        client: usize,
        server: usize,
        port: u16,
        setup: &mut SetupFn<'_>,
        bad: &mut BadFn<'_>,
    ) -> Result<u64, u64> {
        let mut link = ClientLink::new(client, server, port, (2 * MS, 10 * MS));
        let Ready::At { t, .. } = link.ensure(now, cx, &mut self.rng) else { return Err(now) };
        let mut t = setup(&mut link, t, cx, &mut self.rng)?;
        for i in 0..3u8 {
            let (req, resp) = bad(i, &mut self.rng);
            t += self.rng.range(100 * MS, 400 * MS);
            t = match resp {
                Some(r) => link.exchange(t, cx, &mut self.rng, vec![req], vec![r])?,
                None => link.push_from_client(t, cx, &mut self.rng, vec![req])?,
            };
        }
        Ok(link.close(t + self.rng.range(100 * MS, 300 * MS), cx, &mut self.rng))
    }
}

impl Actor for Malformed {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let c = self.cast.clone();
        self.step += 1;
        let none = &mut |_: &mut ClientLink, t: u64, _: &mut Cx<'_>, _: &mut Rng| Ok(t);
        match self.step {
            1 => {
                if let Some(plc) = c.modbus {
                    let unit = cx.plant.devices[plc].proto_addr as u8;
                    let _ = self.session(
                        now,
                        cx,
                        c.hmi_a,
                        plc,
                        modbus_actor::PORT,
                        none,
                        &mut |i, rng| {
                            let tid = rng.next_u16().wrapping_add(u16::from(i));
                            (
                                modbus::malformed_request(tid, unit),
                                Some(modbus::exception(tid, unit, modbus::fc::READ_HOLDING, 3)),
                            )
                        },
                    );
                }
            }
            2 => {
                if let Some(rtu) = c.dnp3 {
                    let addr = cx.plant.devices[rtu].proto_addr as u16;
                    let _ = self.session(now, cx, c.scada, rtu, dnp3::PORT, none, &mut |i, _| {
                        (dnp3::bad_crc_frame(true, addr, crate::actors::dnp3::MASTER_ADDR, i), None)
                    });
                }
            }
            3 => {
                if let Some(plc) = c.s7 {
                    let _ = self.session(
                        now,
                        cx,
                        c.hmi_a,
                        plc,
                        s7_actor::PORT,
                        &mut |link, t, cx, rng| {
                            let mut r = 0x4000;
                            s7_actor::connect(link, t, cx, rng, &mut r)
                        },
                        &mut |i, _| {
                            (mark_malformed(s7::malformed_job(0x5000 + u16::from(i))), None)
                        },
                    );
                }
            }
            4 => {
                if let Some(plc) = c.enip_plc.filter(|p| cx.plant.devices[*p].zone == c.zone_a) {
                    let session = std::cell::Cell::new(0u32);
                    let _ = self.session(
                        now,
                        cx,
                        c.hmi_a,
                        plc,
                        enip::PORT,
                        &mut |link, t, cx, rng| {
                            let (t, s) = enip_actor::register(link, t, cx, rng)?;
                            session.set(s);
                            Ok(t)
                        },
                        &mut |i, _| (enip::malformed(session.get(), u64::from(i)), None),
                    );
                }
            }
            5 => {
                if let Some(rtu) = c.iec104 {
                    let ca = cx.plant.devices[rtu].proto_addr as u16;
                    let _ = self.session(
                        now,
                        cx,
                        c.scada,
                        rtu,
                        iec104::PORT,
                        &mut |link, t, cx, rng| {
                            link.exchange(
                                t,
                                cx,
                                rng,
                                vec![iec104::u_frame(iec104::u::STARTDT_ACT)],
                                vec![iec104::u_frame(iec104::u::STARTDT_CON)],
                            )
                        },
                        &mut |i, _| {
                            (mark_malformed(iec104::malformed_i_frame(u16::from(i), 0, ca)), None)
                        },
                    );
                }
            }
            _ => {
                if let Some(dev) = c.bacnet {
                    let dip = cx.plant.devices[dev].ip;
                    let inst = cx.plant.devices[dev].proto_addr;
                    let mut t = now;
                    for i in 0..3u8 {
                        let m = bacnet::malformed(0xe0 + i, inst);
                        let id = self.rng.next_u16();
                        let info = FrameInfo {
                            layers: Layers::of(&[
                                Layer::Ip,
                                Layer::Udp,
                                Layer::Bvlc,
                                Layer::Bacnet,
                                Layer::Bacapp,
                            ]),
                            recs: vec![m.rec],
                            malformed: true,
                            new_stream: false,
                        };
                        cx.udp_info(
                            t,
                            c.hmi_a,
                            dip,
                            (bacnet::PORT, bacnet::PORT),
                            &m.bytes,
                            info,
                            id,
                        );
                        t += self.rng.range(200 * MS, 500 * MS);
                    }
                }
                return None;
            }
        }
        Some(now + 5 * SEC)
    }
}

struct KnownBadIp {
    rng: Rng,
    ws: usize,
}

impl Actor for KnownBadIp {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let ws = cx.plant.devices[self.ws].clone();
        let gw = cx.plant.devices[cx.plant.zones[ws.zone].gateway].mac;
        let cport = cx.port(self.ws);
        let cside = cx.side(self.ws, BAD_IP, cport, &mut self.rng);
        // The remote server as seen on the workstation's segment: behind the router, TTL spent.
        let sside = Side::new(
            L2 { src: gw, dst: ws.mac },
            BAD_IP,
            80,
            49,
            true,
            29200,
            1400,
            true,
            &mut self.rng,
        );
        let mut c = Conn::new(cside, sside);
        let t = c.handshake(cx.em, now, self.rng.range(20 * MS, 60 * MS));
        let host = BAD_IP.to_string();
        let req = Pdu::new(
            it::http_get(&host, "/update.bin", "Microsoft-WinHTTP/5.1"),
            &[Layer::Http],
            Rec::Http,
        );
        let t1 = c.send(cx.em, t + self.rng.range(MS, 5 * MS), Dir::C2S, vec![req]);
        let mut body = Vec::with_capacity(3000);
        let mut x = self.rng.next_u32();
        body.extend_from_slice(b"MZ");
        while body.len() < 3000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            body.push((x >> 24) as u8);
        }
        let date = Civil::from_micros(t1).http_date();
        let resp = Pdu::new(
            it::http_ok(&date, "Apache", "application/octet-stream", &body),
            &[Layer::Http],
            Rec::Http,
        );
        let t2 = c.send(cx.em, t1 + self.rng.range(30 * MS, 80 * MS), Dir::S2C, vec![resp]);
        let t3 = t2 + self.rng.range(MS, 20 * MS);
        c.ack(cx.em, t3, Dir::C2S);
        c.close(cx.em, t3 + self.rng.range(MS, 5 * MS), Dir::S2C, self.rng.range(20 * MS, 60 * MS));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expected_alert_type_is_in_the_catalogue() {
        let cat = otwatch_model::catalog::builtin();
        let plant = Plant::build(1, 24);
        for s in Scenario::ALL {
            let e = s.expected_alerts(&plant).unwrap();
            assert!(!e.alerts.is_empty(), "{} expects nothing", s.name());
            for a in &e.alerts {
                let t = cat
                    .get(a.alert_type)
                    .unwrap_or_else(|| panic!("{}: unknown type {}", s.name(), a.alert_type));
                assert!(
                    t.enabled,
                    "{}: {} is off by default; list it under if_enabled",
                    s.name(),
                    a.alert_type
                );
            }
            for a in &e.if_enabled {
                let t = cat
                    .get(a.alert_type)
                    .unwrap_or_else(|| panic!("{}: unknown type {}", s.name(), a.alert_type));
                assert!(
                    !t.enabled,
                    "{}: {} is on by default; list it under alerts",
                    s.name(),
                    a.alert_type
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()).unwrap(), s);
        }
        assert!(Scenario::parse("nope").unwrap_err().contains("port-scan"));
    }

    #[test]
    fn small_plants_refuse_scenarios_they_cannot_run() {
        let plant = Plant::build(1, 4);
        assert!(Scenario::PlcScan.expected_alerts(&plant).unwrap_err().contains("--devices"));
        assert!(Scenario::Iec104UnknownMaster.expected_alerts(&plant).is_err());
        assert!(Scenario::ModbusWrite.expected_alerts(&plant).is_ok());
    }
}
