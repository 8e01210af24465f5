//! The ordinary IT traffic around the plant: DHCP (RFC 2131/2132), DNS (RFC 1035) and
//! HTTP/1.1 (RFC 9112) messages.

use std::net::Ipv4Addr;

use crate::wire::Mac;

/// DHCP message types (option 53).
pub mod dhcp_type {
    /// DHCPDISCOVER.
    pub const DISCOVER: u8 = 1;
    /// DHCPOFFER.
    pub const OFFER: u8 = 2;
    /// DHCPREQUEST.
    pub const REQUEST: u8 = 3;
    /// DHCPACK.
    pub const ACK: u8 = 5;
}

/// The fields of one DHCP message.
#[derive(Clone, Debug)]
pub struct Dhcp<'a> {
    /// Message type (option 53).
    pub kind: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client MAC.
    pub mac: Mac,
    /// Client's current address (renewals).
    pub ciaddr: Ipv4Addr,
    /// Offered / assigned address.
    pub yiaddr: Ipv4Addr,
    /// Requested address (option 50), in a selecting REQUEST.
    pub requested: Option<Ipv4Addr>,
    /// Server identifier (option 54).
    pub server: Option<Ipv4Addr>,
    /// Host name (option 12), sent by clients.
    pub hostname: Option<&'a str>,
    /// Lease time, router, DNS server and domain, sent by the server.
    pub lease: Option<(u32, Ipv4Addr, Ipv4Addr, &'a str)>,
}

/// A BOOTP/DHCP message (client requests have op 1, server replies op 2).
pub fn dhcp(m: &Dhcp<'_>) -> Vec<u8> {
    let reply = matches!(m.kind, dhcp_type::OFFER | dhcp_type::ACK);
    let mut b = vec![if reply { 2 } else { 1 }, 1, 6, 0];
    b.extend_from_slice(&m.xid.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]); // secs, flags
    b.extend_from_slice(&m.ciaddr.octets());
    b.extend_from_slice(&m.yiaddr.octets());
    b.extend_from_slice(&[0; 4]); // siaddr
    b.extend_from_slice(&[0; 4]); // giaddr
    b.extend_from_slice(&m.mac.0);
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&[0; 64 + 128]);
    b.extend_from_slice(&[99, 130, 83, 99]);
    b.extend_from_slice(&[53, 1, m.kind]);
    if !reply {
        b.extend_from_slice(&[61, 7, 1]);
        b.extend_from_slice(&m.mac.0);
    }
    if let Some(r) = m.requested {
        b.extend_from_slice(&[50, 4]);
        b.extend_from_slice(&r.octets());
    }
    if let Some(s) = m.server {
        b.extend_from_slice(&[54, 4]);
        b.extend_from_slice(&s.octets());
    }
    if let Some(h) = m.hostname {
        b.push(12);
        b.push(h.len() as u8);
        b.extend_from_slice(h.as_bytes());
    }
    if !reply {
        b.extend_from_slice(&[55, 6, 1, 3, 6, 15, 51, 54]);
    }
    if let Some((lease, router, dns, domain)) = m.lease {
        b.extend_from_slice(&[51, 4]);
        b.extend_from_slice(&lease.to_be_bytes());
        b.extend_from_slice(&[1, 4, 255, 255, 255, 0]);
        b.extend_from_slice(&[3, 4]);
        b.extend_from_slice(&router.octets());
        b.extend_from_slice(&[6, 4]);
        b.extend_from_slice(&dns.octets());
        b.push(15);
        b.push(domain.len() as u8);
        b.extend_from_slice(domain.as_bytes());
    }
    b.push(255);
    if b.len() < 300 {
        b.resize(300, 0);
    }
    b
}

fn qname(name: &str, out: &mut Vec<u8>) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A recursive A query.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    qname(name, &mut b);
    b.extend_from_slice(&[0, 1, 0, 1]);
    b
}

/// The answer to [`dns_query`] with one A record.
pub fn dns_answer(id: u16, name: &str, addr: Ipv4Addr, ttl: u32) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    qname(name, &mut b);
    b.extend_from_slice(&[0, 1, 0, 1]);
    b.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    b.extend_from_slice(&ttl.to_be_bytes());
    b.extend_from_slice(&[0, 4]);
    b.extend_from_slice(&addr.octets());
    b
}

/// An HTTP/1.1 GET request.
pub fn http_get(host: &str, path: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// An HTTP/1.1 200 response with a body.
pub fn http_ok(date: &str, server: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "HTTP/1.1 200 OK\r\nDate: {date}\r\nServer: {server}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    b.extend_from_slice(body);
    b
}

/// An HTML page of about `len` bytes.
pub fn html_page(title: &str, len: usize, salt: u32) -> Vec<u8> {
    let mut s = format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>\n<h1>{title}</h1>\n"
    );
    let mut i = 0u32;
    while s.len() + 40 < len {
        s.push_str(&format!("<p>Shift note {} / item {:05}.</p>\n", salt % 97, i));
        i += 1;
    }
    s.push_str("</body></html>\n");
    s.into_bytes()
}

/// A CSV trend export of `rows` rows.
pub fn trend_csv(start_s: u64, rows: usize, salt: u32) -> Vec<u8> {
    let mut s = String::from("timestamp,tag,value,quality\n");
    let mut x = salt;
    for r in 0..rows {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        s.push_str(&format!(
            "{},FT-{:03}.PV,{}.{:02},192\n",
            start_s + r as u64,
            r % 40,
            (x >> 20) % 500,
            (x >> 8) % 100
        ));
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_answer_points_at_the_question() {
        let q = dns_query(0x1234, "intranet.site-1.plant.example");
        let a =
            dns_answer(0x1234, "intranet.site-1.plant.example", Ipv4Addr::new(10, 1, 200, 6), 300);
        assert_eq!(&a[12..q.len()], &q[12..]);
        assert_eq!(a.len(), q.len() + 16);
    }

    #[test]
    fn dhcp_is_at_least_300_bytes() {
        let m = Dhcp {
            kind: dhcp_type::DISCOVER,
            xid: 1,
            mac: Mac([1, 2, 3, 4, 5, 6]),
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            requested: None,
            server: None,
            hostname: Some("ws"),
            lease: None,
        };
        assert_eq!(dhcp(&m).len(), 300);
    }
}
