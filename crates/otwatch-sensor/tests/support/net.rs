//! Hand-built captures for detection tests: Ethernet/IPv4/TCP/UDP/ICMP/ARP
//! frames with correct lengths, checksums and TCP sequence numbers, and the
//! payloads of the protocols otwatch decodes, written from their public
//! specifications (no capture bytes are copied).

#![allow(dead_code)]

use std::net::Ipv4Addr;

use otwatch_sensor::Packet;
use otwatch_wire::LinkType;

/// A device on the test network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
}

/// `10.0.0.n` with a Rockwell-OUI MAC ending in `n`.
pub fn host(n: u8) -> Host {
    Host { mac: [0x00, 0x1d, 0x9c, 0x00, 0x00, n], ip: Ipv4Addr::new(10, 0, 0, n) }
}

/// A host at any IPv4 address (MAC derived from it).
pub fn host_at(ip: [u8; 4]) -> Host {
    Host { mac: [0x02, 0x00, ip[0], ip[1], ip[2], ip[3]], ip: Ipv4Addr::from(ip) }
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 { u16::from_be_bytes([c[0], c[1]]) } else { u16::from(c[0]) << 8 };
        acc += u32::from(w);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8], id: u16) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![0x45, 0, (total >> 8) as u8, total as u8];
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = fold(sum16(&h, 0));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn l4_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    fold(sum16(seg, sum16(&pseudo, 0)))
}

/// TCP flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A capture being built: frames with nanosecond timestamps.
#[derive(Clone, Debug)]
pub struct Capture {
    pub frames: Vec<(u64, Vec<u8>)>,
    pub t_ns: u64,
    ip_id: u16,
    next_port: u16,
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

impl Capture {
    /// An empty capture starting at 2023-11-14T22:13:20Z.
    pub fn new() -> Capture {
        Capture { frames: Vec::new(), t_ns: 1_700_000_000_000_000_000, ip_id: 1, next_port: 40000 }
    }

    /// Moves time on.
    pub fn wait_ms(&mut self, ms: u64) {
        self.t_ns += ms * 1_000_000;
    }

    /// A fresh client port.
    pub fn port(&mut self) -> u16 {
        self.next_port = self.next_port.wrapping_add(1).max(1024);
        self.next_port
    }

    /// Appends an Ethernet frame at the current time (then 100 µs later).
    pub fn eth(&mut self, src: [u8; 6], dst: [u8; 6], ether_type: u16, payload: &[u8]) {
        let mut f = Vec::with_capacity(14 + payload.len());
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        self.frames.push((self.t_ns, f));
        self.t_ns += 100_000;
    }

    fn ip_frame(&mut self, src: &Host, dst: &Host, dst_mac: [u8; 6], proto: u8, l4: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let ip = ipv4(src.ip, dst.ip, proto, l4, self.ip_id);
        self.eth(src.mac, dst_mac, 0x0800, &ip);
    }

    /// One TCP segment.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_segment(
        &mut self,
        src: &Host,
        dst: &Host,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let mut seg = Vec::with_capacity(20 + payload.len());
        seg.extend_from_slice(&sport.to_be_bytes());
        seg.extend_from_slice(&dport.to_be_bytes());
        seg.extend_from_slice(&seq.to_be_bytes());
        seg.extend_from_slice(&ack.to_be_bytes());
        seg.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        seg.extend_from_slice(payload);
        let c = l4_checksum(src.ip, dst.ip, 6, &seg);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
        self.ip_frame(src, dst, dst.mac, 6, &seg);
    }

    /// A connection attempt (SYN) only.
    pub fn syn(&mut self, c: &Host, s: &Host, sport: u16, dport: u16) {
        self.tcp_segment(c, s, sport, dport, 1000, 0, SYN, &[]);
    }

    /// A refusal (RST-ACK) from `s`.
    pub fn rst(&mut self, s: &Host, c: &Host, sport: u16, dport: u16) {
        self.tcp_segment(s, c, sport, dport, 0, 1001, RST | ACK, &[]);
    }

    /// A TCP connection: the three-way handshake.
    pub fn connect(&mut self, c: &Host, s: &Host, dport: u16) -> Conn {
        let cport = self.port();
        self.tcp_segment(c, s, cport, dport, 1000, 0, SYN, &[]);
        self.tcp_segment(s, c, dport, cport, 5000, 1001, SYN | ACK, &[]);
        self.tcp_segment(c, s, cport, dport, 1001, 5001, ACK, &[]);
        Conn { c: *c, s: *s, cport, sport: dport, cseq: 1001, sseq: 5001 }
    }

    /// A UDP datagram.
    pub fn udp(&mut self, src: &Host, dst: &Host, sport: u16, dport: u16, payload: &[u8]) {
        self.udp_to(src, dst, dst.mac, sport, dport, payload);
    }

    /// A UDP datagram to a given MAC (broadcast, multicast).
    pub fn udp_to(
        &mut self,
        src: &Host,
        dst: &Host,
        dst_mac: [u8; 6],
        sport: u16,
        dport: u16,
        payload: &[u8],
    ) {
        let len = 8 + payload.len();
        let mut seg = Vec::with_capacity(len);
        seg.extend_from_slice(&sport.to_be_bytes());
        seg.extend_from_slice(&dport.to_be_bytes());
        seg.extend_from_slice(&(len as u16).to_be_bytes());
        seg.extend_from_slice(&[0, 0]);
        seg.extend_from_slice(payload);
        let c = l4_checksum(src.ip, dst.ip, 17, &seg);
        seg[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
        self.ip_frame(src, dst, dst_mac, 17, &seg);
    }

    /// An ICMP echo request.
    pub fn ping(&mut self, src: &Host, dst: &Host, seq: u16) {
        let mut m = vec![8, 0, 0, 0, 0x12, 0x34];
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(b"otwatch-test-ping");
        let c = fold(sum16(&m, 0));
        m[2..4].copy_from_slice(&c.to_be_bytes());
        self.ip_frame(src, dst, dst.mac, 1, &m);
    }

    /// An ARP packet (1 request, 2 reply).
    pub fn arp(&mut self, op: u16, sender: &Host, target_mac: [u8; 6], target_ip: Ipv4Addr) {
        let mut a = vec![0, 1, 8, 0, 6, 4];
        a.extend_from_slice(&op.to_be_bytes());
        a.extend_from_slice(&sender.mac);
        a.extend_from_slice(&sender.ip.octets());
        a.extend_from_slice(&target_mac);
        a.extend_from_slice(&target_ip.octets());
        let dst = if op == 1 { [0xff; 6] } else { target_mac };
        self.eth(sender.mac, dst, 0x0806, &a);
    }

    /// The frames as packets for the pipeline.
    pub fn packets(&self) -> impl Iterator<Item = Packet<'_>> {
        self.frames.iter().map(|(ts, f)| Packet {
            ts_ns: *ts,
            link_type: LinkType(1),
            orig_len: f.len() as u32,
            data: f,
            file: 0,
        })
    }

    /// The capture as a classic pcap file (microsecond timestamps).
    pub fn pcap(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (ts, f) in &self.frames {
            out.extend_from_slice(&((ts / 1_000_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&(((ts % 1_000_000_000) / 1000) as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }
}

/// An open TCP connection with its sequence numbers.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    pub c: Host,
    pub s: Host,
    pub cport: u16,
    pub sport: u16,
    pub cseq: u32,
    pub sseq: u32,
}

impl Conn {
    /// Client → server data (split at 1400 bytes).
    pub fn send(&mut self, cap: &mut Capture, data: &[u8]) {
        for chunk in data.chunks(1400) {
            cap.tcp_segment(
                &self.c,
                &self.s,
                self.cport,
                self.sport,
                self.cseq,
                self.sseq,
                PSH | ACK,
                chunk,
            );
            self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
        }
    }

    /// Server → client data.
    pub fn reply(&mut self, cap: &mut Capture, data: &[u8]) {
        for chunk in data.chunks(1400) {
            cap.tcp_segment(
                &self.s,
                &self.c,
                self.sport,
                self.cport,
                self.sseq,
                self.cseq,
                PSH | ACK,
                chunk,
            );
            self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
        }
    }

    /// A request and its answer.
    pub fn exchange(&mut self, cap: &mut Capture, request: &[u8], response: &[u8]) {
        self.send(cap, request);
        cap.wait_ms(2);
        self.reply(cap, response);
        cap.wait_ms(2);
    }
}

// ---------------------------------------------------------------- Modbus/TCP

/// A Modbus/TCP ADU: MBAP header (transaction, protocol 0, length, unit) and PDU.
pub fn modbus(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    modbus_proto(tid, 0, unit, pdu)
}

/// A Modbus/TCP ADU with an explicit protocol identifier.
pub fn modbus_proto(tid: u16, proto: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(7 + pdu.len());
    a.extend_from_slice(&tid.to_be_bytes());
    a.extend_from_slice(&proto.to_be_bytes());
    a.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    a.push(unit);
    a.extend_from_slice(pdu);
    a
}

/// Read Holding Registers request.
pub fn mb_read(start: u16, qty: u16) -> Vec<u8> {
    let mut p = vec![3];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&qty.to_be_bytes());
    p
}

/// Read Holding Registers response with `qty` zero registers.
pub fn mb_read_resp(qty: u16) -> Vec<u8> {
    let mut p = vec![3, (qty * 2) as u8];
    p.extend(std::iter::repeat_n(0u8, usize::from(qty) * 2));
    p
}

/// Write Multiple Registers request.
pub fn mb_write(start: u16, values: &[u16]) -> Vec<u8> {
    let mut p = vec![16];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&(values.len() as u16).to_be_bytes());
    p.push((values.len() * 2) as u8);
    for v in values {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p
}

/// Write Multiple Registers response.
pub fn mb_write_resp(start: u16, qty: u16) -> Vec<u8> {
    let mut p = vec![16];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&qty.to_be_bytes());
    p
}

// ---------------------------------------------------------------- DNP3

fn dnp3_crc(data: &[u8]) -> [u8; 2] {
    let mut crc: u16 = 0;
    for b in data {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xA6BC } else { crc >> 1 };
        }
    }
    (!crc).to_le_bytes()
}

/// A DNP3 link frame carrying one transport segment with the whole
/// application fragment `app` (FIR|FIN). `from_master` sets DIR.
pub fn dnp3(dst: u16, src: u16, from_master: bool, app: &[u8]) -> Vec<u8> {
    let mut user = vec![0xC0]; // transport: FIN | FIR, sequence 0
    user.extend_from_slice(app);
    let ctrl: u8 = if from_master { 0xC4 } else { 0x44 };
    let mut header = vec![0x05, 0x64, (5 + user.len()) as u8, ctrl];
    header.extend_from_slice(&dst.to_le_bytes());
    header.extend_from_slice(&src.to_le_bytes());
    let crc = dnp3_crc(&header);
    let mut f = header;
    f.extend_from_slice(&crc);
    for block in user.chunks(16) {
        f.extend_from_slice(block);
        f.extend_from_slice(&dnp3_crc(block));
    }
    f
}

/// A DNP3 request application fragment: control (FIR|FIN, seq 1), function, objects.
pub fn dnp3_request(function: u8, objects: &[u8]) -> Vec<u8> {
    let mut a = vec![0xC1, function];
    a.extend_from_slice(objects);
    a
}

/// A DNP3 response application fragment with IIN (IIN1 high byte, IIN2 low byte).
pub fn dnp3_response(iin: u16, objects: &[u8]) -> Vec<u8> {
    let mut a = vec![0xC1, 0x81];
    a.extend_from_slice(&iin.to_be_bytes());
    a.extend_from_slice(objects);
    a
}

/// Object header "all objects" of group/variation (qualifier 0x06).
pub fn dnp3_all(group: u8, variation: u8) -> Vec<u8> {
    vec![group, variation, 0x06]
}

// ---------------------------------------------------------------- S7comm

/// TPKT + COTP DT + S7 PDU.
pub fn s7_tpkt(s7: &[u8]) -> Vec<u8> {
    let len = 4 + 3 + s7.len();
    let mut t = vec![0x03, 0x00, (len >> 8) as u8, len as u8, 0x02, 0xf0, 0x80];
    t.extend_from_slice(s7);
    t
}

/// TPKT + COTP connection request (and confirm with `confirm`).
pub fn cotp_connect(confirm: bool) -> Vec<u8> {
    let code = if confirm { 0xd0 } else { 0xe0 };
    let body = [
        code, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc1, 0x02, 0x01, 0x00, 0xc2, 0x02, 0x01, 0x02, 0xc0,
        0x01, 0x0a,
    ];
    let len = 4 + 1 + body.len();
    let mut t = vec![0x03, 0x00, (len >> 8) as u8, len as u8, body.len() as u8];
    t.extend_from_slice(&body);
    t
}

/// An S7 job (ROSCTR 1) with parameters and data.
pub fn s7_job(pdu_ref: u16, params: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s = vec![0x32, 0x01, 0x00, 0x00];
    s.extend_from_slice(&pdu_ref.to_be_bytes());
    s.extend_from_slice(&(params.len() as u16).to_be_bytes());
    s.extend_from_slice(&(data.len() as u16).to_be_bytes());
    s.extend_from_slice(params);
    s.extend_from_slice(data);
    s7_tpkt(&s)
}

/// An S7 Ack_Data (ROSCTR 3) with no error.
pub fn s7_ack(pdu_ref: u16, params: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s = vec![0x32, 0x03, 0x00, 0x00];
    s.extend_from_slice(&pdu_ref.to_be_bytes());
    s.extend_from_slice(&(params.len() as u16).to_be_bytes());
    s.extend_from_slice(&(data.len() as u16).to_be_bytes());
    s.extend_from_slice(&[0x00, 0x00]);
    s.extend_from_slice(params);
    s.extend_from_slice(data);
    s7_tpkt(&s)
}

/// An S7 userdata request (ROSCTR 7) of a function group and subfunction.
pub fn s7_userdata(pdu_ref: u16, group: u8, sub: u8, data: &[u8]) -> Vec<u8> {
    let params = [0x00, 0x01, 0x12, 0x04, 0x11, 0x40 | group, sub, 0x00];
    let mut s = vec![0x32, 0x07, 0x00, 0x00];
    s.extend_from_slice(&pdu_ref.to_be_bytes());
    s.extend_from_slice(&(params.len() as u16).to_be_bytes());
    s.extend_from_slice(&(data.len() as u16).to_be_bytes());
    s.extend_from_slice(&params);
    s.extend_from_slice(data);
    s7_tpkt(&s)
}

/// An S7 userdata response (ROSCTR 7, type response) of a function group and subfunction.
pub fn s7_userdata_response(pdu_ref: u16, group: u8, sub: u8, data: &[u8]) -> Vec<u8> {
    let params = [0x00, 0x01, 0x12, 0x08, 0x12, 0x80 | group, sub, 0x01, 0x00, 0x00, 0x00, 0x00];
    let mut s = vec![0x32, 0x07, 0x00, 0x00];
    s.extend_from_slice(&pdu_ref.to_be_bytes());
    s.extend_from_slice(&(params.len() as u16).to_be_bytes());
    s.extend_from_slice(&(data.len() as u16).to_be_bytes());
    s.extend_from_slice(&params);
    s.extend_from_slice(data);
    s7_tpkt(&s)
}

/// Setup communication parameters.
pub const S7_SETUP: [u8; 8] = [0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0];

/// Read Var parameters for `len` bytes of DB `db` at byte 0.
pub fn s7_read_db(db: u16, len: u16) -> Vec<u8> {
    let mut p = vec![0x04, 0x01, 0x12, 0x0a, 0x10, 0x02];
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&db.to_be_bytes());
    p.extend_from_slice(&[0x84, 0x00, 0x00, 0x00]);
    p
}

/// Write Var parameters and data for 4 bytes of DB `db` at byte 0.
pub fn s7_write_db(db: u16) -> (Vec<u8>, Vec<u8>) {
    let mut p = vec![0x05, 0x01, 0x12, 0x0a, 0x10, 0x02, 0x00, 0x04];
    p.extend_from_slice(&db.to_be_bytes());
    p.extend_from_slice(&[0x84, 0x00, 0x00, 0x00]);
    (p, vec![0x00, 0x04, 0x00, 0x20, 1, 2, 3, 4])
}

/// PLC Stop parameters (with the P_PROGRAM PI service name).
pub fn s7_stop() -> Vec<u8> {
    let mut p = vec![0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09];
    p.extend_from_slice(b"P_PROGRAM");
    p
}

/// Request download (function 0x1a) of block OB1.
pub fn s7_request_download() -> Vec<u8> {
    let mut p = vec![0x1a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09];
    p.extend_from_slice(b"_0800001P");
    p.push(0x0d);
    p.extend_from_slice(b"1000132000064");
    p
}

/// Start upload (function 0x1d) of block OB1.
pub fn s7_start_upload() -> Vec<u8> {
    let mut p = vec![0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09];
    p.extend_from_slice(b"_0800001P");
    p
}

// ---------------------------------------------------------------- EtherNet/IP and CIP

/// An encapsulation message.
pub fn enip(command: u16, session: u32, status: u32, data: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(24 + data.len());
    e.extend_from_slice(&command.to_le_bytes());
    e.extend_from_slice(&(data.len() as u16).to_le_bytes());
    e.extend_from_slice(&session.to_le_bytes());
    e.extend_from_slice(&status.to_le_bytes());
    e.extend_from_slice(&[0; 8]);
    e.extend_from_slice(&[0; 4]);
    e.extend_from_slice(data);
    e
}

/// RegisterSession request data.
pub const REGISTER: [u8; 4] = [1, 0, 0, 0];

/// SendRRData carrying one CIP message (unconnected).
pub fn send_rr(session: u32, cip: &[u8]) -> Vec<u8> {
    let mut d = vec![0, 0, 0, 0, 0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb2, 0x00];
    d.extend_from_slice(&(cip.len() as u16).to_le_bytes());
    d.extend_from_slice(cip);
    enip(0x6f, session, 0, &d)
}

/// A CIP request to class/instance (8-bit segments), optional attribute, with data.
pub fn cip_request(
    service: u8,
    class: u8,
    instance: u8,
    attribute: Option<u8>,
    data: &[u8],
) -> Vec<u8> {
    let mut path = vec![0x20, class, 0x24, instance];
    if let Some(a) = attribute {
        path.extend_from_slice(&[0x30, a]);
    }
    let mut m = vec![service, (path.len() / 2) as u8];
    m.extend_from_slice(&path);
    m.extend_from_slice(data);
    m
}

/// A CIP response with a general status.
pub fn cip_response(service: u8, status: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![service | 0x80, 0x00, status, 0x00];
    m.extend_from_slice(data);
    m
}

/// A ListIdentity reply describing a device with the given revision.
pub fn list_identity_reply(ip: Ipv4Addr, major: u8, minor: u8, name: &str) -> Vec<u8> {
    let mut item = vec![0x01, 0x00]; // encapsulation protocol version
    item.extend_from_slice(&[0x00, 0x02, 0xaf, 0x12]); // sin_family, sin_port 44818 (big-endian)
    item.extend_from_slice(&ip.octets());
    item.extend_from_slice(&[0; 8]);
    item.extend_from_slice(&1u16.to_le_bytes()); // vendor: Rockwell
    item.extend_from_slice(&14u16.to_le_bytes()); // device type: PLC
    item.extend_from_slice(&55u16.to_le_bytes()); // product code
    item.extend_from_slice(&[major, minor]);
    item.extend_from_slice(&0x0030u16.to_le_bytes());
    item.extend_from_slice(&0x00c0_ffeeu32.to_le_bytes());
    item.push(name.len() as u8);
    item.extend_from_slice(name.as_bytes());
    item.push(0x03);
    let mut d = vec![0x01, 0x00, 0x0c, 0x00];
    d.extend_from_slice(&(item.len() as u16).to_le_bytes());
    d.extend_from_slice(&item);
    enip(0x63, 0, 0, &d)
}

// ---------------------------------------------------------------- BACnet/IP

/// BVLC Original-Unicast-NPDU with an NPDU (expecting reply when `reply`) and APDU.
pub fn bacnet(reply: bool, apdu: &[u8]) -> Vec<u8> {
    let npdu = [0x01, if reply { 0x04 } else { 0x00 }];
    let len = 4 + npdu.len() + apdu.len();
    let mut b = vec![0x81, 0x0a, (len >> 8) as u8, len as u8];
    b.extend_from_slice(&npdu);
    b.extend_from_slice(apdu);
    b
}

/// A BACnet object identifier (type, instance) as context tag `tag`.
pub fn bacnet_object(tag: u8, object_type: u16, instance: u32) -> Vec<u8> {
    let v = (u32::from(object_type) << 22) | (instance & 0x3f_ffff);
    let mut o = vec![(tag << 4) | 0x08 | 4];
    o.extend_from_slice(&v.to_be_bytes());
    o
}

/// A confirmed request (service choice and data).
pub fn bacnet_confirmed(invoke: u8, service: u8, data: &[u8]) -> Vec<u8> {
    let mut a = vec![0x00, 0x05, invoke, service];
    a.extend_from_slice(data);
    a
}

/// ReadProperty of `property` on an object.
pub fn bacnet_read_property(invoke: u8, object_type: u16, instance: u32, property: u8) -> Vec<u8> {
    let mut d = bacnet_object(0, object_type, instance);
    d.extend_from_slice(&[0x19, property]);
    bacnet_confirmed(invoke, 12, &d)
}

/// A SimpleACK.
pub fn bacnet_simple_ack(invoke: u8, service: u8) -> Vec<u8> {
    vec![0x20, invoke, service]
}

/// An Error PDU (class and code as enumerations).
pub fn bacnet_error(invoke: u8, service: u8, class: u8, code: u8) -> Vec<u8> {
    vec![0x50, invoke, service, 0x91, class, 0x91, code]
}

// ---------------------------------------------------------------- IEC 60870-5-104

/// STARTDT act (U-format).
pub const STARTDT_ACT: [u8; 6] = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];
/// STARTDT con (U-format).
pub const STARTDT_CON: [u8; 6] = [0x68, 0x04, 0x0b, 0x00, 0x00, 0x00];

/// An I-format APDU with one ASDU: type, cause (with P/N bit `negative`),
/// common address, one object at `ioa` with `element` bytes.
#[allow(clippy::too_many_arguments)]
pub fn iec104(
    send_seq: u16,
    recv_seq: u16,
    type_id: u8,
    cot: u8,
    negative: bool,
    ca: u16,
    ioa: u32,
    element: &[u8],
) -> Vec<u8> {
    let mut asdu = vec![type_id, 0x01, cot | if negative { 0x40 } else { 0 }, 0x00];
    asdu.extend_from_slice(&ca.to_le_bytes());
    asdu.extend_from_slice(&ioa.to_le_bytes()[..3]);
    asdu.extend_from_slice(element);
    let mut a = vec![0x68, (4 + asdu.len()) as u8];
    a.extend_from_slice(&(send_seq << 1).to_le_bytes());
    a.extend_from_slice(&(recv_seq << 1).to_le_bytes());
    a.extend_from_slice(&asdu);
    a
}

// ---------------------------------------------------------------- IT protocols

/// A DNS query (or, with `rcode`, a response with that code and the `answers`).
pub fn dns(id: u16, name: &str, rcode: Option<u8>, answers: &[Ipv4Addr]) -> Vec<u8> {
    let flags: u16 = match rcode {
        None => 0x0100,
        Some(r) => 0x8180 | u16::from(r),
    };
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    for a in answers {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        m.extend_from_slice(&a.octets());
    }
    m
}

/// An HTTP/1.1 request.
pub fn http_get(host: &str, path: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n"
    )
    .into_bytes()
}

/// A DHCP message of `kind` (1 Discover, 2 Offer, 3 Request, 5 Ack, 6 Nak) for a client MAC.
pub fn dhcp(kind: u8, xid: u32, client_mac: [u8; 6]) -> Vec<u8> {
    let op = if matches!(kind, 2 | 5 | 6) { 2 } else { 1 };
    let mut m = vec![op, 1, 6, 0];
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0x80, 0]);
    m.extend_from_slice(&[0; 16]);
    m.extend_from_slice(&client_mac);
    m.extend_from_slice(&[0; 10]);
    m.extend_from_slice(&[0; 64]);
    m.extend_from_slice(&[0; 128]);
    m.extend_from_slice(&[0x63, 0x82, 0x53, 0x63, 53, 1, kind, 255]);
    m
}

/// The EICAR anti-virus test string.
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
