//! The simulated plant: sites, zones, devices with vendor MACs, addresses and identities.
//!
//! The layout is a function of the device count and the seed only. Each site
//! has up to two control zones of six field devices (PLCs, RTUs, a building
//! controller) with an HMI each, a supervisory zone (SCADA server, historian,
//! engineering workstation) and an IT zone (DNS/DHCP server, intranet web
//! server, office workstations), joined by one router. Vendor prefixes are
//! real IEEE OUI assignments (checked against the IEEE registry by tests).

use std::net::Ipv4Addr;

use otwatch_model::DeviceType;
use serde::Serialize;

use crate::rng::Rng;
use crate::wire::{L2, Mac};

/// Field devices per control zone.
pub const ZONE_SIZE: usize = 6;
/// Control zones per site.
pub const ZONES_PER_SITE: usize = 2;
/// Most field devices a plant can have (the addressing plan allows 250 sites).
pub const MAX_DEVICES: u32 = 250 * (ZONE_SIZE * ZONES_PER_SITE) as u32;

/// What a device does in the plant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// PLC answering Modbus/TCP.
    ModbusPlc,
    /// Siemens PLC answering S7comm.
    S7Plc,
    /// Controller answering EtherNet/IP (and scanning an I/O adapter).
    EnipPlc,
    /// EtherNet/IP I/O adapter (class-1 I/O target).
    EnipAdapter,
    /// DNP3 outstation.
    Dnp3Rtu,
    /// IEC 60870-5-104 controlled station.
    Iec104Rtu,
    /// BACnet/IP building controller.
    BacnetController,
    /// Operator HMI of a control zone.
    Hmi,
    /// SCADA server (DNP3 and IEC-104 master).
    ScadaServer,
    /// Process historian.
    Historian,
    /// Engineering workstation.
    EngineeringStation,
    /// Office workstation.
    Workstation,
    /// DNS and DHCP server.
    InfraServer,
    /// Intranet web server.
    WebServer,
    /// The site router (one entry per interface).
    Router,
    /// A device that only a scenario adds.
    Intruder,
}

/// TCP/IP stack behaviour of a device's operating system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stack {
    /// Initial TTL.
    pub ttl: u8,
    /// Sets don't-fragment.
    pub df: bool,
    /// TCP receive window.
    pub window: u16,
    /// TCP MSS it advertises.
    pub mss: u16,
    /// Offers SACK in SYNs.
    pub sack: bool,
}

/// Windows hosts.
pub const WINDOWS: Stack = Stack { ttl: 128, df: true, window: 64240, mss: 1460, sack: true };
/// Linux hosts.
pub const LINUX: Stack = Stack { ttl: 64, df: true, window: 64240, mss: 1460, sack: true };
/// Controllers with a small embedded stack.
pub const EMBEDDED: Stack = Stack { ttl: 64, df: false, window: 8192, mss: 1460, sack: false };
/// Siemens S7 CPUs.
pub const SIEMENS: Stack = Stack { ttl: 30, df: false, window: 8192, mss: 1460, sack: false };
/// RTUs with a minimal stack and the RFC 879 default MSS.
pub const RTU: Stack = Stack { ttl: 64, df: false, window: 4096, mss: 536, sack: false };
/// Cisco router.
pub const ROUTER: Stack = Stack { ttl: 255, df: false, window: 4128, mss: 536, sack: false };

/// A vendor as the IEEE registry names it, with one of its OUIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vendor {
    /// Organization name exactly as in the IEEE OUI registry (oui.txt).
    pub ieee_name: &'static str,
    /// The assigned prefix.
    pub oui: [u8; 3],
}

/// Every vendor prefix the simulator uses (all real IEEE MA-L assignments).
pub const VENDORS: &[Vendor] = &[
    Vendor { ieee_name: "Schneider Electric", oui: [0x00, 0x00, 0x54] },
    Vendor { ieee_name: "WAGO Kontakttechnik GmbH", oui: [0x00, 0x30, 0xDE] },
    Vendor { ieee_name: "Siemens AG,", oui: [0x00, 0x1B, 0x1B] },
    Vendor { ieee_name: "Siemens AG", oui: [0x00, 0x0E, 0x8C] },
    Vendor { ieee_name: "Rockwell Automation", oui: [0x00, 0x00, 0xBC] },
    Vendor { ieee_name: "Rockwell Automation", oui: [0x00, 0x1D, 0x9C] },
    Vendor { ieee_name: "SCHWEITZER ENGINEERING", oui: [0x00, 0x30, 0xA7] },
    Vendor { ieee_name: "MOXA TECHNOLOGIES CORP., LTD.", oui: [0x00, 0x90, 0xE8] },
    Vendor { ieee_name: "ABB AS, Division Automation Products", oui: [0x00, 0x1B, 0x45] },
    Vendor { ieee_name: "SIEMENS AG", oui: [0x08, 0x00, 0x06] },
    Vendor { ieee_name: "Johnson Controls, Inc.", oui: [0x00, 0x10, 0x8D] },
    Vendor { ieee_name: "Honeywell", oui: [0x00, 0x40, 0x84] },
    Vendor { ieee_name: "ADVANTECH CO., LTD.", oui: [0x00, 0xD0, 0xC9] },
    Vendor { ieee_name: "VMware, Inc.", oui: [0x00, 0x50, 0x56] },
    Vendor { ieee_name: "Super Micro Computer, Inc.", oui: [0x3C, 0xEC, 0xEF] },
    Vendor { ieee_name: "Dell Inc.", oui: [0x00, 0x1E, 0xC9] },
    Vendor { ieee_name: "Hewlett Packard", oui: [0x9C, 0x7B, 0xEF] },
    Vendor { ieee_name: "Dell Inc.", oui: [0x98, 0xE7, 0x43] },
    Vendor { ieee_name: "Dell Inc.", oui: [0x00, 0x1A, 0xA0] },
    Vendor { ieee_name: "Cisco Systems, Inc", oui: [0x00, 0x0F, 0xF7] },
    Vendor { ieee_name: "Raspberry Pi Foundation", oui: [0xB8, 0x27, 0xEB] },
    Vendor { ieee_name: "Intel Corporate", oui: [0x34, 0xF6, 0x4B] },
];

fn vendor(oui: [u8; 3]) -> Vendor {
    *VENDORS.iter().find(|v| v.oui == oui).expect("OUI listed in VENDORS")
}

/// Identity of a field device as its protocols report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Vendor name as the device reports it.
    pub vendor_name: String,
    /// Model / product name / order number.
    pub model: String,
    /// Firmware version as reported.
    pub firmware: String,
    /// Serial number.
    pub serial: String,
    /// CIP / BACnet vendor id (0 when the protocol has none).
    pub vendor_id: u16,
    /// CIP device type or product code (0 when not applicable).
    pub product_code: u16,
    /// Firmware major and minor revision (CIP, S7).
    pub revision: (u8, u8),
}

/// One device.
#[derive(Clone, Debug, Serialize)]
pub struct Device {
    /// Index in [`Plant::devices`].
    pub id: usize,
    /// Host name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Inventory type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// Whether it is on the OT side.
    pub ot: bool,
    /// Vendor (IEEE registry name of its OUI).
    pub vendor: &'static str,
    /// MAC address.
    #[serde(serialize_with = "ser_display")]
    pub mac: Mac,
    /// IPv4 address.
    pub ip: Ipv4Addr,
    /// Site index.
    pub site: usize,
    /// Zone index in [`Plant::zones`].
    pub zone: usize,
    /// Protocols it serves (as a server / outstation).
    pub serves: Vec<&'static str>,
    /// Protocols it speaks as a client / master.
    pub speaks: Vec<&'static str>,
    /// Identity reported by its protocols, for field devices.
    pub identity: Option<Identity>,
    /// Protocol address: DNP3 link address, IEC-104 common address, BACnet device instance,
    /// Modbus unit id.
    pub proto_addr: u32,
    /// TCP/IP stack.
    #[serde(skip)]
    pub stack: Stack,
    /// For an I/O adapter: the PLC that scans it.
    #[serde(skip)]
    pub scanner: Option<usize>,
}

fn ser_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A network segment.
#[derive(Clone, Debug, Serialize)]
pub struct Zone {
    /// Name, unique in the site.
    pub name: String,
    /// Site index.
    pub site: usize,
    /// Site name.
    pub site_name: String,
    /// First three octets of the /24.
    pub net: [u8; 3],
    /// Whether it is an OT zone.
    pub ot: bool,
    /// The router interface in this zone.
    pub gateway: usize,
}

impl Zone {
    /// The address `.host` in this zone.
    pub fn addr(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(self.net[0], self.net[1], self.net[2], host)
    }

    /// The subnet in CIDR notation.
    pub fn cidr(&self) -> String {
        format!("{}.{}.{}.0/24", self.net[0], self.net[1], self.net[2])
    }

    /// The directed broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        self.addr(255)
    }

    /// Whether `ip` is in this zone's /24.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        ip.octets()[..3] == self.net
    }
}

/// The devices of one site by role.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Site {
    /// Name.
    pub name: String,
    /// Control zones.
    pub control_zones: Vec<usize>,
    /// Supervisory zone.
    pub supervisory_zone: usize,
    /// IT zone.
    pub it_zone: usize,
    /// SCADA server.
    pub scada: usize,
    /// Historian.
    pub historian: usize,
    /// Engineering workstation.
    pub eng: usize,
    /// DNS/DHCP server.
    pub infra: usize,
    /// Intranet web server.
    pub web: usize,
    /// Office workstations.
    pub workstations: Vec<usize>,
    /// HMI of each control zone (same order as `control_zones`).
    pub hmis: Vec<usize>,
}

/// The whole plant.
#[derive(Clone, Debug, Serialize)]
pub struct Plant {
    /// Sites.
    pub sites: Vec<Site>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// Devices (field devices, hosts, router interfaces).
    pub devices: Vec<Device>,
    /// DNS domain of the plant.
    pub domain: String,
}

/// Field device kinds per zone slot, alternating between two zone templates.
const ZONE_A: [(Role, usize); ZONE_SIZE] = [
    (Role::ModbusPlc, 0),
    (Role::S7Plc, 0),
    (Role::EnipPlc, 0),
    (Role::EnipAdapter, 0),
    (Role::Dnp3Rtu, 0),
    (Role::BacnetController, 0),
];
const ZONE_B: [(Role, usize); ZONE_SIZE] = [
    (Role::ModbusPlc, 1),
    (Role::S7Plc, 1),
    (Role::Iec104Rtu, 0),
    (Role::Dnp3Rtu, 1),
    (Role::BacnetController, 1),
    (Role::Iec104Rtu, 1),
];

struct Builder<'a> {
    rng: &'a mut Rng,
    plant: Plant,
}

impl Builder<'_> {
    fn mac(&mut self, oui: [u8; 3]) -> Mac {
        loop {
            let r = self.rng.next_u32().to_be_bytes();
            let mac = Mac::new(oui, [r[1], r[2], r[3]]);
            if !self.plant.devices.iter().any(|d| d.mac == mac) {
                return mac;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: String,
        role: Role,
        oui: [u8; 3],
        zone: usize,
        host: u8,
        stack: Stack,
        serves: &[&'static str],
        speaks: &[&'static str],
    ) -> usize {
        let id = self.plant.devices.len();
        let mac = self.mac(oui);
        let z = &self.plant.zones[zone];
        let device_type = match role {
            Role::ModbusPlc | Role::S7Plc | Role::EnipPlc => DeviceType::Plc,
            Role::EnipAdapter | Role::BacnetController => DeviceType::Controller,
            Role::Dnp3Rtu | Role::Iec104Rtu => DeviceType::Rtu,
            Role::Hmi => DeviceType::Hmi,
            Role::ScadaServer => DeviceType::ScadaServer,
            Role::Historian => DeviceType::Historian,
            Role::EngineeringStation => DeviceType::EngineeringStation,
            Role::Workstation => DeviceType::Workstation,
            Role::InfraServer | Role::WebServer => DeviceType::Server,
            Role::Router => DeviceType::NetworkDevice,
            Role::Intruder => DeviceType::Unknown,
        };
        let ot = z.ot && role != Role::Router;
        self.plant.devices.push(Device {
            id,
            name,
            role,
            device_type,
            ot,
            vendor: vendor(oui).ieee_name,
            mac,
            ip: z.addr(host),
            site: z.site,
            zone,
            serves: serves.to_vec(),
            speaks: speaks.to_vec(),
            identity: None,
            proto_addr: 0,
            stack,
            scanner: None,
        });
        id
    }

    fn zone(
        &mut self,
        site: usize,
        name: &str,
        net: [u8; 3],
        ot: bool,
        router_oui: [u8; 3],
    ) -> usize {
        let zi = self.plant.zones.len();
        self.plant.zones.push(Zone {
            name: name.to_string(),
            site,
            site_name: format!("site-{}", site + 1),
            net,
            ot,
            gateway: usize::MAX,
        });
        let gw = self.add(
            format!("s{}-rtr-{}", site + 1, name),
            Role::Router,
            router_oui,
            zi,
            1,
            ROUTER,
            &[],
            &[],
        );
        self.plant.zones[zi].gateway = gw;
        zi
    }

    fn field_device(&mut self, site: usize, zone: usize, slot: usize, role: Role, variant: usize) {
        let s = site + 1;
        let host = 10 + slot as u8;
        let n = self.plant.devices.iter().filter(|d| d.role == role && d.site == site).count() + 1;
        let serial = format!("{:08X}", self.rng.next_u32());
        let (name, oui, stack, serves, ident, addr): (
            String,
            [u8; 3],
            Stack,
            &[&str],
            Identity,
            u32,
        ) = match (role, variant) {
            (Role::ModbusPlc, 0) => (
                format!("s{s}-plc-modbus-{n}"),
                [0x00, 0x00, 0x54],
                EMBEDDED,
                &["modbus"],
                Identity {
                    vendor_name: "Schneider Electric".into(),
                    model: "BMX P34 2020".into(),
                    firmware: "v3.10".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (3, 10),
                },
                1,
            ),
            (Role::ModbusPlc, _) => (
                format!("s{s}-plc-modbus-{n}"),
                [0x00, 0x30, 0xDE],
                EMBEDDED,
                &["modbus"],
                Identity {
                    vendor_name: "WAGO".into(),
                    model: "750-8202".into(),
                    firmware: "03.10.08".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (3, 10),
                },
                1,
            ),
            (Role::S7Plc, 0) => (
                format!("s{s}-plc-s7-{n}"),
                [0x00, 0x1B, 0x1B],
                SIEMENS,
                &["s7comm"],
                Identity {
                    vendor_name: "Siemens".into(),
                    model: "6ES7 315-2EH14-0AB0".into(),
                    firmware: "V3.2.6".into(),
                    serial: format!("S C-{}", &serial[..8]),
                    vendor_id: 0,
                    product_code: 0x00c0,
                    revision: (3, 2),
                },
                0,
            ),
            (Role::S7Plc, _) => (
                format!("s{s}-plc-s7-{n}"),
                [0x00, 0x0E, 0x8C],
                SIEMENS,
                &["s7comm"],
                Identity {
                    vendor_name: "Siemens".into(),
                    model: "6ES7 414-3EM07-0AB0".into(),
                    firmware: "V6.0.3".into(),
                    serial: format!("S C-{}", &serial[..8]),
                    vendor_id: 0,
                    product_code: 0x00c4,
                    revision: (6, 0),
                },
                0,
            ),
            (Role::EnipPlc, _) => (
                format!("s{s}-plc-enip-{n}"),
                [0x00, 0x00, 0xBC],
                EMBEDDED,
                &["enip"],
                Identity {
                    vendor_name: "Rockwell Automation/Allen-Bradley".into(),
                    model: "1756-L73/B LOGIX5573".into(),
                    firmware: "20.13".into(),
                    serial,
                    vendor_id: 1,
                    product_code: 94,
                    revision: (20, 13),
                },
                0,
            ),
            (Role::EnipAdapter, _) => (
                format!("s{s}-io-enip-{n}"),
                [0x00, 0x1D, 0x9C],
                EMBEDDED,
                &["enip"],
                Identity {
                    vendor_name: "Rockwell Automation/Allen-Bradley".into(),
                    model: "1734-AENTR/B Ethernet Adapter".into(),
                    firmware: "4.3".into(),
                    serial,
                    vendor_id: 1,
                    product_code: 142,
                    revision: (4, 3),
                },
                0,
            ),
            (Role::Dnp3Rtu, 0) => (
                format!("s{s}-rtu-dnp3-{n}"),
                [0x00, 0x30, 0xA7],
                RTU,
                &["dnp3"],
                Identity {
                    vendor_name: "SEL".into(),
                    model: "SEL-3530 RTAC".into(),
                    firmware: "R150".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (1, 50),
                },
                0,
            ),
            (Role::Dnp3Rtu, _) => (
                format!("s{s}-rtu-dnp3-{n}"),
                [0x00, 0x90, 0xE8],
                RTU,
                &["dnp3"],
                Identity {
                    vendor_name: "Moxa".into(),
                    model: "ioLogik E4200".into(),
                    firmware: "1.2".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (1, 2),
                },
                0,
            ),
            (Role::Iec104Rtu, 0) => (
                format!("s{s}-rtu-iec104-{n}"),
                [0x00, 0x1B, 0x45],
                RTU,
                &["iec104"],
                Identity {
                    vendor_name: "ABB".into(),
                    model: "RTU560".into(),
                    firmware: "13.2".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (13, 2),
                },
                0,
            ),
            (Role::Iec104Rtu, _) => (
                format!("s{s}-rtu-iec104-{n}"),
                [0x08, 0x00, 0x06],
                RTU,
                &["iec104"],
                Identity {
                    vendor_name: "Siemens".into(),
                    model: "SICAM A8000 CP-8050".into(),
                    firmware: "5.10".into(),
                    serial,
                    vendor_id: 0,
                    product_code: 0,
                    revision: (5, 10),
                },
                0,
            ),
            (Role::BacnetController, 0) => (
                format!("s{s}-bms-bacnet-{n}"),
                [0x00, 0x10, 0x8D],
                EMBEDDED,
                &["bacnet"],
                Identity {
                    vendor_name: "Johnson Controls, Inc.".into(),
                    model: "FEC2611-0".into(),
                    firmware: "10.1.0".into(),
                    serial,
                    vendor_id: 5,
                    product_code: 0,
                    revision: (10, 1),
                },
                0,
            ),
            (Role::BacnetController, _) => (
                format!("s{s}-bms-bacnet-{n}"),
                [0x00, 0x40, 0x84],
                EMBEDDED,
                &["bacnet"],
                Identity {
                    vendor_name: "Honeywell".into(),
                    model: "Spyder PUB6438S".into(),
                    firmware: "3.0.2".into(),
                    serial,
                    vendor_id: 17,
                    product_code: 0,
                    revision: (3, 0),
                },
                0,
            ),
            _ => unreachable!("not a field role"),
        };
        let id = self.add(name, role, oui, zone, host, stack, serves, &[]);
        let d = &mut self.plant.devices[id];
        d.identity = Some(ident);
        d.proto_addr = match role {
            Role::Dnp3Rtu => 10 + (site as u32) * 16 + n as u32,
            Role::Iec104Rtu => 100 + (site as u32) * 16 + n as u32,
            Role::BacnetController => 100_000 * (s as u32) + 1000 + n as u32,
            Role::ModbusPlc => addr,
            _ => 0,
        };
        if role == Role::EnipAdapter {
            let plc = self
                .plant
                .devices
                .iter()
                .rev()
                .find(|d| d.role == Role::EnipPlc && d.zone == zone)
                .map(|d| d.id);
            self.plant.devices[id].scanner = plc;
        }
        if role == Role::EnipPlc {
            self.plant.devices[id].speaks.push("enip");
        }
    }
}

impl Plant {
    /// Builds the plant for `devices` field devices.
    pub fn build(seed: u64, devices: u32) -> Plant {
        let devices = devices.clamp(1, MAX_DEVICES) as usize;
        let mut rng = Rng::new(seed, "plant");
        let mut b = Builder {
            rng: &mut rng,
            plant: Plant {
                sites: Vec::new(),
                zones: Vec::new(),
                devices: Vec::new(),
                domain: "plant.example".into(),
            },
        };
        let zones = devices.div_ceil(ZONE_SIZE);
        let sites = zones.div_ceil(ZONES_PER_SITE);
        let mut placed = 0;
        for site in 0..sites {
            let s = (site + 1) as u8;
            let router_oui = [0x00, 0x0F, 0xF7];
            let mut st = Site { name: format!("site-{s}"), ..Site::default() };
            let sup = b.zone(site, "supervisory", [10, s, 100], true, router_oui);
            let it = b.zone(site, "it", [10, s, 200], false, router_oui);
            st.supervisory_zone = sup;
            st.it_zone = it;
            st.scada = b.add(
                format!("s{s}-scada"),
                Role::ScadaServer,
                [0x00, 0x50, 0x56],
                sup,
                10,
                LINUX,
                &["http"],
                &["dnp3", "iec104"],
            );
            st.historian = b.add(
                format!("s{s}-historian"),
                Role::Historian,
                [0x3C, 0xEC, 0xEF],
                sup,
                11,
                WINDOWS,
                &[],
                &["http", "dns"],
            );
            st.eng = b.add(
                format!("s{s}-eng"),
                Role::EngineeringStation,
                [0x00, 0x1E, 0xC9],
                sup,
                20,
                WINDOWS,
                &[],
                &["s7comm", "enip"],
            );
            st.infra = b.add(
                format!("s{s}-dns"),
                Role::InfraServer,
                [0x00, 0x1A, 0xA0],
                it,
                5,
                LINUX,
                &["dns", "dhcp"],
                &[],
            );
            st.web = b.add(
                format!("s{s}-intranet"),
                Role::WebServer,
                [0x00, 0x50, 0x56],
                it,
                6,
                LINUX,
                &["http"],
                &[],
            );
            let ws_ouis = [[0x9C, 0x7B, 0xEF], [0x98, 0xE7, 0x43]];
            for (i, oui) in ws_ouis.iter().enumerate() {
                let w = b.add(
                    format!("s{s}-ws-{}", i + 1),
                    Role::Workstation,
                    *oui,
                    it,
                    101 + i as u8,
                    WINDOWS,
                    &[],
                    &["dhcp", "dns", "http"],
                );
                st.workstations.push(w);
            }
            for zi in 0..ZONES_PER_SITE {
                if placed >= devices {
                    break;
                }
                let letter = (b'a' + zi as u8) as char;
                let zone = b.zone(
                    site,
                    &format!("control-{letter}"),
                    [10, s, 1 + zi as u8],
                    true,
                    router_oui,
                );
                st.control_zones.push(zone);
                let template = if zi % 2 == 0 { ZONE_A } else { ZONE_B };
                let here = (devices - placed).min(ZONE_SIZE);
                for (slot, (role, variant)) in template.iter().take(here).enumerate() {
                    b.field_device(site, zone, slot, *role, *variant);
                }
                placed += here;
                let speaks: Vec<&'static str> = {
                    let mut v: Vec<&'static str> = b
                        .plant
                        .devices
                        .iter()
                        .filter(|d| d.zone == zone)
                        .filter_map(|d| match d.role {
                            Role::ModbusPlc => Some("modbus"),
                            Role::S7Plc => Some("s7comm"),
                            Role::EnipPlc => Some("enip"),
                            Role::BacnetController => Some("bacnet"),
                            _ => None,
                        })
                        .collect();
                    v.dedup();
                    v
                };
                let hmi = b.add(
                    format!("s{s}-hmi-{letter}"),
                    Role::Hmi,
                    [0x00, 0xD0, 0xC9],
                    zone,
                    50,
                    WINDOWS,
                    &[],
                    &speaks,
                );
                st.hmis.push(hmi);
            }
            b.plant.sites.push(st);
        }
        b.plant
    }

    /// Adds a device that only a scenario brings (its MAC comes from `rng`, not the plant's stream).
    #[allow(clippy::too_many_arguments)]
    pub fn add_intruder(
        &mut self,
        rng: &mut Rng,
        name: &str,
        oui: [u8; 3],
        zone: usize,
        host: u8,
        stack: Stack,
        speaks: &[&'static str],
    ) -> usize {
        let mut b = Builder { rng, plant: std::mem::replace(self, Plant::empty()) };
        let id = b.add(name.to_string(), Role::Intruder, oui, zone, host, stack, &[], speaks);
        *self = b.plant;
        id
    }

    fn empty() -> Plant {
        Plant { sites: Vec::new(), zones: Vec::new(), devices: Vec::new(), domain: String::new() }
    }

    /// The zone of an address, if it is in the plant.
    pub fn zone_of(&self, ip: Ipv4Addr) -> Option<usize> {
        self.zones.iter().position(|z| z.contains(ip))
    }

    /// The device with this address (router interfaces included).
    pub fn device_by_ip(&self, ip: Ipv4Addr) -> Option<&Device> {
        self.devices.iter().find(|d| d.ip == ip)
    }

    /// The MACs of a frame from device `from` to `to`: the peer itself on the same
    /// subnet, else the sender's gateway (the capture sees the sender's access link).
    pub fn l2(&self, from: usize, to: Ipv4Addr) -> L2 {
        let d = &self.devices[from];
        self.l2_from(d.mac, d.zone, to)
    }

    /// Like [`Plant::l2`] for a sender given by MAC and zone.
    pub fn l2_from(&self, mac: Mac, zone: usize, to: Ipv4Addr) -> L2 {
        let z = &self.zones[zone];
        if to.is_broadcast() || to == z.broadcast() {
            return L2 { src: mac, dst: Mac::BROADCAST };
        }
        if z.contains(to)
            && let Some(peer) = self.devices.iter().find(|p| p.ip == to)
        {
            return L2 { src: mac, dst: peer.mac };
        }
        L2 { src: mac, dst: self.devices[z.gateway].mac }
    }

    /// The next hop of `from` towards `to`: the peer on the same subnet, else the gateway.
    pub fn next_hop(&self, from: usize, to: Ipv4Addr) -> usize {
        let d = &self.devices[from];
        let z = &self.zones[d.zone];
        if z.contains(to)
            && let Some(peer) = self.devices.iter().find(|p| p.ip == to)
        {
            return peer.id;
        }
        z.gateway
    }

    /// Field devices of one role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(move |d| d.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_scales_with_device_count() {
        let p = Plant::build(1, 24);
        assert_eq!(p.sites.len(), 2);
        let field = p
            .devices
            .iter()
            .filter(|d| {
                matches!(d.device_type, DeviceType::Plc | DeviceType::Rtu | DeviceType::Controller)
            })
            .count();
        assert_eq!(field, 24);
        let p = Plant::build(1, 7);
        assert_eq!(p.sites.len(), 1);
        assert_eq!(p.sites[0].control_zones.len(), 2);
        // MACs and IPs are unique.
        let p = Plant::build(9, 600);
        let mut macs: Vec<_> = p.devices.iter().map(|d| d.mac).collect();
        macs.sort();
        macs.dedup();
        assert_eq!(macs.len(), p.devices.len());
        let mut ips: Vec<_> = p.devices.iter().map(|d| d.ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), p.devices.len());
    }

    #[test]
    fn adapters_have_a_scanner_in_their_zone() {
        let p = Plant::build(3, 24);
        for a in p.with_role(Role::EnipAdapter) {
            let s = a.scanner.expect("adapter has a scanner");
            assert_eq!(p.devices[s].zone, a.zone);
        }
    }
}
