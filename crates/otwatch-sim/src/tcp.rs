//! TCP connections as real stacks play them: handshake, sequence and acknowledgement numbers,
//! MSS segmentation, delayed ACKs, retransmissions, FIN teardown and resets.
//!
//! A [`Conn`] is owned by exactly one actor, which drives both directions in
//! time order, so every acknowledgement covers only data already on the wire.

use std::net::Ipv4Addr;

use crate::emit::{Emitter, FrameInfo, Layer, Layers, Rec};
use crate::rng::Rng;
use crate::wire::{self, Ip, L2, Tcp, flags};

/// One end of a connection.
#[derive(Clone, Debug)]
pub struct Side {
    /// MACs of frames this side sends.
    pub l2: L2,
    /// Address.
    pub ip: Ipv4Addr,
    /// Port.
    pub port: u16,
    /// Initial TTL of the host's stack.
    pub ttl: u8,
    /// Whether the stack sets don't-fragment.
    pub df: bool,
    /// Advertised receive window.
    pub window: u16,
    /// Advertised MSS.
    pub mss: u16,
    /// Whether the SYN offers SACK.
    pub sack: bool,
    /// Next sequence number to send.
    pub seq: u32,
    /// Next IP identification.
    pub ip_id: u16,
}

impl Side {
    /// A side with a random initial sequence number and IP id.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        l2: L2,
        ip: Ipv4Addr,
        port: u16,
        ttl: u8,
        df: bool,
        window: u16,
        mss: u16,
        sack: bool,
        rng: &mut Rng,
    ) -> Side {
        Side {
            l2,
            ip,
            port,
            ttl,
            df,
            window,
            mss,
            sack,
            seq: rng.next_u32(),
            ip_id: rng.next_u16(),
        }
    }
}

/// Direction of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl Dir {
    /// The other direction.
    pub fn flip(self) -> Dir {
        match self {
            Dir::C2S => Dir::S2C,
            Dir::S2C => Dir::C2S,
        }
    }
}

/// One application PDU handed to TCP, with what tshark will see when it completes.
#[derive(Clone, Debug)]
pub struct Pdu {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Layers present in the frame where it completes.
    pub layers: Layers,
    /// Records for the manifest.
    pub recs: Vec<Rec>,
    /// Written malformed on purpose.
    pub malformed: bool,
}

impl Pdu {
    /// A PDU with one record.
    pub fn new(bytes: Vec<u8>, layers: &[Layer], rec: Rec) -> Pdu {
        Pdu { bytes, layers: Layers::of(layers), recs: vec![rec], malformed: false }
    }
}

/// Time on the wire of `len` bytes at 100 Mbit/s, in microseconds (at least 5).
pub fn wire_time(len: usize) -> u64 {
    ((len as u64) * 8 / 100).max(5)
}

/// A TCP connection between a client and a server.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The side that connects.
    pub c: Side,
    /// The side that listens.
    pub s: Side,
}

impl Conn {
    /// A connection between two prepared sides.
    pub fn new(c: Side, s: Side) -> Conn {
        Conn { c, s }
    }

    fn sides(&mut self, d: Dir) -> (&mut Side, &Side) {
        match d {
            Dir::C2S => (&mut self.c, &self.s),
            Dir::S2C => (&mut self.s, &self.c),
        }
    }

    /// Emits one segment from `d` with the current sequence numbers; returns its wire time.
    #[allow(clippy::too_many_arguments)]
    fn segment(
        &mut self,
        em: &mut Emitter,
        ts: u64,
        d: Dir,
        fl: u8,
        options: &[u8],
        payload: &[u8],
        info: FrameInfo,
    ) -> u64 {
        let (me, peer) = self.sides(d);
        let ack = if fl & flags::ACK != 0 { peer.seq } else { 0 };
        let ip = Ip { src: me.ip, dst: peer.ip, ttl: me.ttl, id: me.ip_id, df: me.df };
        me.ip_id = me.ip_id.wrapping_add(1);
        let tcp = Tcp {
            sport: me.port,
            dport: peer.port,
            seq: me.seq,
            ack,
            flags: fl,
            window: me.window,
            options,
        };
        let frame = wire::tcp_frame(me.l2, &ip, &tcp, payload);
        let len = frame.len();
        let mut info = info;
        info.layers = info.layers.with(Layers::of(&[Layer::Ip, Layer::Tcp]));
        em.push(ts, frame, info);
        wire_time(len)
    }

    /// The client's first SYN. Returns the time after it.
    pub fn syn(&mut self, em: &mut Emitter, t: u64) -> u64 {
        let opts = wire::syn_options(self.c.mss, self.c.sack);
        let info = FrameInfo { new_stream: true, ..FrameInfo::default() };
        let w = self.segment(em, t, Dir::C2S, flags::SYN, &opts, &[], info);
        t + w
    }

    /// A repeated SYN with the same initial sequence number (a retransmission).
    pub fn syn_again(&mut self, em: &mut Emitter, t: u64) -> u64 {
        let opts = wire::syn_options(self.c.mss, self.c.sack);
        let w = self.segment(em, t, Dir::C2S, flags::SYN, &opts, &[], FrameInfo::default());
        t + w
    }

    /// Three-way handshake starting at `t`; `rtt` is the server's answer delay.
    /// Returns the time the client's ACK is on the wire.
    pub fn handshake(&mut self, em: &mut Emitter, t: u64, rtt: u64) -> u64 {
        let t1 = self.syn(em, t);
        self.c.seq = self.c.seq.wrapping_add(1);
        let t2 = t1 + rtt;
        let opts = wire::syn_options(self.s.mss, self.s.sack);
        let w = self.segment(
            em,
            t2,
            Dir::S2C,
            flags::SYN | flags::ACK,
            &opts,
            &[],
            FrameInfo::default(),
        );
        self.s.seq = self.s.seq.wrapping_add(1);
        let t3 = t2 + w + 60 + rtt / 8;
        self.segment(em, t3, Dir::C2S, flags::ACK, &[], &[], FrameInfo::default());
        t3
    }

    /// Sends PDUs from `d`, split into segments of at most the peer's MSS.
    /// Returns the time the last segment is on the wire.
    pub fn send(&mut self, em: &mut Emitter, t: u64, d: Dir, pdus: Vec<Pdu>) -> u64 {
        let mss = usize::from(self.c.mss.min(self.s.mss));
        let total: usize = pdus.iter().map(|p| p.bytes.len()).sum();
        let mut stream = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(pdus.len());
        for p in &pdus {
            stream.extend_from_slice(&p.bytes);
            ends.push(stream.len());
        }
        let mut pdus = pdus.into_iter().zip(ends).peekable();
        let mut at = 0;
        let mut ts = t;
        while at < stream.len() {
            let end = (at + mss).min(stream.len());
            let mut info = FrameInfo::default();
            while let Some((_, e)) = pdus.peek() {
                if *e > end {
                    break;
                }
                let (p, _) = pdus.next().expect("peeked");
                info.layers = info.layers.with(p.layers);
                info.malformed |= p.malformed;
                info.recs.extend(p.recs);
            }
            let last = end == stream.len();
            let fl = flags::ACK | if last { flags::PSH } else { 0 };
            let w = self.segment(em, ts, d, fl, &[], &stream[at..end], info);
            let (me, _) = self.sides(d);
            me.seq = me.seq.wrapping_add((end - at) as u32);
            at = end;
            if !last {
                ts += w;
            }
        }
        ts
    }

    /// Sends PDUs that the peer never acknowledges: the first transmission at `t`,
    /// then retransmissions after each delay in `rto` (cumulative). Returns the last time.
    pub fn send_unanswered(
        &mut self,
        em: &mut Emitter,
        t: u64,
        d: Dir,
        pdus: Vec<Pdu>,
        rto: &[u64],
    ) -> u64 {
        let bytes: Vec<u8> = pdus.iter().flat_map(|p| p.bytes.iter().copied()).collect();
        let start_seq = self.sides(d).0.seq;
        let mut last = self.send(em, t, d, pdus);
        let mut at = t;
        for delay in rto {
            at += delay;
            let (me, _) = self.sides(d);
            let end_seq = me.seq;
            me.seq = start_seq;
            self.segment(em, at, d, flags::ACK | flags::PSH, &[], &bytes, FrameInfo::default());
            self.sides(d).0.seq = end_seq;
            last = at;
        }
        last
    }

    /// A pure ACK from `d`.
    pub fn ack(&mut self, em: &mut Emitter, t: u64, d: Dir) {
        self.segment(em, t, d, flags::ACK, &[], &[], FrameInfo::default());
    }

    /// Orderly close started by `d`: FIN/ACK, the peer's FIN/ACK, the last ACK.
    /// Returns the time of the last ACK.
    pub fn close(&mut self, em: &mut Emitter, t: u64, d: Dir, rtt: u64) -> u64 {
        self.segment(em, t, d, flags::FIN | flags::ACK, &[], &[], FrameInfo::default());
        self.sides(d).0.seq = self.sides(d).0.seq.wrapping_add(1);
        let t2 = t + rtt;
        self.segment(em, t2, d.flip(), flags::FIN | flags::ACK, &[], &[], FrameInfo::default());
        self.sides(d.flip()).0.seq = self.sides(d.flip()).0.seq.wrapping_add(1);
        let t3 = t2 + 40 + rtt / 4;
        self.segment(em, t3, d, flags::ACK, &[], &[], FrameInfo::default());
        t3
    }

    /// An abortive close from `d` (RST/ACK).
    pub fn reset(&mut self, em: &mut Emitter, t: u64, d: Dir) {
        self.segment(em, t, d, flags::RST | flags::ACK, &[], &[], FrameInfo::default());
    }

    /// The server answers a SYN on a closed port with RST/ACK.
    pub fn refuse(&mut self, em: &mut Emitter, t: u64) {
        // RFC 9293 3.10.7.1: seq 0, ack = SYN's seq + 1.
        self.s.seq = 0;
        self.c.seq = self.c.seq.wrapping_add(1);
        self.segment(em, t, Dir::S2C, flags::RST | flags::ACK, &[], &[], FrameInfo::default());
    }

    /// The server answers a SYN with SYN/ACK (a half-open probe).
    pub fn accept_syn(&mut self, em: &mut Emitter, t: u64) {
        self.c.seq = self.c.seq.wrapping_add(1);
        let opts = wire::syn_options(self.s.mss, self.s.sack);
        self.segment(em, t, Dir::S2C, flags::SYN | flags::ACK, &opts, &[], FrameInfo::default());
        self.s.seq = self.s.seq.wrapping_add(1);
    }

    /// The client tears a half-open probe down with a bare RST.
    pub fn probe_reset(&mut self, em: &mut Emitter, t: u64) {
        self.segment(em, t, Dir::C2S, flags::RST, &[], &[], FrameInfo::default());
    }

    /// A host that lost the connection's state (rebooted) answers a segment from the
    /// other side with a bare RST whose sequence number is that segment's ACK (RFC 9293 3.10.7.1).
    pub fn reset_unknown(&mut self, em: &mut Emitter, t: u64, d: Dir) {
        self.segment(em, t, d, flags::RST, &[], &[], FrameInfo::default());
    }
}
