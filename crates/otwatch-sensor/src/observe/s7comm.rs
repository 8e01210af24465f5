//! S7comm (and S7comm-plus recognition) to observations: jobs, acknowledgements, userdata, SZL identification.
//!
//! TPKT/COTP data is reassembled per flow and direction (bounded by
//! [`MAX_FLOW_STATES`]) before the S7 PDU is decoded. Functions map to
//! operations: Read/Write Var to read/write, block download and upload to
//! program download/upload, PLC Stop to stop, the PI services to start
//! (`P_PROGRAM`), program download (`_INSE`, `_DELE`) or configuration
//! write (`_GARB`, `_MODU`); userdata SZL reads are configuration reads,
//! and their answers with SZL 0x0011/0x001C become the PLC's identity
//! (order number, firmware, names, serial). S7comm-plus PDUs are reported
//! as messages of their own protocol with the opcode/function they carry.

use std::collections::BTreeMap;

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    AddressRange, AnomalyNames, AppMessage, Identity, Kind, Object, Operation, Protocol, Role,
    ShortText, Status,
};
use otwatch_dissect::s7comm::{
    self, ComponentIdentification, CotpKind, CotpReassembler, FunctionDetail, FunctionGroup,
    ModuleIdentification, Param, Payload, Reassembly, Rosctr, UserdataType, VarItem,
};
use otwatch_dissect::{DecodeError, Direction};

use super::{ObserveHandler, Pending, from_pdu, malformed, names, role_by_direction};
use crate::summary::handler::{PduContext, ProtocolHandler};

/// Flow directions with COTP reassembly state kept at once.
pub const MAX_FLOW_STATES: usize = 2048;

/// Observes S7comm and S7comm-plus traffic.
#[derive(Debug, Default)]
pub struct S7Observer {
    out: Pending,
    cotp: BTreeMap<(u64, bool), CotpReassembler>,
}

/// The operation of a PI service by its name.
fn pi_operation(service: &[u8]) -> Operation {
    match service {
        b"P_PROGRAM" => Operation::Start,
        b"_INSE" | b"_DELE" => Operation::ProgramDownload,
        b"_GARB" | b"_MODU" => Operation::ConfigWrite,
        _ => Operation::Command,
    }
}

/// S7 area code of data blocks.
const AREA_DB: u8 = 0x84;

/// Maps a decoded S7comm PDU to its message.
pub(crate) fn message(pdu: &s7comm::Pdu<'_>, dir: Direction, length: usize) -> AppMessage {
    let h = &pdu.header;
    let mut role = match h.rosctr {
        Rosctr::JOB => Role::Request,
        Rosctr::ACK | Rosctr::ACK_DATA => Role::Response,
        _ => role_by_direction(dir),
    };
    let (function, name, mut op) = match &pdu.param {
        Param::Function(f) => {
            let fc = f.function;
            let op = match fc {
                s7comm::Function::READ_VAR => Operation::Read,
                s7comm::Function::WRITE_VAR => Operation::Write,
                s7comm::Function::PLC_STOP => Operation::Stop,
                s7comm::Function::SETUP_COMMUNICATION => Operation::Session,
                s7comm::Function::PI_SERVICE => match &f.detail {
                    FunctionDetail::Pi(pi) => pi_operation(pi.service),
                    _ => Operation::Command,
                },
                f if f.is_download() => Operation::ProgramDownload,
                f if f.is_upload() => Operation::ProgramUpload,
                _ => Operation::Other,
            };
            (u32::from(fc.0), fc.name(), op)
        }
        Param::Userdata(u) => {
            role = match u.kind {
                UserdataType::REQUEST | UserdataType::NC_REQUEST => Role::Request,
                UserdataType::RESPONSE | UserdataType::NC_RESPONSE => Role::Response,
                _ => Role::Unsolicited,
            };
            let op = match u.group {
                FunctionGroup::CPU_FUNCTIONS | FunctionGroup::BLOCK_FUNCTIONS => {
                    Operation::ConfigRead
                }
                FunctionGroup::TIME_FUNCTIONS if u.is_set_clock() => Operation::TimeSync,
                FunctionGroup::TIME_FUNCTIONS => Operation::Read,
                FunctionGroup::SECURITY => Operation::Session,
                FunctionGroup::PROGRAMMER => Operation::Diagnostics,
                FunctionGroup::CYCLIC_DATA => Operation::Read,
                FunctionGroup::MODE_TRANSITION => Operation::Other,
                _ => Operation::Other,
            };
            // Userdata "functions" are group and subfunction.
            (0x1000 | (u32::from(u.group.0) << 8) | u32::from(u.subfunction), u.group.name(), op)
        }
        _ => (u32::from(h.rosctr.0) << 16, h.rosctr.name(), Operation::Other),
    };
    if role == Role::Response && op != Operation::Other {
        // Keep the operation: a PLC Stop acknowledgement is still about stopping.
    }
    let mut m = AppMessage::new(Protocol::S7comm, role, function, op);
    m.function_name = name;
    m.length = u32::try_from(length).unwrap_or(u32::MAX);
    if let Param::Userdata(u) = &pdu.param {
        m.sub_function = Some(u32::from(u.subfunction));
        if let Some(e) = u.error_code.filter(|e| *e != 0) {
            m.status = Some(Status::Error);
            m.error_code = Some(u32::from(e));
        }
    }
    if let Some(class) = h.error_class {
        let failed = class.0 != 0 || h.error_code.is_some_and(|c| c != 0);
        m.status = Some(if failed { Status::Error } else { Status::Ok });
        if failed {
            m.error_code =
                Some((u32::from(class.0) << 8) | u32::from(h.error_code.unwrap_or_default()));
            m.error_name = class.name();
            op = Operation::Error;
            m.operation = op;
        }
    }
    if let Param::Function(f) = &pdu.param {
        match &f.detail {
            FunctionDetail::Variables(v) => {
                for item in v.items.iter() {
                    if let VarItem::Any(a) = item {
                        let db = a.area.0 == AREA_DB;
                        let o = Object {
                            class: u32::from(a.area.0),
                            instance: db.then_some(u32::from(a.db_number)),
                            attribute: None,
                        };
                        if m.object.is_none() {
                            m.object = Some(o);
                        } else if !m.more_objects.contains(&o) && Some(o) != m.object {
                            m.more_objects.push(o);
                        }
                        m.ranges.push(AddressRange {
                            space: if db { "s7_db" } else { "s7_area" },
                            start: a.byte_address,
                            count: u32::from(a.length),
                        });
                    }
                }
            }
            FunctionDetail::Block(b) => {
                if let Some(block) = b.block {
                    m.object = Some(Object {
                        class: u32::from(block.block_type.0),
                        instance: Some(block.number),
                        attribute: None,
                    });
                }
                if let Some(f) = b.filename {
                    m.symbol = Some(ShortText::lossy(f));
                }
            }
            FunctionDetail::Pi(pi) => {
                m.symbol = Some(ShortText::lossy(pi.service));
                if let Some((_, Some(block))) = pi.blocks.first() {
                    m.object = Some(Object {
                        class: u32::from(block.block_type.0),
                        instance: Some(block.number),
                        attribute: None,
                    });
                }
            }
            _ => {}
        }
    }
    m.anomalies = names(pdu.anomalies.names());
    m
}

fn text(raw: &[u8]) -> Option<String> {
    let s: String = String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string();
    if s.is_empty() { None } else { Some(s) }
}

/// The identity in an SZL answer (module or component identification), if any.
pub(crate) fn identity(pdu: &s7comm::Pdu<'_>) -> Option<Identity> {
    let u = pdu.userdata()?;
    let szl = u.szl()?;
    let list = szl.list.as_ref()?;
    let mut id = Identity {
        protocol: Protocol::S7comm,
        vendor: Some("Siemens".into()),
        ..Identity::default()
    };
    match szl.id & 0x00ff {
        0x11 => {
            for rec in list.records() {
                let Some(r) = ModuleIdentification::from_record(rec) else { continue };
                match r.index {
                    1 => id.model = text(r.order_number).or(id.model.take()),
                    6 => {
                        if let Some((a, b, c)) = r.version_triple() {
                            id.details.push(("hardware", format!("V{a}.{b}.{c}")));
                        }
                    }
                    7 => {
                        if let Some((a, b, c)) = r.version_triple() {
                            id.firmware = Some(format!("V{a}.{b}.{c}"));
                        }
                    }
                    _ => {}
                }
            }
        }
        0x1c => {
            for rec in list.records() {
                let Some(r) = ComponentIdentification::from_record(rec) else { continue };
                let value = text(r.trimmed());
                match r.index {
                    1 => {
                        if let Some(v) = value {
                            id.details.push(("plant", v));
                        }
                    }
                    2 => id.name = value,
                    5 => id.serial = value,
                    7 => {
                        if let Some(v) = value {
                            id.details.push(("module_type", v));
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => return None,
    }
    id.details.sort();
    let useful =
        id.model.is_some() || id.firmware.is_some() || id.name.is_some() || id.serial.is_some();
    useful.then_some(id)
}

impl S7Observer {
    fn on_tsdu(&mut self, cx: &PduContext<'_>, tsdu: &[u8]) {
        match s7comm::parse_payload(tsdu) {
            Payload::S7(pdu) => {
                let m = message(&pdu, cx.direction, tsdu.len());
                if !pdu.anomalies.is_empty() {
                    let k =
                        malformed(Protocol::S7comm, m.anomalies, Some(m.function), Some(m.role));
                    self.out.push(from_pdu(cx, k));
                }
                self.out.push(from_pdu(cx, Kind::App(m)));
                if let Some(id) = identity(&pdu) {
                    self.out.push(from_pdu(cx, Kind::Identity(id)));
                }
            }
            Payload::S7Plus(p) => {
                let function =
                    p.function.map(|f| u32::from(f.0)).or(p.opcode.map(|o| u32::from(o.0)));
                let mut m = AppMessage::new(
                    Protocol::S7commPlus,
                    role_by_direction(cx.direction),
                    function.unwrap_or_default(),
                    Operation::Other,
                );
                m.function_name = p.function.and_then(|f| f.name());
                m.length = u32::try_from(tsdu.len()).unwrap_or(u32::MAX);
                m.anomalies = names(p.anomalies.names());
                if !p.anomalies.is_empty() {
                    let k = malformed(Protocol::S7commPlus, m.anomalies, function, Some(m.role));
                    self.out.push(from_pdu(cx, k));
                }
                self.out.push(from_pdu(cx, Kind::App(m)));
            }
            Payload::Unknown(_) => {
                let an = names(s7comm::Anomalies::UNKNOWN_PAYLOAD.names());
                self.out.push(from_pdu(cx, malformed(Protocol::S7comm, an, None, None)));
            }
            Payload::None | Payload::Segment(_) => {}
        }
    }
}

impl ProtocolHandler for S7Observer {
    fn name(&self) -> &'static str {
        "s7comm"
    }

    fn active(&self) -> bool {
        true
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[s7comm::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        s7comm::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        s7comm::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let key = (cx.flow_id, cx.direction == Direction::ToServer);
        if cx.after_gap
            && let Some(r) = self.cotp.get_mut(&key)
        {
            r.reset();
        }
        let Ok((_, tpdu)) = s7comm::parse(pdu, cx.direction) else {
            let mut n = AnomalyNames::default();
            n.push("s7comm.undecodable");
            self.out.push(from_pdu(cx, malformed(Protocol::S7comm, n, None, None)));
            return;
        };
        if !tpdu.anomalies.is_empty() {
            let an = names(tpdu.anomalies.names());
            self.out.push(from_pdu(cx, malformed(Protocol::S7comm, an, None, None)));
        }
        let CotpKind::Data { eot, .. } = tpdu.cotp.kind else { return };
        if !self.cotp.contains_key(&key) && self.cotp.len() >= MAX_FLOW_STATES {
            self.cotp.pop_first();
        }
        let mut r = self.cotp.remove(&key).unwrap_or_default();
        match r.push(eot, tpdu.cotp.user_data) {
            Reassembly::Complete(tsdu) => {
                let owned_cx = cx;
                self.on_tsdu(owned_cx, tsdu);
            }
            Reassembly::Dropped => {
                let an = names(s7comm::Anomalies::REASSEMBLY_OVERFLOW.names());
                self.out.push(from_pdu(cx, malformed(Protocol::S7comm, an, None, None)));
            }
            Reassembly::Pending => {}
        }
        self.cotp.insert(key, r);
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.cotp.remove(&(flow_id, true));
        self.cotp.remove(&(flow_id, false));
    }
}

impl ObserveHandler for S7Observer {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
