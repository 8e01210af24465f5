//! What the simulator wrote, counted from its own model of each frame (never by re-parsing the
//! protocols), in the shape of `pcap-truth.sh`'s JSON so tshark's counts can be compared key by key.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::emit::{Frame, Layer, Rec};
use crate::time::SEC;
use crate::wire::Mac;

type Counts<K> = BTreeMap<K, u64>;

fn bump<K: Ord>(m: &mut Counts<K>, k: K) {
    *m.entry(k).or_insert(0) += 1;
}

#[derive(Default, Debug)]
struct Modbus {
    frames: u64,
    pdus: u64,
    requests: u64,
    responses: u64,
    fc: Counts<u8>,
    fc_req: Counts<u8>,
    fc_resp: Counts<u8>,
    exceptions: u64,
    units: Counts<u8>,
    servers: BTreeSet<Ipv4Addr>,
    clients: BTreeSet<Ipv4Addr>,
    ident: BTreeSet<(Ipv4Addr, String)>,
}

#[derive(Default, Debug)]
struct Dnp3 {
    frames: u64,
    link_frames: u64,
    app: Counts<u8>,
    pri: Counts<u8>,
    sec: Counts<u8>,
    pairs: Counts<String>,
    masters: BTreeSet<u16>,
    outstations: BTreeSet<u16>,
    objects: Counts<(u8, u8)>,
    restart: u64,
}

#[derive(Default, Debug)]
struct S7 {
    frames: u64,
    pdus: u64,
    rosctr: Counts<u8>,
    job: Counts<u8>,
    ack: Counts<u8>,
    userdata: Counts<(u8, u8, u8)>,
    pi: Counts<String>,
    blocks: Counts<String>,
    szl: Counts<u16>,
    servers: BTreeSet<Ipv4Addr>,
    clients: BTreeSet<Ipv4Addr>,
}

#[derive(Default, Debug)]
struct Iec104 {
    frames: u64,
    apdus: u64,
    apci: Counts<char>,
    u: Counts<u8>,
    types: Counts<u8>,
    cot: Counts<u8>,
    ca: Counts<u16>,
    ioas: u64,
    negative: u64,
    servers: BTreeSet<Ipv4Addr>,
    clients: BTreeSet<Ipv4Addr>,
}

#[derive(Default, Debug)]
struct Bacnet {
    frames: u64,
    bvlc: Counts<u8>,
    apdu: Counts<u8>,
    conf: Counts<u8>,
    unconf: Counts<u8>,
    i_am: BTreeMap<(Ipv4Addr, u32), (u16, u64)>,
}

#[derive(Default, Debug)]
struct Enip {
    frames: u64,
    cmd_tcp: Counts<u16>,
    cmd_udp: Counts<u16>,
    svc_req: Counts<u8>,
    svc_resp: Counts<u8>,
    io_frames: u64,
    servers: BTreeSet<Ipv4Addr>,
    clients: BTreeSet<Ipv4Addr>,
}

/// Running totals over the frames written.
#[derive(Default, Debug)]
pub struct Tally {
    /// Frames written.
    pub packets: u64,
    /// Sum of frame lengths.
    pub wire_bytes: u64,
    /// First frame time (µs).
    pub first_ts: Option<u64>,
    /// Last frame time (µs).
    pub last_ts: u64,
    /// Frames written malformed on purpose.
    pub malformed: u64,
    streams: u64,
    macs: BTreeSet<Mac>,
    ips: BTreeSet<Ipv4Addr>,
    layers: [u64; Layer::ALL.len()],
    modbus: Modbus,
    dnp3: Dnp3,
    s7: S7,
    iec: Iec104,
    bacnet: Bacnet,
    enip: Enip,
}

/// Addresses and ports of a frame, read back from the headers the simulator wrote.
struct Hdr {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
}

fn hdr(d: &[u8]) -> Option<Hdr> {
    if d.len() < 38 || d[12..14] != [0x08, 0x00] {
        return None;
    }
    let src = Ipv4Addr::new(d[26], d[27], d[28], d[29]);
    let dst = Ipv4Addr::new(d[30], d[31], d[32], d[33]);
    let (sport, dport) = if matches!(d[23], 6 | 17) {
        (u16::from_be_bytes([d[34], d[35]]), u16::from_be_bytes([d[36], d[37]]))
    } else {
        (0, 0)
    };
    Some(Hdr { src, dst, sport, dport })
}

/// Request / response / unknown by server port, as pcap-truth decides it.
fn direction(h: &Hdr, server_port: u16) -> Option<bool> {
    if h.dport == server_port && h.sport != server_port {
        Some(true)
    } else if h.sport == server_port && h.dport != server_port {
        Some(false)
    } else {
        None
    }
}

impl Tally {
    /// Counts one written frame.
    pub fn add(&mut self, f: &Frame) {
        self.packets += 1;
        self.wire_bytes += f.data.len() as u64;
        self.first_ts.get_or_insert(f.ts);
        self.last_ts = f.ts;
        if f.info.malformed {
            self.malformed += 1;
        }
        if f.info.new_stream {
            self.streams += 1;
        }
        let d = &f.data;
        let mut m = [0u8; 6];
        m.copy_from_slice(&d[0..6]);
        self.macs.insert(Mac(m));
        m.copy_from_slice(&d[6..12]);
        self.macs.insert(Mac(m));
        let h = hdr(d);
        if let Some(h) = &h {
            self.ips.insert(h.src);
            self.ips.insert(h.dst);
        }
        for l in Layer::ALL {
            if f.info.layers.has(l) {
                self.layers[l as usize] += 1;
            }
        }
        let l = f.info.layers;
        if l.has(Layer::Mbtcp) {
            self.modbus.frames += 1;
        }
        if l.has(Layer::Dnp3) {
            self.dnp3.frames += 1;
        }
        if l.has(Layer::S7comm) {
            self.s7.frames += 1;
            if let Some(h) = &h {
                match direction(h, 102) {
                    Some(true) => {
                        self.s7.servers.insert(h.dst);
                        self.s7.clients.insert(h.src);
                    }
                    Some(false) => {
                        self.s7.servers.insert(h.src);
                        self.s7.clients.insert(h.dst);
                    }
                    None => {}
                }
            }
        }
        if l.has(Layer::Iec104) {
            self.iec.frames += 1;
            if let Some(h) = &h {
                match direction(h, 2404) {
                    Some(true) => {
                        self.iec.servers.insert(h.dst);
                        self.iec.clients.insert(h.src);
                    }
                    Some(false) => {
                        self.iec.servers.insert(h.src);
                        self.iec.clients.insert(h.dst);
                    }
                    None => {}
                }
            }
        }
        if l.has(Layer::Bvlc) || l.has(Layer::Bacnet) || l.has(Layer::Bacapp) {
            self.bacnet.frames += 1;
        }
        if l.has(Layer::Cipio) {
            self.enip.io_frames += 1;
        } else if l.has(Layer::Enip) {
            self.enip.frames += 1;
            if let Some(h) = &h
                && d[23] == 6
            {
                match direction(h, 44818) {
                    Some(true) => {
                        self.enip.servers.insert(h.dst);
                        self.enip.clients.insert(h.src);
                    }
                    Some(false) => {
                        self.enip.servers.insert(h.src);
                        self.enip.clients.insert(h.dst);
                    }
                    None => {}
                }
            }
        }
        for r in &f.info.recs {
            self.rec(r, h.as_ref());
        }
    }

    fn rec(&mut self, r: &Rec, h: Option<&Hdr>) {
        match r {
            Rec::Modbus { unit, fc, exception, ident } => {
                let mb = &mut self.modbus;
                mb.pdus += 1;
                bump(&mut mb.units, *unit);
                bump(&mut mb.fc, *fc);
                if exception.is_some() {
                    mb.exceptions += 1;
                }
                if let Some(h) = h {
                    match direction(h, 502) {
                        Some(true) => {
                            mb.requests += 1;
                            bump(&mut mb.fc_req, *fc);
                            mb.servers.insert(h.dst);
                            mb.clients.insert(h.src);
                        }
                        Some(false) => {
                            mb.responses += 1;
                            bump(&mut mb.fc_resp, *fc);
                            mb.servers.insert(h.src);
                            mb.clients.insert(h.dst);
                        }
                        None => {}
                    }
                    for v in ident {
                        mb.ident.insert((h.src, v.clone()));
                    }
                }
            }
            Rec::Dnp3 { src, dst, from_master, link_fn, primary, app } => {
                let dn = &mut self.dnp3;
                dn.link_frames += 1;
                bump(&mut dn.pairs, format!("{src}->{dst}"));
                if *from_master {
                    dn.masters.insert(*src);
                } else {
                    dn.outstations.insert(*src);
                }
                if *primary {
                    bump(&mut dn.pri, *link_fn);
                } else {
                    bump(&mut dn.sec, *link_fn);
                }
                if let Some(a) = app {
                    bump(&mut dn.app, a.func);
                    for o in &a.objects {
                        bump(&mut dn.objects, *o);
                    }
                    if a.restart {
                        dn.restart += 1;
                    }
                }
            }
            Rec::S7 { rosctr, func, userdata, szl, pi, blocks } => {
                let s = &mut self.s7;
                s.pdus += 1;
                bump(&mut s.rosctr, *rosctr);
                if let Some(f) = func {
                    match rosctr {
                        1 => bump(&mut s.job, *f),
                        3 => bump(&mut s.ack, *f),
                        _ => {}
                    }
                }
                if let Some(u) = userdata {
                    bump(&mut s.userdata, *u);
                }
                if let Some(z) = szl {
                    bump(&mut s.szl, *z);
                }
                if let Some(p) = pi {
                    bump(&mut s.pi, p.clone());
                }
                for b in blocks {
                    bump(&mut s.blocks, b.clone());
                }
            }
            Rec::Cotp => {}
            Rec::Iec104 { apci, utype, asdu } => {
                let i = &mut self.iec;
                i.apdus += 1;
                bump(&mut i.apci, *apci);
                if let Some(u) = utype {
                    bump(&mut i.u, *u);
                }
                if let Some(a) = asdu {
                    bump(&mut i.types, a.type_id);
                    bump(&mut i.cot, a.cot);
                    bump(&mut i.ca, a.ca);
                    i.ioas += u64::from(a.ioas);
                    if a.negative {
                        i.negative += 1;
                    }
                }
            }
            Rec::Bacnet { bvlc, apdu } => {
                let b = &mut self.bacnet;
                bump(&mut b.bvlc, *bvlc);
                if let Some(a) = apdu {
                    bump(&mut b.apdu, a.pdu_type);
                    if let Some(c) = a.confirmed {
                        bump(&mut b.conf, c);
                    }
                    if let Some(u) = a.unconfirmed {
                        bump(&mut b.unconf, u);
                    }
                    if let (Some((inst, vendor)), Some(h)) = (a.i_am, h) {
                        b.i_am.entry((h.src, inst)).or_insert((vendor, 0)).1 += 1;
                    }
                }
            }
            Rec::Enip { command, udp, cip, .. } => {
                let e = &mut self.enip;
                bump(if *udp { &mut e.cmd_udp } else { &mut e.cmd_tcp }, *command);
                for (sc, resp, top) in cip {
                    if *top {
                        bump(if *resp { &mut e.svc_resp } else { &mut e.svc_req }, *sc);
                    }
                }
            }
            Rec::CipIo | Rec::Dns | Rec::Dhcp | Rec::Http => {}
        }
    }

    /// The counts as JSON, keyed like `pcap-truth.sh`'s output.
    pub fn to_json(&self) -> Value {
        fn num<K: ToString>(m: &Counts<K>) -> Value {
            Value::Object(m.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
        }
        fn hex2(m: &Counts<u8>) -> Value {
            Value::Object(m.iter().map(|(k, v)| (format!("0x{k:02x}"), json!(v))).collect())
        }
        fn ips(s: &BTreeSet<Ipv4Addr>) -> Value {
            json!(s.iter().map(|i| i.to_string()).collect::<Vec<_>>())
        }
        let ts = |us: u64| format!("{}.{:06}000", us / SEC, us % SEC);
        let mut out = serde_json::Map::new();
        let frames_containing: BTreeMap<&str, u64> = Layer::ALL
            .iter()
            .filter(|l| self.layers[**l as usize] > 0 && **l != Layer::Data)
            .map(|l| (l.tshark_name(), self.layers[*l as usize]))
            .collect();
        let ot: BTreeMap<&str, u64> = [
            Layer::Mbtcp,
            Layer::Modbus,
            Layer::Dnp3,
            Layer::Tpkt,
            Layer::Cotp,
            Layer::S7comm,
            Layer::Enip,
            Layer::Cip,
            Layer::Cipcm,
            Layer::Cipcls,
            Layer::Cipio,
            Layer::Bvlc,
            Layer::Bacnet,
            Layer::Bacapp,
            Layer::Iec104,
            Layer::Iec104Asdu,
        ]
        .iter()
        .map(|l| (l.tshark_name(), self.layers[*l as usize]))
        .collect();
        out.insert(
            "capture".into(),
            json!({
                "packets": self.packets,
                "total_wire_bytes": self.wire_bytes,
                "first_ts": self.first_ts.map(ts),
                "last_ts": if self.packets > 0 { Some(ts(self.last_ts)) } else { None },
            }),
        );
        out.insert(
            "addresses".into(),
            json!({
                "macs": self.macs.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                "ipv4": ips(&self.ips),
            }),
        );
        out.insert("tcp".into(), json!({ "streams": self.streams }));
        out.insert(
            "protocols".into(),
            json!({ "frames_containing": frames_containing, "ot_protocol_frames": ot }),
        );
        let mb = &self.modbus;
        if mb.frames > 0 {
            out.insert(
                "modbus".into(),
                json!({
                    "frames": mb.frames,
                    "pdus": mb.pdus,
                    "requests": mb.requests,
                    "responses": mb.responses,
                    "function_codes": num(&mb.fc),
                    "function_codes_requests": num(&mb.fc_req),
                    "function_codes_responses": num(&mb.fc_resp),
                    "exception_responses": mb.exceptions,
                    "unit_ids": num(&mb.units),
                    "servers": ips(&mb.servers),
                    "clients": ips(&mb.clients),
                    "device_identification": mb.ident.iter().map(|(s, v)| json!({"src": s.to_string(), "value": v})).collect::<Vec<_>>(),
                }),
            );
        }
        let dn = &self.dnp3;
        if dn.frames > 0 {
            out.insert(
                "dnp3".into(),
                json!({
                    "frames": dn.frames,
                    "link_frames": dn.link_frames,
                    "app_function_codes": num(&dn.app),
                    "app_fragments": dn.app.values().sum::<u64>(),
                    "unsolicited_responses": dn.app.get(&130).copied().unwrap_or(0),
                    "link_primary_function_codes": num(&dn.pri),
                    "link_secondary_function_codes": num(&dn.sec),
                    "address_pairs": num(&dn.pairs),
                    "master_addresses": dn.masters.iter().collect::<Vec<_>>(),
                    "outstation_addresses": dn.outstations.iter().collect::<Vec<_>>(),
                    "objects": Value::Object(dn.objects.iter().map(|((g, v), n)| (format!("g{g}v{v}"), json!(n))).collect()),
                    "iin_device_restart_responses": dn.restart,
                }),
            );
        }
        let s = &self.s7;
        if s.frames > 0 {
            out.insert(
                "s7comm".into(),
                json!({
                    "frames": s.frames,
                    "pdus": s.pdus,
                    "rosctr": num(&s.rosctr),
                    "job_functions": hex2(&s.job),
                    "ack_data_functions": hex2(&s.ack),
                    "userdata": Value::Object(s.userdata.iter().map(|((g, f, t), n)| (format!("group={g} subfunc={f} type={t}"), json!(n))).collect()),
                    "pi_services": num(&s.pi),
                    "block_filenames": num(&s.blocks),
                    "szl_ids": Value::Object(s.szl.iter().map(|(k, n)| (format!("0x{k:04x}"), json!(n))).collect()),
                    "plc_stop_requests": s.job.get(&0x29).copied().unwrap_or(0),
                    "servers": ips(&s.servers),
                    "clients": ips(&s.clients),
                }),
            );
        }
        let i = &self.iec;
        if i.frames > 0 {
            out.insert(
                "iec104".into(),
                json!({
                    "frames": i.frames,
                    "apdus": i.apdus,
                    "apci_types": num(&i.apci),
                    "u_functions": hex2(&i.u),
                    "asdu_type_ids": num(&i.types),
                    "asdus": i.types.values().sum::<u64>(),
                    "causes_of_transmission": num(&i.cot),
                    "common_addresses": num(&i.ca),
                    "information_objects": i.ioas,
                    "negative_confirmations": i.negative,
                    "servers": ips(&i.servers),
                    "clients": ips(&i.clients),
                }),
            );
        }
        let b = &self.bacnet;
        if b.frames > 0 {
            out.insert(
                "bacnet".into(),
                json!({
                    "frames": b.frames,
                    "bvlc_functions": hex2(&b.bvlc),
                    "apdu_types": num(&b.apdu),
                    "confirmed_services": num(&b.conf),
                    "unconfirmed_services": num(&b.unconf),
                    "i_am_devices": b.i_am.iter().map(|((src, inst), (vendor, n))| json!({"src": src.to_string(), "device_instance": inst, "vendor_id": vendor, "count": n})).collect::<Vec<_>>(),
                }),
            );
        }
        let e = &self.enip;
        if e.frames > 0 || e.io_frames > 0 {
            let hex4 = |m: &Counts<u16>| -> Value {
                Value::Object(m.iter().map(|(k, v)| (format!("0x{k:04x}"), json!(v))).collect())
            };
            out.insert(
                "enip".into(),
                json!({
                    "frames": e.frames,
                    "commands_tcp": hex4(&e.cmd_tcp),
                    "commands_udp": hex4(&e.cmd_udp),
                    "cip_service_requests_top_level": hex2(&e.svc_req),
                    "cip_service_responses_top_level": hex2(&e.svc_resp),
                    "cip_io_frames": e.io_frames,
                    "servers": ips(&e.servers),
                    "clients": ips(&e.clients),
                }),
            );
        }
        Value::Object(out)
    }
}
