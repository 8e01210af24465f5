//! A small HTTP/1.1 client over one keep-alive connection, enough to time `otwatch serve` the way a browser or script calls it.
//!
//! It sends GET and POST requests with a bearer token and reads the
//! response (Content-Length or chunked), handing the body to a sink so a
//! large CSV export is counted, not kept. No TLS, no redirects.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A connection to one server.
pub struct Client {
    addr: String,
    token: String,
    conn: Option<BufReader<TcpStream>>,
}

/// What a request returned.
#[derive(Debug, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The body (empty when a sink took it).
    pub body: Vec<u8>,
    /// Body bytes received.
    pub bytes: u64,
    /// Newlines in the body.
    pub lines: u64,
}

impl Client {
    /// A client for `addr` (host:port) sending `token` as a bearer token.
    pub fn new(addr: &str, token: &str) -> Client {
        Client { addr: addr.into(), token: token.into(), conn: None }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)
                .with_context(|| format!("connecting to {}", self.addr))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(600)))?;
            self.conn = Some(BufReader::with_capacity(1 << 16, s));
        }
        self.conn.as_mut().context("no connection")
    }

    /// GET `path`; the body is kept.
    pub fn get(&mut self, path: &str) -> Result<Response> {
        self.request("GET", path, None, true)
    }

    /// POST a JSON body to `path`; the body is kept.
    pub fn post_json(&mut self, path: &str, body: &str) -> Result<Response> {
        self.request("POST", path, Some(body), true)
    }

    /// Sends one request; retries once on a fresh connection when the
    /// kept-alive one was closed by the server.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        keep: bool,
    ) -> Result<Response> {
        match self.try_request(method, path, body, keep) {
            Ok(r) => Ok(r),
            Err(_) if self.conn.is_some() => {
                self.conn = None;
                self.try_request(method, path, body, keep)
            }
            Err(e) => Err(e),
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        keep: bool,
    ) -> Result<Response> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: */*\r\n",
            self.addr, self.token
        );
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        let conn = self.connect()?;
        let s = conn.get_mut();
        s.write_all(head.as_bytes())?;
        if let Some(b) = body {
            s.write_all(b.as_bytes())?;
        }
        let result = read_response(conn, keep);
        if result.as_ref().map(|(_, close)| *close).unwrap_or(true) {
            self.conn = None;
        }
        result.map(|(r, _)| r)
    }
}

/// Reads one response; returns it and whether the server closes the connection.
fn read_response(r: &mut BufReader<TcpStream>, keep: bool) -> Result<(Response, bool)> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("connection closed before the response");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            bail!("connection closed in the headers");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let mut resp = Response { status, ..Default::default() };
    let take = |buf: &[u8], resp: &mut Response| {
        resp.bytes += buf.len() as u64;
        resp.lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        if keep {
            resp.body.extend_from_slice(buf);
        }
    };
    let mut buf = vec![0u8; 1 << 16];
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut left = size;
            while left > 0 {
                let n = (left as usize).min(buf.len());
                r.read_exact(&mut buf[..n])?;
                take(&buf[..n], &mut resp);
                left -= n as u64;
            }
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if let Some(mut left) = length {
        while left > 0 {
            let n = (left as usize).min(buf.len());
            r.read_exact(&mut buf[..n])?;
            take(&buf[..n], &mut resp);
            left -= n as u64;
        }
    } else {
        // No length: the body runs to the end of the connection.
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            take(&buf[..n], &mut resp);
        }
        close = true;
    }
    Ok((resp, close))
}

/// Percent-encodes a query-string value.
pub fn encode(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("Plant B"), "Plant%20B");
        assert_eq!(encode("a&b=c"), "a%26b%3Dc");
        assert_eq!(encode("10.0.0.1"), "10.0.0.1");
    }
}
