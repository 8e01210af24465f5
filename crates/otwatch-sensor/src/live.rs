//! Live capture from a network interface through libpcap (cargo feature `live`).
//!
//! Needs the libpcap development files to build (`apt-get install
//! libpcap-dev`) and capture rights to run (root or CAP_NET_RAW). Packets
//! come out as the same [`Packet`] the file intake produces, so the rest of
//! the pipeline does not know where they came from. Capture stops when the
//! caller's stop flag is set; the read timeout bounds how long that takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use otwatch_wire::LinkType;

use crate::intake::Packet;

/// Snapshot length: whole packets, jumbo frames included.
pub const SNAPLEN: i32 = 262_144;
/// Read timeout of the capture buffer (ms).
pub const READ_TIMEOUT_MS: i32 = 250;
/// Pause when no packet is waiting, before polling again (the capture is
/// non-blocking so that a stop request is noticed on a quiet link).
pub const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Why a live capture failed.
#[derive(Debug, thiserror::Error)]
#[error("capture on {interface}: {source}")]
pub struct LiveError {
    /// The interface.
    pub interface: String,
    /// What libpcap said.
    #[source]
    pub source: pcap::Error,
}

/// An open live capture.
pub struct LiveCapture {
    interface: String,
    cap: pcap::Capture<pcap::Active>,
    link_type: LinkType,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("link_type", &self.link_type)
            .finish()
    }
}

impl LiveCapture {
    /// Opens `interface` in promiscuous mode, optionally with a BPF filter.
    pub fn open(interface: &str, filter: Option<&str>) -> Result<LiveCapture, LiveError> {
        let err = |source| LiveError { interface: interface.to_owned(), source };
        let mut cap = pcap::Capture::from_device(interface)
            .map_err(err)?
            .promisc(true)
            .snaplen(SNAPLEN)
            .timeout(READ_TIMEOUT_MS)
            .open()
            .map_err(err)?
            .setnonblock()
            .map_err(err)?;
        if let Some(f) = filter {
            cap.filter(f, true).map_err(err)?;
        }
        let link_type = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        Ok(LiveCapture { interface: interface.to_owned(), cap, link_type })
    }

    /// The interface's link type.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Calls `each` for every packet until `stop` is set (checked at least
    /// every [`IDLE_POLL`] on a quiet link) or the capture ends. Returns the packets seen.
    pub fn run(
        &mut self,
        stop: &Arc<AtomicBool>,
        each: impl FnMut(&Packet<'_>),
    ) -> Result<u64, LiveError> {
        self.run_with_idle(stop, each, || {})
    }

    /// Like [`LiveCapture::run`], and calls `idle` whenever the link was
    /// quiet for a read timeout (so a caller can write what it holds).
    pub fn run_with_idle(
        &mut self,
        stop: &Arc<AtomicBool>,
        mut each: impl FnMut(&Packet<'_>),
        mut idle: impl FnMut(),
    ) -> Result<u64, LiveError> {
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            match self.cap.next_packet() {
                Ok(p) => {
                    let sec = u64::try_from(p.header.ts.tv_sec).unwrap_or(0);
                    let usec = u64::try_from(p.header.ts.tv_usec).unwrap_or(0);
                    let pkt = Packet {
                        ts_ns: sec
                            .saturating_mul(1_000_000_000)
                            .saturating_add(usec.saturating_mul(1_000)),
                        link_type: self.link_type,
                        orig_len: p.header.len,
                        data: p.data,
                        file: 0,
                    };
                    each(&pkt);
                    n = n.saturating_add(1);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    idle();
                    std::thread::sleep(IDLE_POLL)
                }
                Err(pcap::Error::NoMorePackets) => break,
                Err(source) => return Err(LiveError { interface: self.interface.clone(), source }),
            }
        }
        Ok(n)
    }
}
