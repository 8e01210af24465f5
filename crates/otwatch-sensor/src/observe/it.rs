//! IT protocols to observations: DHCP, DNS, HTTP, FTP and Telnet.
//!
//! DHCP (UDP 67/68) gives the client's MAC, host name, vendor class and
//! addresses; DNS (UDP and TCP 53) the first question and the answer
//! addresses; HTTP (TCP 80/8080, and any flow whose first bytes are an HTTP
//! request) the request line and the headers a detector needs, the status
//! of responses, and HTTP basic sign-ins (the credentials are never kept,
//! only that they were sent; the next response says whether they worked);
//! FTP (TCP 21) and Telnet (TCP 23) sign-in attempts and outcomes from the
//! dissectors' per-connection sign-in trackers. Per-flow state is bounded
//! by [`MAX_TRACKED_FLOWS`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    Dhcp, Dns, HttpRequest, HttpResponse, Kind, Login, LoginOutcome, MacAddr, Protocol, ShortText,
};
use otwatch_dissect::it::{dhcp, dns, ftp, http, telnet};
use otwatch_dissect::{DecodeError, Direction};

use super::{ObserveHandler, Pending, from_pdu, malformed, names};
use crate::summary::handler::{PduContext, ProtocolHandler};

/// Connections with sign-in state kept at once (per protocol).
pub const MAX_TRACKED_FLOWS: usize = 4096;
/// Answer addresses kept per DNS response.
pub const MAX_DNS_ANSWERS: usize = 8;
/// Longest text (host, path, user agent, names) kept from IT protocols, in bytes.
pub const MAX_TEXT: usize = 512;

fn text(raw: &[u8]) -> String {
    let cut = raw.get(..MAX_TEXT).unwrap_or(raw);
    String::from_utf8_lossy(cut).chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn opt_text(raw: Option<&[u8]>) -> Option<String> {
    raw.map(text).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A bounded per-flow map: when full, the oldest flow (smallest id) goes.
fn bounded_entry<V: Default>(map: &mut HashMap<u64, V>, flow: u64) -> &mut V {
    if !map.contains_key(&flow)
        && map.len() >= MAX_TRACKED_FLOWS
        && let Some(&oldest) = map.keys().min()
    {
        map.remove(&oldest);
    }
    map.entry(flow).or_default()
}

macro_rules! drain_impl {
    ($t:ty) => {
        impl ObserveHandler for $t {
            fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
                self.out.drain_into(out)
            }
        }
    };
}

/// Observes DHCP.
#[derive(Debug, Default)]
pub struct DhcpObserver {
    out: Pending,
}

fn v4(a: [u8; 4]) -> Option<Ipv4Addr> {
    let ip = Ipv4Addr::from(a);
    (!ip.is_unspecified()).then_some(ip)
}

impl ProtocolHandler for DhcpObserver {
    fn name(&self) -> &'static str {
        "dhcp"
    }
    fn active(&self) -> bool {
        true
    }
    fn udp_ports(&self) -> &'static [u16] {
        &[dhcp::SERVER_PORT, dhcp::CLIENT_PORT]
    }
    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        let Ok(m) = dhcp::parse(payload) else {
            let mut n = otwatch_detect::observation::AnomalyNames::default();
            n.push("dhcp.undecodable");
            self.out.push(from_pdu(cx, malformed(Protocol::Dhcp, n, None, None)));
            return;
        };
        if !m.anomalies.is_empty() {
            let k = malformed(Protocol::Dhcp, names(m.anomalies.names()), None, None);
            self.out.push(from_pdu(cx, k));
        }
        let d = Dhcp {
            message_type: m.message_type.map(|t| t.0),
            client_mac: m.client_mac().map(MacAddr),
            host_name: opt_text(m.host_name),
            vendor_class: opt_text(m.vendor_class_id),
            requested_ip: m.requested_ip.and_then(v4),
            your_ip: v4(m.yiaddr),
            client_ip: v4(m.ciaddr),
        };
        self.out.push(from_pdu(cx, Kind::Dhcp(d)));
    }
}
drain_impl!(DhcpObserver);

/// Observes DNS over UDP and TCP.
#[derive(Debug, Default)]
pub struct DnsObserver {
    out: Pending,
}

fn dns_name(name: &dns::Name<'_>) -> String {
    let mut s = String::new();
    for label in name.labels() {
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
        if s.len() > MAX_TEXT {
            break;
        }
    }
    s
}

impl DnsObserver {
    fn on_message(&mut self, cx: &PduContext<'_>, m: &dns::Message<'_>) {
        if !m.anomalies.is_empty() {
            let k = malformed(Protocol::Dns, names(m.anomalies.names()), None, None);
            self.out.push(from_pdu(cx, k));
        }
        let Some(q) = m.questions.first() else { return };
        let response = m.header.is_response();
        let answers = m
            .answers
            .iter()
            .filter_map(|r| match r.data {
                dns::RData::A(a) => Some(IpAddr::V4(Ipv4Addr::from(a))),
                dns::RData::Aaaa(a) => Some(IpAddr::V6(Ipv6Addr::from(a))),
                _ => None,
            })
            .take(MAX_DNS_ANSWERS)
            .collect();
        let d = Dns {
            response,
            id: m.header.id,
            name: dns_name(&q.name),
            qtype: q.qtype.0,
            rcode: response.then_some(m.header.rcode().0),
            answers,
        };
        self.out.push(from_pdu(cx, Kind::Dns(d)));
    }
}

impl ProtocolHandler for DnsObserver {
    fn name(&self) -> &'static str {
        "dns"
    }
    fn active(&self) -> bool {
        true
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[dns::PORT]
    }
    fn udp_ports(&self) -> &'static [u16] {
        &[dns::PORT]
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        dns::pdu_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        if let Ok((_, m)) = dns::parse_tcp(pdu) {
            self.on_message(cx, &m);
        }
    }
    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        match dns::parse(payload) {
            Ok(m) => self.on_message(cx, &m),
            Err(_) => {
                let mut n = otwatch_detect::observation::AnomalyNames::default();
                n.push("dns.undecodable");
                self.out.push(from_pdu(cx, malformed(Protocol::Dns, n, None, None)));
            }
        }
    }
}
drain_impl!(DnsObserver);

/// Observes HTTP/1.x requests, responses and basic sign-ins.
#[derive(Debug, Default)]
pub struct HttpObserver {
    out: Pending,
    /// Flows whose last request carried basic credentials.
    basic_pending: HashMap<u64, Option<String>>,
}

fn header<'a>(head: &http::Head<'a>, name: &str) -> Option<&'a [u8]> {
    head.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name.as_bytes())).map(|h| h.value)
}

impl ProtocolHandler for HttpObserver {
    fn name(&self) -> &'static str {
        "http"
    }
    fn active(&self) -> bool {
        true
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[http::PORT, 8080]
    }
    fn probe_tcp(&self, payload: &[u8]) -> bool {
        http::probe(payload)
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        http::pdu_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let Ok((_, head)) = http::parse(pdu) else {
            let mut n = otwatch_detect::observation::AnomalyNames::default();
            n.push("http.undecodable");
            self.out.push(from_pdu(cx, malformed(Protocol::Http, n, None, None)));
            return;
        };
        let an = names(head.anomalies.names());
        if !head.anomalies.is_empty() {
            self.out.push(from_pdu(cx, malformed(Protocol::Http, an, None, None)));
        }
        let header_len = u32::try_from(head.head_len).unwrap_or(u32::MAX);
        match head.start {
            http::StartLine::Request { method, target, .. } => {
                let basic =
                    head.authorization_scheme.is_some_and(|s| s.eq_ignore_ascii_case(b"basic"));
                let req = HttpRequest {
                    method: ShortText::lossy(method.0),
                    host: opt_text(head.host),
                    path: text(target),
                    user_agent: opt_text(head.user_agent),
                    header_len,
                    header_count: u32::try_from(head.headers.len()).unwrap_or(u32::MAX),
                    soap_action: opt_text(header(&head, "soapaction")),
                    anomalies: an,
                };
                self.out.push(from_pdu(cx, Kind::Http(req)));
                if basic {
                    *bounded_entry(&mut self.basic_pending, cx.flow_id) = None;
                    let login = Login {
                        protocol: Protocol::Http,
                        outcome: LoginOutcome::Attempt,
                        user: None,
                        cleartext_password: true,
                    };
                    self.out.push(from_pdu(cx, Kind::Login(login)));
                }
            }
            http::StartLine::Response { status, .. } => {
                self.out
                    .push(from_pdu(cx, Kind::HttpResponse(HttpResponse { status, header_len })));
                if let Some(user) = self.basic_pending.remove(&cx.flow_id) {
                    let outcome = if status == 401 || status == 403 {
                        LoginOutcome::Failure
                    } else {
                        LoginOutcome::Success
                    };
                    let login =
                        Login { protocol: Protocol::Http, outcome, user, cleartext_password: true };
                    self.out.push(from_pdu(cx, Kind::Login(login)));
                }
            }
        }
    }
    fn on_flow_end(&mut self, flow_id: u64) {
        self.basic_pending.remove(&flow_id);
    }
}
drain_impl!(HttpObserver);

/// Observes FTP sign-ins.
#[derive(Debug, Default)]
pub struct FtpObserver {
    out: Pending,
    logins: HashMap<u64, ftp::Logins>,
}

fn login(protocol: Protocol, outcome: LoginOutcome, user: Option<String>) -> Kind {
    Kind::Login(Login { protocol, outcome, user, cleartext_password: true })
}

impl ProtocolHandler for FtpObserver {
    fn name(&self) -> &'static str {
        "ftp"
    }
    fn active(&self) -> bool {
        true
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[ftp::PORT]
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        ftp::pdu_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let Ok((_, msg, an)) = ftp::parse(pdu) else { return };
        if !an.is_empty() {
            self.out.push(from_pdu(cx, malformed(Protocol::Ftp, names(an.names()), None, None)));
        }
        if let Some(ev) = bounded_entry(&mut self.logins, cx.flow_id).observe(&msg) {
            let outcome = match ev.outcome {
                ftp::LoginOutcome::Attempt => LoginOutcome::Attempt,
                ftp::LoginOutcome::Success => LoginOutcome::Success,
                ftp::LoginOutcome::Failure => LoginOutcome::Failure,
            };
            self.out.push(from_pdu(cx, login(Protocol::Ftp, outcome, ev.user)));
        }
    }
    fn on_flow_end(&mut self, flow_id: u64) {
        self.logins.remove(&flow_id);
    }
}
drain_impl!(FtpObserver);

/// Observes Telnet sign-ins.
#[derive(Debug, Default)]
pub struct TelnetObserver {
    out: Pending,
    logins: HashMap<u64, telnet::Logins>,
}

impl ProtocolHandler for TelnetObserver {
    fn name(&self) -> &'static str {
        "telnet"
    }
    fn active(&self) -> bool {
        true
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[telnet::PORT]
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        telnet::pdu_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let Ok((_, unit, an)) = telnet::parse(pdu) else { return };
        if !an.is_empty() {
            self.out.push(from_pdu(cx, malformed(Protocol::Telnet, names(an.names()), None, None)));
        }
        let dir = cx.direction;
        let dir = if cx.dst.port == telnet::PORT { Direction::ToServer } else { dir };
        if let Some(ev) = bounded_entry(&mut self.logins, cx.flow_id).observe(dir, &unit) {
            let outcome = match ev.outcome {
                telnet::LoginOutcome::Attempt => LoginOutcome::Attempt,
                telnet::LoginOutcome::Success => LoginOutcome::Success,
                telnet::LoginOutcome::Failure => LoginOutcome::Failure,
            };
            self.out.push(from_pdu(cx, login(Protocol::Telnet, outcome, ev.user)));
        }
    }
    fn on_flow_end(&mut self, flow_id: u64) {
        self.logins.remove(&flow_id);
    }
}
drain_impl!(TelnetObserver);
