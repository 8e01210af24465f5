//! The observe mapping per protocol, on hand-built frames (byte layouts commented field by field).

use std::net::Ipv4Addr;

use otwatch_detect::observation::{
    Direction, Kind, LoginOutcome, Object, Observation, Operation, Pattern, Protocol, Role, Status,
    TcpSignal,
};
use otwatch_wire::LinkType;

use super::Observer;
use crate::intake::Packet;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const CLIENT_PORT: u16 = 40000;

/// Ethernet + IPv4 header for `proto` with `len` bytes of transport header and payload.
fn eth_ipv4(to_server: bool, proto: u8, len: usize) -> Vec<u8> {
    let (s, d) = if to_server { (CLIENT, SERVER) } else { (SERVER, CLIENT) };
    let mut f = vec![0x00, 0x1d, 0x9c, 0, 0, d[3]]; // destination MAC (a Rockwell OUI)
    f.extend_from_slice(&[0x00, 0x1d, 0x9c, 0, 0, s[3]]); // source MAC
    f.extend_from_slice(&[0x08, 0x00]); // EtherType IPv4
    f.extend_from_slice(&[0x45, 0x00]); // version 4, IHL 5, DSCP
    f.extend_from_slice(&(20 + len as u16).to_be_bytes()); // total length
    f.extend_from_slice(&[0, 0, 0x40, 0x00, 64, proto, 0, 0]); // id, DF, TTL 64, protocol, checksum
    f.extend_from_slice(&s); // source address
    f.extend_from_slice(&d); // destination address
    f
}

/// A TCP segment between the client and the server's `port`.
fn tcp(to_server: bool, port: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = eth_ipv4(to_server, 6, 20 + payload.len());
    let (sp, dp) = if to_server { (CLIENT_PORT, port) } else { (port, CLIENT_PORT) };
    f.extend_from_slice(&sp.to_be_bytes()); // source port
    f.extend_from_slice(&dp.to_be_bytes()); // destination port
    f.extend_from_slice(&seq.to_be_bytes()); // sequence number
    f.extend_from_slice(&0u32.to_be_bytes()); // acknowledgement number
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]); // offset 5, flags, window, checksum, urgent
    f.extend_from_slice(payload);
    f
}

/// A UDP datagram between the client and the server's `port`.
fn udp(to_server: bool, port: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = eth_ipv4(to_server, 17, 8 + payload.len());
    let (sp, dp) = if to_server { (CLIENT_PORT, port) } else { (port, CLIENT_PORT) };
    f.extend_from_slice(&sp.to_be_bytes()); // source port
    f.extend_from_slice(&dp.to_be_bytes()); // destination port
    f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes()); // length
    f.extend_from_slice(&[0, 0]); // checksum (none)
    f.extend_from_slice(payload);
    f
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const RST: u8 = 0x04;

/// Runs frames through an observer (one per second of packet time).
fn observe(frames: &[Vec<u8>]) -> Vec<Observation> {
    let mut obs = Observer::new(Default::default());
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let p = Packet {
            ts_ns: (1_700_000_000 + i as u64) * 1_000_000_000,
            link_type: LinkType::ETHERNET,
            orig_len: f.len() as u32,
            data: f,
            file: 0,
        };
        obs.process(&p, &mut out);
    }
    obs.finish(&mut out);
    out
}

/// A TCP conversation: handshake, then each payload as one segment in the given direction.
fn tcp_session(port: u16, payloads: &[(bool, Vec<u8>)]) -> Vec<Observation> {
    let mut frames = vec![tcp(true, port, 99, SYN, &[]), tcp(false, port, 499, SYN | ACK, &[])];
    let (mut cs, mut ss) = (100u32, 500u32);
    for (to_server, p) in payloads {
        if *to_server {
            frames.push(tcp(true, port, cs, PSH_ACK, p));
            cs += p.len() as u32;
        } else {
            frames.push(tcp(false, port, ss, PSH_ACK, p));
            ss += p.len() as u32;
        }
    }
    observe(&frames)
}

fn apps(obs: &[Observation]) -> Vec<otwatch_detect::observation::AppMessage> {
    obs.iter()
        .filter_map(|o| match &o.kind {
            Kind::App(m) => Some(*m),
            _ => None,
        })
        .collect()
}

#[test]
fn packets_signals_and_flows() {
    let obs = observe(&[
        tcp(true, 502, 99, SYN, &[]),         // attempt
        tcp(false, 502, 499, SYN | ACK, &[]), // accept
        tcp(true, 502, 100, RST, &[]),        // reset
    ]);
    let packets: Vec<_> = obs
        .iter()
        .filter_map(|o| match o.kind {
            Kind::Packet(p) => Some((p, o.direction, o.flow)),
            _ => None,
        })
        .collect();
    assert_eq!(packets.len(), 3);
    assert!(packets[0].0.new_flow && !packets[1].0.new_flow);
    assert_eq!(packets[0].0.ttl, 64);
    assert_eq!(packets[0].1, Some(Direction::ToServer));
    assert_eq!(packets[1].1, Some(Direction::ToClient));
    assert!(packets[0].2.is_some() && packets[0].2 == packets[2].2);
    let signals: Vec<_> = obs
        .iter()
        .filter_map(|o| match o.kind {
            Kind::Tcp(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(signals, [TcpSignal::Attempt, TcpSignal::Accept, TcpSignal::Reset]);
    let first = &obs[0];
    assert_eq!(first.frame, 1);
    assert_eq!(first.src.ip, Some(Ipv4Addr::from(CLIENT).into()));
    assert_eq!(first.dst.port, Some(502));
    assert_eq!(first.src.mac.map(|m| m.to_string()).as_deref(), Some("00:1d:9c:00:00:01"));
}

#[test]
fn arp_icmp_link_and_eicar() {
    let mut arp = vec![0xff; 6]; // destination: broadcast
    arp.extend_from_slice(&[0x00, 0x1d, 0x9c, 0, 0, 1]); // source MAC
    arp.extend_from_slice(&[0x08, 0x06]); // EtherType ARP
    arp.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet, IPv4, sizes, request
    arp.extend_from_slice(&[0x00, 0x1d, 0x9c, 0, 0, 1, 10, 0, 0, 1]); // sender MAC, IP
    arp.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 7]); // target MAC (unknown), IP
    let mut icmp = eth_ipv4(true, 1, 8);
    icmp.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]); // echo request, code, checksum, id, seq
    let mut lldp = vec![0x01, 0x80, 0xc2, 0, 0, 0x0e]; // LLDP multicast
    lldp.extend_from_slice(&[0x00, 0x0e, 0x8c, 0, 0, 9]); // source MAC
    lldp.extend_from_slice(&[0x88, 0xcc, 0x00, 0x00]); // EtherType LLDP, end TLV
    let eicar = udp(
        true,
        9999,
        b"hello X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    );
    let obs = observe(&[arp, icmp, lldp, eicar]);
    assert!(obs.iter().any(|o| matches!(o.kind, Kind::Arp(a) if a.is_request() && a.target_ip == Ipv4Addr::new(10, 0, 0, 7))));
    assert!(obs.iter().any(|o| matches!(o.kind, Kind::Icmp(i) if i.is_echo_request())));
    assert!(obs.iter().any(|o| matches!(o.kind, Kind::Link(l) if l.name == "lldp")));
    assert!(obs.iter().any(
        |o| matches!(o.kind, Kind::PayloadMatch(m) if m.pattern == Pattern::Eicar && m.offset == 6)
    ));
}

/// A Modbus/TCP ADU: MBAP (transaction 1, protocol 0, length, unit 1) + PDU.
fn mbap(pdu: &[u8]) -> Vec<u8> {
    let mut a = vec![0, 1, 0, 0]; // transaction id 1, protocol id 0
    a.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes()); // length (unit + PDU)
    a.push(1); // unit id
    a.extend_from_slice(pdu);
    a
}

#[test]
fn modbus_requests_exceptions_identity_and_umas() {
    let obs = tcp_session(
        502,
        &[
            (true, mbap(&[0x03, 0x00, 0x10, 0x00, 0x04])), // FC 3 read holding registers 16..20
            (false, mbap(&[0x83, 0x02])),                  // exception: illegal data address
        ],
    );
    let m = apps(&obs);
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].protocol, m[0].role, m[0].function, m[0].operation),
        (Protocol::Modbus, Role::Request, 3, Operation::Read)
    );
    assert_eq!(m[0].unit, Some(1));
    assert_eq!(m[0].ranges.as_slice()[0].space, "holding_registers");
    assert_eq!((m[0].ranges.as_slice()[0].start, m[0].ranges.as_slice()[0].count), (16, 4));
    assert_eq!((m[1].status, m[1].error_code, m[1].function), (Some(Status::Error), Some(2), 0x83));

    let id = mbap(&[
        0x2b, 0x0e, 0x01, 0x01, // FC 43, MEI 14, basic, conformity 1
        0x00, 0x00, 0x03, // more follows no, next object 0, three objects
        0x00, 0x04, b'A', b'c', b'm', b'e', // vendor name
        0x01, 0x03, b'P', b'4', b'2', // product code
        0x02, 0x04, b'V', b'2', b'.', b'1', // revision
    ]);
    let obs = tcp_session(502, &[(true, mbap(&[0x2b, 0x0e, 0x01, 0x00])), (false, id)]);
    let ident = obs.iter().find_map(|o| match &o.kind {
        Kind::Identity(i) => Some((i.clone(), o.src.ip)),
        _ => None,
    });
    let (ident, from) = ident.expect("identity");
    assert_eq!(ident.vendor.as_deref(), Some("Acme"));
    assert_eq!(ident.firmware.as_deref(), Some("V2.1"));
    assert_eq!(from, Some(Ipv4Addr::from(SERVER).into()));

    let stop = tcp_session(502, &[(true, mbap(&[0x5a, 0x00, 0x41]))]); // UMAS stop PLC
    assert_eq!(apps(&stop)[0].operation, Operation::Stop);
}

#[test]
fn dnp3_cold_restart_and_iin() {
    use otwatch_dissect::dnp3::{LinkControl, encode_link};
    let mut req = Vec::new();
    // DIR|PRM, unconfirmed user data; to outstation 10 from master 1;
    // transport FIR|FIN seq 0; application FIR|FIN seq 0, FC 13 cold restart.
    encode_link(LinkControl(0xc4), 10, 1, &[0xc0, 0xc0, 0x0d], &mut req).unwrap();
    let mut resp = Vec::new();
    // PRM from the outstation; application FIR|FIN, FC 129 response, IIN1.7 restart + IIN2.1 object unknown.
    encode_link(LinkControl(0x44), 1, 10, &[0xc0, 0xc0, 0x81, 0x80, 0x02], &mut resp).unwrap();
    let m = apps(&tcp_session(20000, &[(true, req), (false, resp)]));
    assert_eq!(
        (m[0].function, m[0].operation, m[0].unit, m[0].source_unit),
        (13, Operation::ColdRestart, Some(10), Some(1))
    );
    assert_eq!(m[0].function_name, Some("Cold Restart"));
    assert_eq!(
        (m[1].role, m[1].iin, m[1].status),
        (Role::Response, Some(0x8002), Some(Status::Error))
    );
}

#[test]
fn s7_stop_and_start() {
    fn s7_job(param: &[u8]) -> Vec<u8> {
        let mut s7 = vec![0x32, 0x01, 0, 0, 0, 1]; // protocol id, Job, redundancy id, PDU ref 1
        s7.extend_from_slice(&(param.len() as u16).to_be_bytes()); // parameter length
        s7.extend_from_slice(&[0, 0]); // data length
        s7.extend_from_slice(param);
        let mut t = vec![0x03, 0x00]; // TPKT version 3
        t.extend_from_slice(&((7 + s7.len()) as u16).to_be_bytes()); // TPKT length
        t.extend_from_slice(&[0x02, 0xf0, 0x80]); // COTP DT, EOT
        t.extend_from_slice(&s7);
        t
    }
    // PLC Stop: function 0x29, five reserved bytes, service name length 9, "P_PROGRAM".
    let stop =
        s7_job(&[0x29, 0, 0, 0, 0, 0, 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M']);
    // PI service: function 0x28, seven reserved bytes, empty parameter block, "P_PROGRAM" (start).
    let start = s7_job(&[
        0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
    ]);
    let m = apps(&tcp_session(102, &[(true, stop), (true, start)]));
    assert_eq!(
        (m[0].protocol, m[0].operation, m[0].function),
        (Protocol::S7comm, Operation::Stop, 0x29)
    );
    assert_eq!(m[0].symbol.map(|s| s.to_string()).as_deref(), Some("P_PROGRAM"));
    assert_eq!(m[1].operation, Operation::Start);
}

#[test]
fn iec104_command_with_cause_and_common_address() {
    let apdu = vec![
        0x68, 0x0e, 0x00, 0x00, 0x00, 0x00, // start, length 14, I-format N(S)=0 N(R)=0
        0x2d, 0x01, 0x06, 0x00, // C_SC_NA_1, one object, cause 6 (activation), originator 0
        0x07, 0x00, // common address 7
        0x01, 0x00, 0x00, 0x01, // IOA 1, SCO: on
    ];
    let m = apps(&tcp_session(2404, &[(true, apdu)]));
    assert_eq!(
        (m[0].function, m[0].function_name, m[0].operation),
        (45, Some("C_SC_NA_1"), Operation::Command)
    );
    assert_eq!((m[0].role, m[0].cot, m[0].common_address), (Role::Request, Some(6), Some(7)));
}

#[test]
fn cip_reset_on_identity_object() {
    let cip = [0x05, 0x02, 0x20, 0x01, 0x24, 0x01]; // Reset, path 2 words: class 1, instance 1
    let mut data = vec![0, 0, 0, 0, 0x0a, 0x00, 0x02, 0x00]; // interface handle, timeout 10, two items
    data.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // null address item
    data.extend_from_slice(&[0xb2, 0x00, cip.len() as u8, 0x00]); // unconnected data item
    data.extend_from_slice(&cip);
    let mut enc = vec![0x6f, 0x00]; // SendRRData
    enc.extend_from_slice(&(data.len() as u16).to_le_bytes()); // length
    enc.extend_from_slice(&[1, 0, 0, 0]); // session handle
    enc.extend_from_slice(&[0; 4]); // status
    enc.extend_from_slice(&[0; 8]); // sender context
    enc.extend_from_slice(&[0; 4]); // options
    enc.extend_from_slice(&data);
    let m = apps(&tcp_session(44818, &[(true, enc)]));
    let reset = m.iter().find(|a| a.protocol == Protocol::Cip).expect("a CIP request");
    assert_eq!((reset.function, reset.operation), (0x05, Operation::ColdRestart));
    assert_eq!(reset.object, Some(Object { class: 1, instance: Some(1), attribute: None }));
}

#[test]
fn bacnet_reinitialize_and_i_am() {
    // BVLC original unicast, NPDU (version 1, expecting reply), confirmed request
    // reinitializeDevice (20), invoke id 1, state coldstart (context tag 0).
    let reinit = [0x81, 0x0a, 0x00, 0x0d, 0x01, 0x04, 0x00, 0x05, 0x01, 0x14, 0x09, 0x00, 0x00];
    // I-Am: device 1234, max APDU 1476, segmentation none (3), vendor 8.
    let i_am = [
        0x81, 0x0b, 0x00, 0x14, 0x01, 0x00, // BVLC broadcast, length 20, NPDU
        0x10, 0x00, // unconfirmed, I-Am
        0xc4, 0x02, 0x00, 0x04, 0xd2, // object id: device, instance 1234
        0x22, 0x05, 0xc4, // max APDU 1476
        0x91, 0x03, // segmentation: none
        0x21, 0x08, // vendor id 8
    ];
    let obs = observe(&[udp(true, 47808, &reinit[..12]), udp(false, 47808, &i_am)]);
    let m = apps(&obs);
    assert_eq!((m[0].function, m[0].operation), (20, Operation::ColdRestart));
    assert_eq!((m[1].role, m[1].unit), (Role::Unsolicited, Some(1234)));
    assert!(obs.iter().any(|o| matches!(&o.kind, Kind::Identity(i) if i.details.iter().any(|(k, v)| *k == "device_instance" && v == "1234"))));
}

#[test]
fn dns_http_basic_and_dhcp() {
    let query = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // id, RD, one question
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, // example.com
        0, 1, 0, 1, // type A, class IN
    ];
    let obs = observe(&[udp(true, 53, &query)]);
    assert!(obs.iter().any(|o| matches!(&o.kind, Kind::Dns(d) if d.name == "example.com" && d.qtype == 1 && !d.response)));

    let req = b"GET /admin HTTP/1.1\r\nHost: plc.local\r\nUser-Agent: probe/1.0\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n".to_vec();
    let resp = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".to_vec();
    let obs = tcp_session(80, &[(true, req), (false, resp)]);
    let http = obs.iter().find_map(|o| match &o.kind {
        Kind::Http(h) => Some(h.clone()),
        _ => None,
    });
    let http = http.expect("an HTTP request");
    assert_eq!(
        (http.path.as_str(), http.host.as_deref(), http.user_agent.as_deref()),
        ("/admin", Some("plc.local"), Some("probe/1.0"))
    );
    assert_eq!(http.header_count, 3);
    let logins: Vec<_> = obs
        .iter()
        .filter_map(|o| match &o.kind {
            Kind::Login(l) => Some(l.outcome),
            _ => None,
        })
        .collect();
    assert_eq!(logins, [LoginOutcome::Attempt, LoginOutcome::Failure]);

    let mut dhcp = vec![1, 1, 6, 0, 0, 0, 0, 1, 0, 0, 0, 0]; // request, Ethernet, hlen 6, xid 1
    dhcp.extend_from_slice(&[0; 16]); // ciaddr, yiaddr, siaddr, giaddr
    dhcp.extend_from_slice(&[0x00, 0x1d, 0x9c, 0, 0, 1]); // chaddr
    dhcp.extend_from_slice(&[0; 10 + 64 + 128]); // chaddr padding, sname, file
    dhcp.extend_from_slice(&[99, 130, 83, 99]); // magic cookie
    dhcp.extend_from_slice(&[53, 1, 1]); // DHCP Discover
    dhcp.extend_from_slice(&[12, 4, b'h', b'm', b'i', b'1']); // host name
    dhcp.push(255); // end
    let mut f = eth_ipv4(true, 17, 8 + dhcp.len());
    f.extend_from_slice(&68u16.to_be_bytes()); // client port
    f.extend_from_slice(&67u16.to_be_bytes()); // server port
    f.extend_from_slice(&(8 + dhcp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&dhcp);
    let obs = observe(&[f]);
    assert!(obs.iter().any(|o| matches!(&o.kind, Kind::Dhcp(d) if d.message_type == Some(1) && d.host_name.as_deref() == Some("hmi1"))));
}

#[test]
fn ftp_failed_sign_in() {
    let obs = tcp_session(
        21,
        &[
            (false, b"220 ready\r\n".to_vec()),
            (true, b"USER operator\r\n".to_vec()),
            (false, b"331 password\r\n".to_vec()),
            (true, b"PASS secret\r\n".to_vec()),
            (false, b"530 Login incorrect\r\n".to_vec()),
        ],
    );
    let logins: Vec<_> = obs
        .iter()
        .filter_map(|o| match &o.kind {
            Kind::Login(l) => Some((l.outcome, l.user.clone())),
            _ => None,
        })
        .collect();
    assert!(logins.contains(&(LoginOutcome::Failure, Some("operator".into()))), "{logins:?}");
}

#[test]
fn malformed_modbus_is_reported_with_anomaly_names() {
    // FC 3 with a quantity of 0: framable, wrong.
    let obs = tcp_session(502, &[(true, mbap(&[0x03, 0x00, 0x00, 0x00, 0x00]))]);
    let bad = obs.iter().find_map(|o| match &o.kind {
        Kind::Malformed(m) => Some(*m),
        _ => None,
    });
    let bad = bad.expect("malformed");
    assert_eq!(bad.protocol, Protocol::Modbus);
    assert!(
        bad.anomalies.as_slice().contains(&"modbus.quantity_out_of_range"),
        "{:?}",
        bad.anomalies
    );
}
