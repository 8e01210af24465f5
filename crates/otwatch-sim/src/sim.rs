//! The simulation's shared state and the helpers every actor uses: device availability,
//! ARP caches, ephemeral ports, UDP datagrams and client TCP links that survive a silent
//! or rebooting server the way real stacks do (retransmissions, resets, reconnects).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::emit::{Emitter, FrameInfo, Layer, Layers, Rec};
use crate::plant::{Identity, Plant};
use crate::rng::Rng;
use crate::tcp::{Conn, Dir, Pdu, Side};
use crate::time::{MS, SEC};
use crate::wire::{self, Ip, L2, Mac};

/// How long an ARP entry stays fresh before the host asks again.
pub const ARP_REFRESH: u64 = 20 * 60 * SEC;
/// First plant ephemeral port (IANA dynamic range).
pub const PLANT_PORTS: (u16, u16) = (49152, 60999);
/// Ports used by scenario traffic, disjoint from the plant's.
pub const SCENARIO_PORTS: (u16, u16) = (61000, 65535);

/// Something that acts over time: it runs, emits frames, and says when to run next.
pub trait Actor {
    /// Runs at `now`; returns the next run time (must be after `now`), or `None` when done.
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64>;
}

/// A message from a scenario to a plant actor, read at the plant actor's next run.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// DNP3 master: send a cold restart instead of the next poll.
    Dnp3ColdRestart,
}

/// Per-device mutable state.
#[derive(Clone, Debug)]
pub struct DevState {
    next_port: u16,
    scen_port: u16,
    arp: Vec<(Ipv4Addr, u64)>,
    /// From this time the device answers nothing above ARP.
    pub silent_from: Option<u64>,
    /// The device reboots: unreachable in `[from, to)`, and forgets its TCP connections.
    pub reboot: Option<(u64, u64)>,
    /// From this time the device reports this identity (after a firmware change).
    pub new_identity: Option<(u64, Identity)>,
}

/// The mutable world shared by actors.
#[derive(Debug)]
pub struct World {
    /// Per device, same index as [`Plant::devices`].
    pub dev: Vec<DevState>,
    /// Messages to actors, by actor index.
    pub mailbox: BTreeMap<u32, Vec<Cmd>>,
}

impl World {
    /// Fresh state for a plant.
    pub fn new(plant: &Plant) -> World {
        World {
            dev: plant
                .devices
                .iter()
                .map(|_| DevState {
                    next_port: PLANT_PORTS.0,
                    scen_port: SCENARIO_PORTS.0,
                    arp: Vec::new(),
                    silent_from: None,
                    reboot: None,
                    new_identity: None,
                })
                .collect(),
            mailbox: BTreeMap::new(),
        }
    }
}

/// Whether a server can answer a client whose connection was set up at `since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Avail {
    /// Answers normally.
    Up,
    /// Answers nothing (silent, or rebooting right now).
    Unreachable,
    /// Rebooted after the connection was set up: answers its segments with RST.
    Lost,
}

/// What an actor can reach while it runs.
pub struct Cx<'a> {
    /// The plant layout.
    pub plant: &'a Plant,
    /// Shared mutable state.
    pub world: &'a mut World,
    /// Frame output.
    pub em: &'a mut Emitter,
    /// Index of the running actor.
    pub actor: u32,
    /// Whether the running actor is part of the plant (scenario actors leave the plant's
    /// ARP caches and port counters alone, so the plant's frames do not change).
    pub plant_actor: bool,
}

impl Cx<'_> {
    /// Availability of device `dev` at `now` for a connection set up at `since`.
    pub fn avail(&self, dev: usize, now: u64, since: u64) -> Avail {
        let st = &self.world.dev[dev];
        if st.silent_from.is_some_and(|t| now >= t) {
            return Avail::Unreachable;
        }
        if let Some((a, b)) = st.reboot {
            if now >= a && now < b {
                return Avail::Unreachable;
            }
            if now >= b && since < b {
                return Avail::Lost;
            }
        }
        Avail::Up
    }

    /// The identity a field device reports at `now`.
    pub fn identity(&self, dev: usize, now: u64) -> Identity {
        if let Some((t, id)) = &self.world.dev[dev].new_identity
            && now >= *t
        {
            return id.clone();
        }
        self.plant.devices[dev].identity.clone().unwrap_or_else(|| Identity {
            vendor_name: String::new(),
            model: String::new(),
            firmware: String::new(),
            serial: String::new(),
            vendor_id: 0,
            product_code: 0,
            revision: (0, 0),
        })
    }

    /// A fresh ephemeral port of `dev`.
    pub fn port(&mut self, dev: usize) -> u16 {
        let st = &mut self.world.dev[dev];
        let (slot, range) = if self.plant_actor {
            (&mut st.next_port, PLANT_PORTS)
        } else {
            (&mut st.scen_port, SCENARIO_PORTS)
        };
        let p = *slot;
        *slot = if p >= range.1 { range.0 } else { p + 1 };
        p
    }

    /// Emits the ARP request and reply a host needs before sending to `to` at `t`,
    /// unless its cache entry is fresh. Scenario actors do nothing here.
    pub fn arp(&mut self, dev: usize, t: u64, to: Ipv4Addr) {
        if !self.plant_actor
            || to.is_broadcast()
            || self.plant.zones[self.plant.devices[dev].zone].broadcast() == to
        {
            return;
        }
        let nh = self.plant.next_hop(dev, to);
        self.arp_between(dev, nh, t);
    }

    /// ARP exchange between two devices on the same segment (`a` asks for `b`).
    pub fn arp_between(&mut self, a: usize, b: usize, t: u64) {
        let ip_b = self.plant.devices[b].ip;
        let fresh =
            self.world.dev[a].arp.iter().any(|(ip, at)| *ip == ip_b && t < at + ARP_REFRESH);
        if fresh {
            return;
        }
        let da = &self.plant.devices[a];
        let db = &self.plant.devices[b];
        let req = wire::arp_frame(
            L2 { src: da.mac, dst: Mac::BROADCAST },
            wire::arp_op::REQUEST,
            (da.mac, da.ip),
            (Mac::ZERO, db.ip),
        );
        let rep = wire::arp_frame(
            L2 { src: db.mac, dst: da.mac },
            wire::arp_op::REPLY,
            (db.mac, db.ip),
            (da.mac, da.ip),
        );
        let arp = FrameInfo { layers: Layers::of(&[Layer::Arp]), ..FrameInfo::default() };
        self.em.push(t.saturating_sub(900), req, arp.clone());
        self.em.push(t.saturating_sub(500), rep, arp);
        let (ip_a, ip_b) = (da.ip, db.ip);
        for (x, ip) in [(a, ip_b), (b, ip_a)] {
            let cache = &mut self.world.dev[x].arp;
            cache.retain(|(i, _)| *i != ip);
            cache.push((ip, t));
        }
    }

    /// A TCP side for device `dev` talking to `peer` from `port`.
    pub fn side(&self, dev: usize, peer: Ipv4Addr, port: u16, rng: &mut Rng) -> Side {
        let d = &self.plant.devices[dev];
        let s = d.stack;
        Side::new(self.plant.l2(dev, peer), d.ip, port, s.ttl, s.df, s.window, s.mss, s.sack, rng)
    }

    /// A new connection from `client` (fresh ephemeral port) to `server:port`.
    pub fn conn(&mut self, client: usize, server: usize, port: u16, rng: &mut Rng) -> Conn {
        let cport = self.port(client);
        let sip = self.plant.devices[server].ip;
        let cip = self.plant.devices[client].ip;
        Conn::new(self.side(client, sip, cport, rng), self.side(server, cip, port, rng))
    }

    /// One UDP datagram from device `from`.
    #[allow(clippy::too_many_arguments)]
    pub fn udp(
        &mut self,
        t: u64,
        from: usize,
        to: Ipv4Addr,
        sport: u16,
        dport: u16,
        payload: &[u8],
        layers: &[Layer],
        recs: Vec<Rec>,
        ip_id: u16,
    ) {
        let mut all = vec![Layer::Ip, Layer::Udp];
        all.extend_from_slice(layers);
        let info = FrameInfo { layers: Layers::of(&all), recs, ..FrameInfo::default() };
        self.udp_info(t, from, to, (sport, dport), payload, info, ip_id);
    }

    /// One UDP datagram from device `from` with a prepared frame description.
    #[allow(clippy::too_many_arguments)]
    pub fn udp_info(
        &mut self,
        t: u64,
        from: usize,
        to: Ipv4Addr,
        ports: (u16, u16),
        payload: &[u8],
        info: FrameInfo,
        ip_id: u16,
    ) {
        let d = &self.plant.devices[from];
        let l2 = self.plant.l2(from, to);
        let ip = Ip { src: d.ip, dst: to, ttl: d.stack.ttl, id: ip_id, df: false };
        let frame = wire::udp_frame(l2, &ip, ports.0, ports.1, payload);
        self.em.push(t, frame, info);
    }

    /// A UDP datagram with explicit addresses (DHCP before the client has an address).
    #[allow(clippy::too_many_arguments)]
    pub fn udp_raw(
        &mut self,
        t: u64,
        l2: L2,
        ip: Ip,
        sport: u16,
        dport: u16,
        payload: &[u8],
        layers: &[Layer],
        recs: Vec<Rec>,
    ) {
        let frame = wire::udp_frame(l2, &ip, sport, dport, payload);
        let mut all = vec![Layer::Ip, Layer::Udp];
        all.extend_from_slice(layers);
        self.em.push(
            t,
            frame,
            FrameInfo { layers: Layers::of(&all), recs, ..FrameInfo::default() },
        );
    }
}

/// Outcome of preparing a client link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    /// Requests may be sent from this time; `fresh` when the connection was just opened.
    At {
        /// Time after the handshake (or `now`).
        t: u64,
        /// The connection is new: the protocol must redo its set-up.
        fresh: bool,
    },
    /// Not connected; try again at this time.
    Retry(u64),
}

/// The client end of a long-lived TCP connection to a server device.
#[derive(Clone, Debug)]
pub struct ClientLink {
    /// The client device.
    pub client: usize,
    /// The server device.
    pub server: usize,
    /// Server port.
    pub port: u16,
    /// The connection, when open.
    pub conn: Option<Conn>,
    /// When the open connection was set up.
    pub since: u64,
    /// Server think time range in microseconds.
    pub think: (u64, u64),
    /// How many times the application sends an unanswered request again (1 s apart)
    /// before it gives up on the connection.
    pub repeats: u8,
}

/// Retransmission delays (cumulative steps) of a request that gets no answer.
const DATA_RTO: [u64; 3] = [300 * MS, 600 * MS, 1200 * MS];
/// How long a client waits for an answer before it aborts the connection.
const APP_TIMEOUT: u64 = 3 * SEC;
/// Delay between connection attempts to an unreachable server.
const RECONNECT: u64 = 10 * SEC;

impl ClientLink {
    /// A link that is not connected yet.
    pub fn new(client: usize, server: usize, port: u16, think: (u64, u64)) -> ClientLink {
        ClientLink { client, server, port, conn: None, since: 0, think, repeats: 0 }
    }

    /// Round trip of the handshake: server stack latency plus routing.
    fn rtt(&self, cx: &Cx<'_>, rng: &mut Rng) -> u64 {
        let same = cx.plant.devices[self.client].zone == cx.plant.devices[self.server].zone;
        rng.range(150, 600) + if same { 0 } else { 300 }
    }

    /// Makes sure a connection is open at `now`.
    pub fn ensure(&mut self, now: u64, cx: &mut Cx<'_>, rng: &mut Rng) -> Ready {
        if self.conn.is_some() {
            return Ready::At { t: now, fresh: false };
        }
        let sip = cx.plant.devices[self.server].ip;
        cx.arp(self.client, now, sip);
        let mut c = cx.conn(self.client, self.server, self.port, rng);
        match cx.avail(self.server, now, now) {
            Avail::Up | Avail::Lost => {
                let rtt = self.rtt(cx, rng);
                if cx.plant_actor {
                    cx.arp_between(
                        self.server,
                        cx.plant.next_hop(self.server, cx.plant.devices[self.client].ip),
                        now,
                    );
                }
                let t = c.handshake(cx.em, now, rtt);
                self.conn = Some(c);
                self.since = now;
                Ready::At { t: t + rng.range(200, 2000), fresh: true }
            }
            Avail::Unreachable => {
                c.syn(cx.em, now);
                c.syn_again(cx.em, now + SEC);
                c.syn_again(cx.em, now + 3 * SEC);
                Ready::Retry(now + RECONNECT)
            }
        }
    }

    /// One request/response exchange at `t`. On success returns the time after the
    /// client's ACK; on failure the connection is gone and the time to retry is returned.
    pub fn exchange(
        &mut self,
        t: u64,
        cx: &mut Cx<'_>,
        rng: &mut Rng,
        req: Vec<Pdu>,
        resp: Vec<Pdu>,
    ) -> Result<u64, u64> {
        let avail = cx.avail(self.server, t, self.since);
        let Some(c) = self.conn.as_mut() else {
            return Err(t + SEC);
        };
        match avail {
            Avail::Up => {
                let t1 = c.send(cx.em, t, Dir::C2S, req);
                let t2 = c.send(cx.em, t1 + rng.range(self.think.0, self.think.1), Dir::S2C, resp);
                let t3 = t2 + rng.range(300, 30 * MS);
                c.ack(cx.em, t3, Dir::C2S);
                Ok(t3)
            }
            Avail::Unreachable => {
                c.send_unanswered(cx.em, t, Dir::C2S, req.clone(), &DATA_RTO);
                let repeats = u64::from(self.repeats);
                for i in 1..=repeats {
                    c.send(cx.em, t + i * SEC, Dir::C2S, req.clone());
                }
                let give_up = t + repeats * SEC + APP_TIMEOUT;
                c.reset(cx.em, give_up, Dir::C2S);
                self.conn = None;
                Err(give_up + 2 * SEC)
            }
            Avail::Lost => {
                c.send(cx.em, t, Dir::C2S, req);
                c.reset_unknown(cx.em, t + rng.range(200, 900), Dir::S2C);
                self.conn = None;
                Err(t + rng.range(50 * MS, 300 * MS))
            }
        }
    }

    /// Data from the server that the client acknowledges after its delayed-ACK time.
    /// Returns the time of the ACK, or `None` if the server cannot send.
    pub fn push_from_server(
        &mut self,
        t: u64,
        cx: &mut Cx<'_>,
        rng: &mut Rng,
        pdus: Vec<Pdu>,
    ) -> Option<u64> {
        if cx.avail(self.server, t, self.since) != Avail::Up {
            return None;
        }
        let c = self.conn.as_mut()?;
        let t1 = c.send(cx.em, t, Dir::S2C, pdus);
        let t2 = t1 + rng.range(MS, 200 * MS);
        c.ack(cx.em, t2, Dir::C2S);
        Some(t2)
    }

    /// Data from the client that the server acknowledges (no application answer).
    pub fn push_from_client(
        &mut self,
        t: u64,
        cx: &mut Cx<'_>,
        rng: &mut Rng,
        pdus: Vec<Pdu>,
    ) -> Result<u64, u64> {
        let avail = cx.avail(self.server, t, self.since);
        let Some(c) = self.conn.as_mut() else {
            return Err(t + SEC);
        };
        match avail {
            Avail::Up => {
                let t1 = c.send(cx.em, t, Dir::C2S, pdus);
                let t2 = t1 + rng.range(MS, 50 * MS);
                c.ack(cx.em, t2, Dir::S2C);
                Ok(t2)
            }
            _ => self.exchange(t, cx, rng, pdus, Vec::new()),
        }
    }

    /// Orderly close by the client.
    pub fn close(&mut self, t: u64, cx: &mut Cx<'_>, rng: &mut Rng) -> u64 {
        match self.conn.take() {
            Some(mut c) if cx.avail(self.server, t, self.since) == Avail::Up => {
                let rtt = rng.range(200, 900);
                c.close(cx.em, t, Dir::C2S, rtt)
            }
            _ => t,
        }
    }
}
