//! Matching CIP responses to their requests.
//!
//! A CIP response carries no path: what it answers (the class, the
//! services inside a Multiple Service Packet, the request routed by an
//! Unconnected Send) is known only from the request. [`Transactions`]
//! remembers a compact, owned summary of each request on one
//! encapsulation session (one TCP connection) and hands it back for the
//! response. Unconnected requests are matched by session handle and sender
//! context (the target echoes the context), connected ones by the CIP
//! sequence count (the target echoes it on the reply connection). Memory is
//! bounded by [`MAX_PENDING`] requests and [`MAX_PENDING_NODES`] remembered
//! services (embedded ones included); the oldest request is dropped when
//! either is hit.

use std::collections::VecDeque;

use super::types::{
    CipMessage, ClassId, CommandData, CpfItem, EnipMessage, LogicalType, Segment, ServiceBody,
    ServiceCode, Target,
};

/// Most requests awaiting a response per tracker.
pub const MAX_PENDING: usize = 64;

/// Most services (requests and the services embedded in them) remembered per tracker.
pub const MAX_PENDING_NODES: usize = 2048;

/// Most class ids remembered per request.
pub const MAX_PATH_CLASSES: usize = 8;

/// Most connections (Forward Open replies) remembered per tracker.
pub const MAX_CONNECTIONS: usize = 64;

/// What is remembered of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// Service code.
    pub service: ServiceCode,
    /// What the request addressed.
    pub target: Target,
    /// Instance addressed, if any.
    pub instance: Option<u32>,
    /// Every class id of the request path, in order (at most
    /// [`MAX_PATH_CLASSES`]), then those of a Forward Open/Close
    /// connection path.
    pub classes: Vec<ClassId>,
    /// The services of a Multiple Service Packet, or the one request routed
    /// by an Unconnected Send.
    pub embedded: Vec<RequestInfo>,
}

impl RequestInfo {
    /// The summary of a request message.
    pub fn of(m: &CipMessage<'_>) -> RequestInfo {
        let embedded = match &m.body {
            ServiceBody::MultipleService(_) | ServiceBody::UnconnectedSend(_) => {
                m.embedded().iter().map(RequestInfo::of).collect()
            }
            _ => Vec::new(),
        };
        let mut classes = Vec::new();
        let connection_path = match &m.body {
            ServiceBody::ForwardOpen(fo) => Some(fo.connection_path),
            ServiceBody::ForwardClose(fc) => Some(fc.connection_path),
            _ => None,
        };
        for path in m.path().into_iter().chain(connection_path) {
            for s in path.segments().map_while(Result::ok) {
                if let Segment::Logical { kind: LogicalType::CLASS_ID, value } = s
                    && classes.len() < MAX_PATH_CLASSES
                {
                    classes.push(ClassId(value));
                }
            }
        }
        RequestInfo {
            service: m.service,
            target: m.target(),
            instance: m.path().and_then(|p| p.instance()),
            classes,
            embedded,
        }
    }

    /// How many services this summary holds, itself and embedded ones.
    pub fn nodes(&self) -> usize {
        self.embedded.iter().fold(1usize, |n, e| n.saturating_add(e.nodes()))
    }

    /// The request a response answers, looking through an Unconnected
    /// Send: a successful routed reply is the target's reply itself, so it
    /// answers the embedded request.
    pub fn answered_by(&self, response: &CipMessage<'_>) -> &RequestInfo {
        if self.service == ServiceCode::UNCONNECTED_SEND
            && response.service != ServiceCode::UNCONNECTED_SEND
            && let Some(inner) = self.embedded.first()
        {
            return inner;
        }
        self
    }
}

/// How a request and its response are paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKey {
    /// SendRRData: session handle and sender context.
    Unconnected {
        /// Session handle.
        session: u32,
        /// Sender context.
        context: [u8; 8],
    },
    /// SendUnitData: CIP sequence count.
    Connected {
        /// Sequence count.
        sequence: u16,
    },
}

impl TxKey {
    /// The key of an encapsulation message carrying CIP.
    pub fn of(msg: &EnipMessage<'_>) -> Option<TxKey> {
        let CommandData::Send(s) = &msg.data else { return None };
        for i in &s.items {
            match i {
                CpfItem::ConnectedData { sequence_count, .. } => {
                    return Some(TxKey::Connected { sequence: *sequence_count });
                }
                CpfItem::UnconnectedData(_) => {
                    return Some(TxKey::Unconnected {
                        session: msg.header.session_handle,
                        context: msg.header.sender_context,
                    });
                }
                _ => {}
            }
        }
        None
    }
}

/// Requests awaiting their responses on one session.
#[derive(Clone, Debug, Default)]
pub struct Transactions {
    /// Key, connection id the request travelled on (connected only), summary.
    pending: VecDeque<(TxKey, Option<u32>, RequestInfo)>,
    /// Connections learned from Forward Open replies: (O->T id, T->O id).
    connections: VecDeque<(u32, u32)>,
    /// Services remembered in `pending`, embedded ones included.
    nodes: usize,
    dropped: u64,
}

impl Transactions {
    /// An empty tracker.
    pub fn new() -> Transactions {
        Transactions::default()
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Requests dropped unanswered because a limit was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Remembers the CIP request carried by `msg`, if any.
    pub fn request(&mut self, msg: &EnipMessage<'_>) {
        let Some(key) = TxKey::of(msg) else { return };
        let Some(m) = msg.cip().find_map(|p| p.message.as_ref()) else { return };
        if m.is_response() {
            return;
        }
        let conn = msg.connection_id();
        // A repeated key on the same connection replaces the older request
        // (retransmission or reuse).
        let before = self.pending.len();
        self.pending.retain(|(k, c, _)| !(*k == key && *c == conn));
        if self.pending.len() != before {
            self.nodes = self.pending.iter().map(|(_, _, r)| r.nodes()).sum();
        }
        let info = RequestInfo::of(m);
        let weight = info.nodes();
        while !self.pending.is_empty()
            && (self.pending.len() >= MAX_PENDING
                || self.nodes.saturating_add(weight) > MAX_PENDING_NODES)
        {
            if let Some((_, _, old)) = self.pending.pop_front() {
                self.nodes = self.nodes.saturating_sub(old.nodes());
            }
            self.dropped = self.dropped.saturating_add(1);
        }
        self.nodes = self.nodes.saturating_add(weight);
        self.pending.push_back((key, conn, info));
    }

    /// The request answered by the CIP response carried by `msg`, removed
    /// from the tracker. A connected reply travels on the T->O connection
    /// id; when a Forward Open reply paired it with its O->T id, only a
    /// request sent on that O->T id matches.
    pub fn response(&mut self, msg: &EnipMessage<'_>) -> Option<RequestInfo> {
        let key = TxKey::of(msg)?;
        let request_conn = msg
            .connection_id()
            .and_then(|t_o| self.connections.iter().find(|(_, t)| *t == t_o).map(|(o, _)| *o));
        let pos = self.pending.iter().position(|(k, c, _)| {
            *k == key && (request_conn.is_none() || c.is_none() || *c == request_conn)
        })?;
        let info = self.pending.remove(pos).map(|(_, _, r)| r)?;
        self.nodes = self.nodes.saturating_sub(info.nodes());
        self.learn_connection(&info, msg);
        Some(info)
    }

    /// Records the connection ids of a successful Forward Open reply.
    fn learn_connection(&mut self, info: &RequestInfo, msg: &EnipMessage<'_>) {
        let opened = info.target == Target::Class(ClassId::CONNECTION_MANAGER)
            && (info.service == ServiceCode::FORWARD_OPEN
                || info.service == ServiceCode::LARGE_FORWARD_OPEN);
        if !opened {
            return;
        }
        let Some(m) = msg.cip().find_map(|p| p.message.as_ref()) else { return };
        if !m.general_status().is_some_and(|g| g.is_success()) {
            return;
        }
        let Some(reply) = super::parser::parse_forward_open_reply(m.data) else { return };
        let pair = (reply.o_t_connection_id, reply.t_o_connection_id);
        self.connections.retain(|p| *p != pair);
        if self.connections.len() >= MAX_CONNECTIONS {
            self.connections.pop_front();
        }
        self.connections.push_back(pair);
    }
}
