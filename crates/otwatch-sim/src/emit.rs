//! The packet queue between the actors and the file: orders frames by time and streams them out.
//!
//! Actors run in time order and emit frames stamped at or after their run
//! time (ARP exchanges may be stamped up to [`BACKDATE`] earlier). A frame is
//! written once no future run can produce an earlier one, so the queue holds
//! only the frames of the next few milliseconds and memory stays flat. Ties
//! are broken by (actor, per-actor counter), never by insertion order, so the
//! file is the same whatever else runs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// How far before its run time an actor may stamp a frame (ARP before the first packet).
pub const BACKDATE: u64 = 2_000;

/// A protocol layer that tshark lists in `frame.protocols` and that the manifest counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Layer {
    /// ARP.
    Arp,
    /// IPv4.
    Ip,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// DHCP.
    Dhcp,
    /// DNS.
    Dns,
    /// HTTP.
    Http,
    /// Modbus/TCP (MBAP).
    Mbtcp,
    /// Modbus PDU.
    Modbus,
    /// TPKT (RFC 1006).
    Tpkt,
    /// COTP (ISO 8073).
    Cotp,
    /// S7comm.
    S7comm,
    /// EtherNet/IP encapsulation.
    Enip,
    /// CIP.
    Cip,
    /// CIP connection manager.
    Cipcm,
    /// CIP class-3 connected explicit messages.
    Cipcls,
    /// CIP class-1 I/O.
    Cipio,
    /// DNP3.
    Dnp3,
    /// IEC 60870-5-104 APCI.
    Iec104,
    /// IEC 60870-5-101/104 ASDU.
    Iec104Asdu,
    /// BACnet virtual link control.
    Bvlc,
    /// BACnet NPDU.
    Bacnet,
    /// BACnet APDU.
    Bacapp,
    /// Undissected payload.
    Data,
}

impl Layer {
    /// Every layer, in declaration order.
    pub const ALL: [Layer; 25] = [
        Layer::Arp,
        Layer::Ip,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmp,
        Layer::Dhcp,
        Layer::Dns,
        Layer::Http,
        Layer::Mbtcp,
        Layer::Modbus,
        Layer::Tpkt,
        Layer::Cotp,
        Layer::S7comm,
        Layer::Enip,
        Layer::Cip,
        Layer::Cipcm,
        Layer::Cipcls,
        Layer::Cipio,
        Layer::Dnp3,
        Layer::Iec104,
        Layer::Iec104Asdu,
        Layer::Bvlc,
        Layer::Bacnet,
        Layer::Bacapp,
        Layer::Data,
    ];

    /// tshark's protocol name.
    pub fn tshark_name(self) -> &'static str {
        match self {
            Layer::Arp => "arp",
            Layer::Ip => "ip",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Dhcp => "dhcp",
            Layer::Dns => "dns",
            Layer::Http => "http",
            Layer::Mbtcp => "mbtcp",
            Layer::Modbus => "modbus",
            Layer::Tpkt => "tpkt",
            Layer::Cotp => "cotp",
            Layer::S7comm => "s7comm",
            Layer::Enip => "enip",
            Layer::Cip => "cip",
            Layer::Cipcm => "cipcm",
            Layer::Cipcls => "cipcls",
            Layer::Cipio => "cipio",
            Layer::Dnp3 => "dnp3",
            Layer::Iec104 => "iec60870_104",
            Layer::Iec104Asdu => "iec60870_asdu",
            Layer::Bvlc => "bvlc",
            Layer::Bacnet => "bacnet",
            Layer::Bacapp => "bacapp",
            Layer::Data => "data",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of [`Layer`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layers(pub u32);

impl Layers {
    /// The set of the given layers.
    pub fn of(layers: &[Layer]) -> Layers {
        Layers(layers.iter().fold(0, |a, l| a | l.bit()))
    }

    /// Whether `l` is in the set.
    pub fn has(self, l: Layer) -> bool {
        self.0 & l.bit() != 0
    }

    /// The union.
    pub fn with(self, other: Layers) -> Layers {
        Layers(self.0 | other.0)
    }
}

/// What one PDU in a frame is, as tshark would count it.
#[derive(Clone, Debug, PartialEq)]
pub enum Rec {
    /// A Modbus/TCP PDU.
    Modbus {
        /// Unit identifier.
        unit: u8,
        /// Function code (without the exception bit).
        fc: u8,
        /// Exception code of an exception response.
        exception: Option<u8>,
        /// Device identification strings in a FC 43/14 response.
        ident: Vec<String>,
    },
    /// One DNP3 link-layer frame; `app` is set on the frame that completes an application fragment.
    Dnp3 {
        /// Link source address.
        src: u16,
        /// Link destination address.
        dst: u16,
        /// DIR bit (set by the master).
        from_master: bool,
        /// Primary function code (PRM set) or secondary.
        link_fn: u8,
        /// PRM bit.
        primary: bool,
        /// Application layer, when this link frame completes a fragment.
        app: Option<Box<Dnp3App>>,
    },
    /// One S7comm PDU.
    S7 {
        /// ROSCTR.
        rosctr: u8,
        /// Job / Ack_Data function.
        func: Option<u8>,
        /// Userdata: function group, subfunction, type.
        userdata: Option<(u8, u8, u8)>,
        /// SZL id read or returned.
        szl: Option<u16>,
        /// PI service name.
        pi: Option<String>,
        /// Block file names in block control functions.
        blocks: Vec<String>,
    },
    /// A COTP PDU without S7 payload (connection request/confirm).
    Cotp,
    /// One IEC 60870-5-104 APDU.
    Iec104 {
        /// 'I', 'S' or 'U'.
        apci: char,
        /// U-frame function bits as tshark's `iec60870_104.utype`.
        utype: Option<u8>,
        /// The ASDU of an I-frame.
        asdu: Option<Iec104Asdu>,
    },
    /// One BACnet/IP message.
    Bacnet {
        /// BVLC function.
        bvlc: u8,
        /// APDU type (`bacapp.type`), confirmed or unconfirmed service.
        apdu: Option<BacApdu>,
    },
    /// One EtherNet/IP encapsulation message.
    Enip {
        /// Encapsulation command.
        command: u16,
        /// Carried over UDP.
        udp: bool,
        /// CIP services: (service code without the reply bit, reply?, top level?).
        cip: Vec<(u8, bool, bool)>,
        /// The message is a Forward Open / Forward Close (tshark adds `cipcm`).
        cm: bool,
    },
    /// A class-1 CIP I/O datagram.
    CipIo,
    /// A DNS message.
    Dns,
    /// A DHCP message.
    Dhcp,
    /// An HTTP request or response.
    Http,
}

/// A DNP3 application fragment as the manifest counts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Dnp3App {
    /// Function code.
    pub func: u8,
    /// Object headers: (group, variation).
    pub objects: Vec<(u8, u8)>,
    /// IIN1.7 device restart set (responses only).
    pub restart: bool,
}

/// An IEC 60870-5-104 ASDU as the manifest counts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Iec104Asdu {
    /// Type identification.
    pub type_id: u8,
    /// Cause of transmission (6 bits).
    pub cot: u8,
    /// Common address.
    pub ca: u16,
    /// Number of information objects.
    pub ioas: u16,
    /// P/N bit.
    pub negative: bool,
}

/// A BACnet APDU as the manifest counts it.
#[derive(Clone, Debug, PartialEq)]
pub struct BacApdu {
    /// PDU type (0 confirmed request, 1 unconfirmed, 2 simple ACK, 3 complex ACK, …).
    pub pdu_type: u8,
    /// Confirmed service choice.
    pub confirmed: Option<u8>,
    /// Unconfirmed service choice.
    pub unconfirmed: Option<u8>,
    /// I-Am: device instance and vendor id.
    pub i_am: Option<(u32, u16)>,
}

/// What the simulator knows about one frame it wrote.
#[derive(Clone, Debug, Default)]
pub struct FrameInfo {
    /// The layers tshark will list.
    pub layers: Layers,
    /// The PDUs completed in this frame.
    pub recs: Vec<Rec>,
    /// Written malformed on purpose (a scenario).
    pub malformed: bool,
    /// The first SYN of a TCP connection (tshark starts a new stream).
    pub new_stream: bool,
}

/// One frame waiting to be written.
#[derive(Debug)]
pub struct Frame {
    /// Capture time, microseconds since the epoch.
    pub ts: u64,
    /// Emitting actor.
    pub actor: u32,
    /// Per-actor sequence number.
    pub n: u64,
    /// The bytes, from the Ethernet header.
    pub data: Vec<u8>,
    /// What it carries.
    pub info: FrameInfo,
}

impl PartialEq for Frame {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Frame {}
impl PartialOrd for Frame {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Frame {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.ts, o.actor, o.n).cmp(&(self.ts, self.actor, self.n))
    }
}

/// Collects frames from actors and hands them out in time order.
#[derive(Debug, Default)]
pub struct Emitter {
    heap: BinaryHeap<Frame>,
    actor: u32,
    counters: Vec<u64>,
    /// The run time of the current actor; frames must not be stamped much earlier.
    pub now: u64,
}

impl Emitter {
    /// Sets the actor whose frames follow.
    pub fn set_actor(&mut self, actor: u32, now: u64) {
        self.actor = actor;
        self.now = now;
        if self.counters.len() <= actor as usize {
            self.counters.resize(actor as usize + 1, 0);
        }
    }

    /// Queues one frame.
    pub fn push(&mut self, ts: u64, data: Vec<u8>, info: FrameInfo) {
        debug_assert!(ts + BACKDATE >= self.now, "frame stamped {ts} before run time {}", self.now);
        let c = &mut self.counters[self.actor as usize];
        *c += 1;
        self.heap.push(Frame { ts, actor: self.actor, n: *c, data, info });
    }

    /// The earliest queued frame if it is stamped before `limit`.
    pub fn pop_before(&mut self, limit: u64) -> Option<Frame> {
        if self.heap.peek().is_some_and(|f| f.ts < limit) { self.heap.pop() } else { None }
    }

    /// Frames still queued.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
