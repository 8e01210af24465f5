//! Inventory rules: MAC binding behind routers, type inference, connections and events.

use std::net::{IpAddr, Ipv4Addr};

use otwatch_detect::observation::{
    Address, AppMessage, Arp, Direction, Kind, MacAddr, Observation, Operation, Packet, Protocol,
    Role, TcpSignal, Transport,
};
use otwatch_model::{DeviceType, Timestamp};

use super::{Inventory, Placement};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 1, last))
}

fn mac(last: u8) -> MacAddr {
    MacAddr([0x00, 0x1d, 0x9c, 0, 0, last])
}

fn obs(t: i64, src: (u8, u8, u16), dst: (u8, u8, u16), dir: Direction, kind: Kind) -> Observation {
    Observation {
        time: Timestamp::from_secs(1_700_000_000 + t),
        frame: t as u64,
        flow: Some(u64::from(src.0) << 8 | u64::from(dst.0)),
        src: Address { mac: Some(mac(src.1)), ip: Some(ip(src.0)), port: Some(src.2) },
        dst: Address { mac: Some(mac(dst.1)), ip: Some(ip(dst.0)), port: Some(dst.2) },
        transport: Transport::Tcp,
        direction: Some(dir),
        vlan: None,
        kind,
    }
}

fn packet(ttl: u8) -> Kind {
    Kind::Packet(Packet { ip_protocol: 6, wire_len: 100, ttl, ..Packet::default() })
}

fn request(p: Protocol, op: Operation) -> Kind {
    Kind::App(AppMessage::new(p, Role::Request, 1, op))
}

/// A client (`c`) polling a server (`s`) with `op`: packet both ways plus the request.
fn poll(inv: &mut Inventory, t: i64, c: u8, s: u8, port: u16, p: Protocol, op: Operation) {
    let (cl, sv) = ((c, c, 40000), (s, s, port));
    inv.observe(&obs(t, cl, sv, Direction::ToServer, packet(64)));
    inv.observe(&obs(t, cl, sv, Direction::ToServer, request(p, op)));
    inv.observe(&obs(t, sv, cl, Direction::ToClient, packet(64)));
}

fn devices(inv: &mut Inventory) -> Vec<otwatch_model::DeviceObservation> {
    let mut b = inv.flush(true);
    b.devices.dedup_by(|a, b| a.ip == b.ip && a.mac == b.mac);
    b.devices
}

fn device(
    list: &[otwatch_model::DeviceObservation],
    last: u8,
) -> &otwatch_model::DeviceObservation {
    let want = ip(last).to_string();
    list.iter()
        .find(|d| d.ip.as_deref() == Some(want.as_str()))
        .unwrap_or_else(|| panic!("no {want}"))
}

#[test]
fn servers_are_plcs_rtus_and_controllers_clients_hmis_scada_historians() {
    let mut inv = Inventory::new(Placement::default());
    poll(&mut inv, 1, 10, 20, 502, Protocol::Modbus, Operation::Read);
    poll(&mut inv, 1, 11, 21, 20000, Protocol::Dnp3, Operation::Read);
    poll(&mut inv, 1, 11, 22, 47808, Protocol::Bacnet, Operation::Read);
    // 12 reads from three PLCs and never writes: a historian; 13 polls and writes: SCADA.
    for s in [20, 23, 24] {
        poll(&mut inv, 2, 12, s, 502, Protocol::Modbus, Operation::Read);
        poll(&mut inv, 2, 13, s, 502, Protocol::Modbus, Operation::Write);
    }
    let d = devices(&mut inv);
    assert_eq!(device(&d, 20).device_type, Some(DeviceType::Plc));
    assert_eq!(device(&d, 21).device_type, Some(DeviceType::Rtu));
    assert_eq!(device(&d, 22).device_type, Some(DeviceType::Controller));
    assert_eq!(device(&d, 10).device_type, Some(DeviceType::Hmi));
    assert_eq!(device(&d, 12).device_type, Some(DeviceType::Historian));
    assert_eq!(device(&d, 13).device_type, Some(DeviceType::ScadaServer));
    assert_eq!(device(&d, 20).is_ot, Some(true));
    assert!(device(&d, 20).details.get("type_reason").is_some_and(|r| r.contains("Modbus")));
    assert_eq!(device(&d, 20).vendor.as_deref(), Some("Rockwell Automation"));
}

#[test]
fn programming_makes_an_engineering_station_and_an_event() {
    let mut inv = Inventory::new(Placement::default());
    poll(&mut inv, 1, 10, 20, 102, Protocol::S7comm, Operation::ProgramDownload);
    poll(&mut inv, 2, 10, 20, 102, Protocol::S7comm, Operation::ProgramDownload);
    poll(&mut inv, 100, 10, 20, 102, Protocol::S7comm, Operation::Stop);
    let b = inv.flush(true);
    let station = b.devices.iter().find(|d| d.ip.as_deref() == Some("192.168.1.10")).unwrap();
    assert_eq!(station.device_type, Some(DeviceType::EngineeringStation));
    let types: Vec<&str> = b.events.iter().map(|(e, _)| e.event_type.as_str()).collect();
    // Two downloads a second apart fold into one event.
    assert_eq!(types.iter().filter(|t| **t == "PROGRAM_DEVICE").count(), 1, "{types:?}");
    assert!(types.contains(&"PLC_STOP"));
    assert_eq!(types.iter().filter(|t| **t == "DEVICE_CREATE").count(), 2);
    assert!(types.contains(&"DEVICE_CONNECTION_CREATED"));
    assert!(b.events.iter().all(|(e, _)| e.key.is_some()));
}

#[test]
fn scanners_probe_many_ports_without_answers() {
    let mut inv = Inventory::new(Placement::default());
    for port in 1..=30u16 {
        let o = obs(
            1,
            (66, 66, 5000),
            (20, 20, port),
            Direction::ToServer,
            Kind::Tcp(TcpSignal::Attempt),
        );
        inv.observe(&o);
        inv.observe(&obs(1, (66, 66, 5000), (20, 20, port), Direction::ToServer, packet(64)));
    }
    let d = devices(&mut inv);
    assert_eq!(device(&d, 66).device_type, Some(DeviceType::Scanner));
}

#[test]
fn scanners_sweep_many_hosts_or_arp_for_many_addresses() {
    let mut inv = Inventory::new(Placement::default());
    // 66 tries port 502 on 60 hosts; nobody answers.
    for host in 100..160u8 {
        let (src, dst) = ((66, 66, 5000), (host, host, 502));
        inv.observe(&obs(1, src, dst, Direction::ToServer, Kind::Tcp(TcpSignal::Attempt)));
        inv.observe(&obs(1, src, dst, Direction::ToServer, packet(64)));
    }
    // 77 asks ARP for 45 addresses.
    for target in 100..145u8 {
        inv.observe(&Observation {
            kind: Kind::Arp(Arp {
                operation: 1,
                sender_mac: mac(77),
                sender_ip: Ipv4Addr::new(192, 168, 1, 77),
                target_mac: MacAddr([0; 6]),
                target_ip: Ipv4Addr::new(192, 168, 1, target),
            }),
            transport: Transport::Link,
            flow: None,
            direction: None,
            ..obs(2, (77, 77, 0), (target, target, 0), Direction::ToServer, packet(64))
        });
    }
    // 88 polls ten PLCs that all answer: a client, not a scanner.
    for host in 10..20u8 {
        let (src, dst) = ((88, 88, 40000), (host, host, 502));
        inv.observe(&obs(3, src, dst, Direction::ToServer, Kind::Tcp(TcpSignal::Attempt)));
        inv.observe(&obs(3, dst, src, Direction::ToClient, Kind::Tcp(TcpSignal::Accept)));
        poll(&mut inv, 3, 88, host, 502, Protocol::Modbus, Operation::Read);
    }
    let d = devices(&mut inv);
    let sweeper = device(&d, 66);
    assert_eq!(sweeper.device_type, Some(DeviceType::Scanner), "{sweeper:?}");
    assert!(sweeper.details.get("type_reason").is_some_and(|r| r.contains("hosts")));
    let arper = device(&d, 77);
    assert_eq!(arper.device_type, Some(DeviceType::Scanner), "{arper:?}");
    assert!(arper.details.get("type_reason").is_some_and(|r| r.contains("ARP")));
    assert_ne!(device(&d, 88).device_type, Some(DeviceType::Scanner));
}

#[test]
fn routed_addresses_do_not_take_the_routers_mac() {
    let mut inv = Inventory::new(Placement::default());
    let router = 1u8;
    // The router's own traffic: TTL 64, and it answers ARP.
    inv.observe(&Observation {
        kind: Kind::Arp(Arp {
            operation: 2,
            sender_mac: mac(router),
            sender_ip: Ipv4Addr::new(192, 168, 1, 1),
            target_mac: mac(10),
            target_ip: Ipv4Addr::new(192, 168, 1, 10),
        }),
        transport: Transport::Link,
        flow: None,
        direction: None,
        ..obs(1, (1, router, 0), (10, 10, 0), Direction::ToServer, packet(64))
    });
    // Two remote hosts behind it: their packets arrive with the router's MAC and TTL 63/127.
    let remote = |last: u8| IpAddr::V4(Ipv4Addr::new(172, 16, 5, last));
    for (t, r, ttl) in [(2, 7u8, 63u8), (3, 8, 127)] {
        let mut o = obs(t, (0, router, 502), (10, 10, 40000), Direction::ToClient, packet(ttl));
        o.src.ip = Some(remote(r));
        inv.observe(&o);
    }
    // A local PLC, directly attached.
    inv.observe(&obs(4, (20, 20, 502), (10, 10, 40000), Direction::ToClient, packet(64)));
    let d = devices(&mut inv);
    for r in [7, 8] {
        let want = remote(r).to_string();
        let dev = d.iter().find(|x| x.ip.as_deref() == Some(want.as_str())).expect("remote device");
        assert_eq!(dev.mac, None, "{want} must not take the router's MAC");
    }
    assert_eq!(device(&d, 1).mac, Some(mac(router).to_string()));
    assert_eq!(device(&d, 1).device_type, Some(DeviceType::NetworkDevice));
    assert_eq!(device(&d, 20).mac, Some(mac(20).to_string()));
}

#[test]
fn public_addresses_behind_a_router_are_not_inventory() {
    let mut inv = Inventory::new(Placement::default());
    let mut a = obs(1, (10, 10, 40000), (0, 1, 443), Direction::ToServer, packet(64));
    a.dst.ip = Some(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)));
    let mut b = obs(1, (0, 1, 443), (10, 10, 40000), Direction::ToClient, packet(57));
    b.src.ip = Some(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)));
    let mut c = b.clone();
    c.src.ip = Some(IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)));
    for o in [a, b, c] {
        inv.observe(&o);
    }
    let batch = inv.flush(true);
    assert!(batch.devices.iter().all(|d| d.ip.as_deref() != Some("8.8.8.8")));
    // The connection is still counted: client, server, port, both directions.
    let conn = batch.connections.iter().find(|c| c.dst == "8.8.8.8").expect("connection");
    assert_eq!((conn.src.as_str(), conn.dst_port, conn.packets), ("192.168.1.10", Some(443), 2));
    assert_eq!(conn.protocol.as_deref(), Some("HTTPS"));
}

#[test]
fn devices_settle_before_their_first_write_and_counts_are_deltas() {
    let mut inv = Inventory::new(Placement::default());
    poll(&mut inv, 0, 10, 20, 502, Protocol::Modbus, Operation::Read);
    // Too early: nothing settled yet, but the connection counts are written.
    let b = inv.flush(false);
    assert!(b.devices.is_empty());
    assert_eq!(b.connections[0].packets, 2);
    poll(&mut inv, 30, 10, 20, 502, Protocol::Modbus, Operation::Read);
    let b = inv.flush(false);
    assert_eq!(b.devices.len(), 4); // two devices, first and last seen each
    assert_eq!(b.connections[0].packets, 2); // only what came since
    assert_eq!(b.connections[0].protocol.as_deref(), Some("Modbus"));
    // Nothing new: nothing written.
    assert!(inv.flush(false).is_empty());
}
