//! Ordinary IT traffic: office workstations getting a DHCP lease and renewing it, resolving
//! the intranet and browsing it; the historian resolving the SCADA server and pulling
//! trend exports from its web API every minute.

use std::net::Ipv4Addr;

use crate::emit::{Layer, Rec};
use crate::proto::it::{self, Dhcp, dhcp_type};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cx, Ready};
use crate::tcp::{Dir, Pdu};
use crate::time::{Civil, MS, SEC};
use crate::wire::{Ip, L2, Mac};

/// DHCP lease time.
pub const LEASE: u32 = 3600;

/// A workstation's DHCP client.
pub struct DhcpClient {
    rng: Rng,
    ws: usize,
    server: usize,
    bound: bool,
}

impl DhcpClient {
    /// The client of `ws` against `server`.
    pub fn new(seed: u64, ws: usize, server: usize, label: &str) -> DhcpClient {
        DhcpClient { rng: Rng::new(seed, label), ws, server, bound: false }
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        cx: &mut Cx<'_>,
        t: u64,
        l2: L2,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        sport: u16,
        dport: u16,
        m: &Dhcp<'_>,
    ) {
        let ip = Ip {
            src,
            dst,
            ttl: if sport == 68 { 128 } else { 64 },
            id: self.rng.next_u16(),
            df: false,
        };
        cx.udp_raw(t, l2, ip, sport, dport, &it::dhcp(m), &[Layer::Dhcp], vec![Rec::Dhcp]);
    }
}

impl Actor for DhcpClient {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let ws = cx.plant.devices[self.ws].clone();
        let srv = cx.plant.devices[self.server].clone();
        let zone = &cx.plant.zones[ws.zone];
        let router = zone.addr(1);
        let domain = format!("{}.{}", zone.site_name, cx.plant.domain);
        let xid = self.rng.next_u32();
        let lease = Some((LEASE, router, srv.ip, domain.as_str()));
        let base = Dhcp {
            kind: dhcp_type::DISCOVER,
            xid,
            mac: ws.mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            requested: None,
            server: None,
            hostname: Some(&ws.name),
            lease: None,
        };
        let to_server = L2 { src: ws.mac, dst: srv.mac };
        let to_client = L2 { src: srv.mac, dst: ws.mac };
        let bcast = L2 { src: ws.mac, dst: Mac::BROADCAST };
        let mut t = now;
        if !self.bound {
            self.send(cx, t, bcast, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 68, 67, &base);
            t += self.rng.range(2 * MS, 20 * MS);
            let offer = Dhcp {
                kind: dhcp_type::OFFER,
                yiaddr: ws.ip,
                server: Some(srv.ip),
                hostname: None,
                lease,
                ..base.clone()
            };
            self.send(cx, t, to_client, srv.ip, ws.ip, 67, 68, &offer);
            t += self.rng.range(MS, 10 * MS);
            let req = Dhcp {
                kind: dhcp_type::REQUEST,
                requested: Some(ws.ip),
                server: Some(srv.ip),
                ..base.clone()
            };
            self.send(cx, t, bcast, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 68, 67, &req);
            t += self.rng.range(2 * MS, 20 * MS);
            let ack = Dhcp {
                kind: dhcp_type::ACK,
                yiaddr: ws.ip,
                server: Some(srv.ip),
                hostname: None,
                lease,
                ..base.clone()
            };
            self.send(cx, t, to_client, srv.ip, ws.ip, 67, 68, &ack);
            self.bound = true;
        } else {
            cx.arp_between(self.ws, self.server, t);
            let req = Dhcp { kind: dhcp_type::REQUEST, ciaddr: ws.ip, ..base.clone() };
            self.send(cx, t, to_server, ws.ip, srv.ip, 68, 67, &req);
            t += self.rng.range(2 * MS, 20 * MS);
            let ack = Dhcp {
                kind: dhcp_type::ACK,
                ciaddr: ws.ip,
                yiaddr: ws.ip,
                server: Some(srv.ip),
                hostname: None,
                lease,
                ..base.clone()
            };
            self.send(cx, t, to_client, srv.ip, ws.ip, 67, 68, &ack);
        }
        Some(now + u64::from(LEASE / 2) * SEC)
    }
}

/// Resolves `name` at the DNS server; returns the time of the answer.
pub fn resolve(
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    t: u64,
    client: usize,
    dns: usize,
    name: &str,
    addr: Ipv4Addr,
) -> u64 {
    let sip = cx.plant.devices[dns].ip;
    let cip = cx.plant.devices[client].ip;
    cx.arp(client, t, sip);
    let port = cx.port(client);
    let id = rng.next_u16();
    let q = it::dns_query(id, name);
    let ipid = rng.next_u16();
    cx.udp(t, client, sip, port, 53, &q, &[Layer::Dns], vec![Rec::Dns], ipid);
    let t2 = t
        + rng.range(300, 3 * MS)
        + if cx.plant.devices[client].zone == cx.plant.devices[dns].zone { 0 } else { 400 };
    if cx.plant_actor {
        let nh = cx.plant.next_hop(dns, cip);
        cx.arp_between(dns, nh, t2);
    }
    let a = it::dns_answer(id, name, addr, 300);
    let ipid = rng.next_u16();
    cx.udp(t2, dns, cip, 53, port, &a, &[Layer::Dns], vec![Rec::Dns], ipid);
    t2
}

/// One HTTP GET with `Connection: close`: handshake, request, response, server-side close.
#[allow(clippy::too_many_arguments)]
pub fn http_fetch(
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    t: u64,
    client: usize,
    server: usize,
    port: u16,
    request: Vec<u8>,
    response: Vec<u8>,
) -> Result<u64, u64> {
    let mut link = ClientLink::new(client, server, port, (2 * MS, 40 * MS));
    let t = match link.ensure(t, cx, rng) {
        Ready::At { t, .. } => t,
        Ready::Retry(r) => return Err(r),
    };
    let req = Pdu::new(request, &[Layer::Http], Rec::Http);
    let resp = Pdu::new(response, &[Layer::Http], Rec::Http);
    let t = link.exchange(t, cx, rng, vec![req], vec![resp])?;
    match link.conn.take() {
        Some(mut c) => {
            Ok(c.close(cx.em, t + rng.range(MS, 5 * MS), Dir::S2C, rng.range(200, 2 * MS)))
        }
        None => Ok(t),
    }
}

/// Browser user agent of the office workstations.
pub const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// An office workstation browsing the intranet.
pub struct Browser {
    rng: Rng,
    ws: usize,
    dns: usize,
    web: usize,
}

impl Browser {
    /// Browsing by `ws`.
    pub fn new(seed: u64, ws: usize, dns: usize, web: usize, label: &str) -> Browser {
        Browser { rng: Rng::new(seed, label), ws, dns, web }
    }
}

impl Actor for Browser {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let site = cx.plant.zones[cx.plant.devices[self.web].zone].site_name.clone();
        let host = format!("intranet.{site}.{}", cx.plant.domain);
        let web_ip = cx.plant.devices[self.web].ip;
        let t = resolve(cx, &mut self.rng, now, self.ws, self.dns, &host, web_ip);
        let pages = ["/", "/shift-log", "/maintenance", "/safety", "/news"];
        let path = *self.rng.pick(&pages);
        let body = it::html_page(
            "Plant intranet",
            self.rng.range(2_000, 12_000) as usize,
            self.rng.next_u32(),
        );
        let date = Civil::from_micros(t).http_date();
        let resp = it::http_ok(&date, "nginx", "text/html; charset=utf-8", &body);
        let at = t + self.rng.range(MS, 5 * MS);
        let _ = http_fetch(
            cx,
            &mut self.rng,
            at,
            self.ws,
            self.web,
            80,
            it::http_get(&host, path, BROWSER_UA),
            resp,
        );
        Some(now + self.rng.range(30 * SEC, 120 * SEC))
    }
}

/// The historian pulling trend data from the SCADA server's web API.
pub struct HistorianPull {
    rng: Rng,
    historian: usize,
    dns: usize,
    scada: usize,
}

impl HistorianPull {
    /// Pulls by `historian` from `scada`.
    pub fn new(
        seed: u64,
        historian: usize,
        dns: usize,
        scada: usize,
        label: &str,
    ) -> HistorianPull {
        HistorianPull { rng: Rng::new(seed, label), historian, dns, scada }
    }
}

impl Actor for HistorianPull {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let site = cx.plant.zones[cx.plant.devices[self.scada].zone].site_name.clone();
        let host = format!("scada.{site}.{}", cx.plant.domain);
        let scada_ip = cx.plant.devices[self.scada].ip;
        let t = resolve(cx, &mut self.rng, now, self.historian, self.dns, &host, scada_ip);
        let body = it::trend_csv(now / SEC - 60, 60, self.rng.next_u32());
        let date = Civil::from_micros(t).http_date();
        let resp = it::http_ok(&date, "SCADA-WebAPI/2.1", "text/csv", &body);
        let at = t + self.rng.range(MS, 5 * MS);
        let _ = http_fetch(
            cx,
            &mut self.rng,
            at,
            self.historian,
            self.scada,
            80,
            it::http_get(
                &host,
                "/api/trends?range=60s&format=csv",
                "PI-Connector/3.4 (Windows NT 10.0)",
            ),
            resp,
        );
        Some(now + self.rng.jitter(60 * SEC, 20))
    }
}
