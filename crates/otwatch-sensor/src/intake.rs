//! Capture intake: pcap and pcapng files, streamed, merged in time order.
//!
//! [`CaptureFile`] reads one file through the pcap-file crate's slice
//! parsers over a bounded window of the file, so memory stays flat whatever
//! the file size, and every error knows its byte offset. The container is
//! recognised by its magic number, not its name: classic pcap in both byte
//! orders with micro- or nanosecond timestamps, and pcapng with any number
//! of sections and interfaces (each with its own link type and timestamp
//! resolution). [`MergedCaptures`] merges several files by timestamp.
//!
//! A damaged file is read up to the damage; the error then names the file
//! and the byte offset of the record that could not be read.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use otwatch_wire::LinkType;
use pcap_file::PcapError;
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};

/// Bytes read from the file at a time.
pub const READ_CHUNK: usize = 1 << 20;
/// Largest record (pcap packet or pcapng block) accepted; a larger one is
/// taken as corruption. Also the most the read window grows to.
pub const MAX_RECORD_LEN: usize = 64 << 20;
/// libpcap's largest snapshot length: a classic pcap record longer than
/// this and than the file's snapshot length is taken as corruption.
pub const MAX_SNAPLEN: u32 = 262_144;

/// Why a capture could not be read (completely).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file starts with no pcap or pcapng magic number.
    #[error("{path}: not a pcap or pcapng capture (first bytes {magic:02x?})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its first bytes.
        magic: Vec<u8>,
    },
    /// A record is invalid; the packets before it were read.
    #[error("{path}: corrupt capture at byte offset {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Offset of the record that could not be read.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// The file ends in the middle of a record; the packets before it were read.
    #[error(
        "{path}: truncated capture: record at byte offset {offset} is incomplete ({available} bytes left in the file)"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Offset of the incomplete record.
        offset: u64,
        /// Bytes of it present.
        available: usize,
    },
}

/// The container format, from the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap, microsecond timestamps.
    PcapMicro,
    /// Classic pcap, nanosecond timestamps.
    PcapNano,
    /// pcapng.
    PcapNg,
}

impl CaptureFormat {
    /// Recognises the format from the first four bytes of a file.
    pub fn from_magic(magic: &[u8]) -> Option<CaptureFormat> {
        match magic {
            [0xd4, 0xc3, 0xb2, 0xa1, ..] | [0xa1, 0xb2, 0xc3, 0xd4, ..] => {
                Some(CaptureFormat::PcapMicro)
            }
            [0x4d, 0x3c, 0xb2, 0xa1, ..] | [0xa1, 0xb2, 0x3c, 0x4d, ..] => {
                Some(CaptureFormat::PcapNano)
            }
            [0x0a, 0x0d, 0x0d, 0x0a, ..] => Some(CaptureFormat::PcapNg),
            _ => None,
        }
    }

    /// The name the truth files use (`pcap-usec`, `pcap-nsec`, `pcapng`).
    pub fn name(self) -> &'static str {
        match self {
            CaptureFormat::PcapMicro => "pcap-usec",
            CaptureFormat::PcapNano => "pcap-nsec",
            CaptureFormat::PcapNg => "pcapng",
        }
    }
}

/// One captured packet, borrowed from the reader's window.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Link type of the interface it was captured on.
    pub link_type: LinkType,
    /// Length on the wire (may exceed `data.len()` when the capture was cut).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Index of the file in the input list.
    pub file: usize,
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    /// Timestamp unit: 10^-n when `binary` is false, 2^-n otherwise.
    resol: u8,
    binary: bool,
    offset_s: u64,
}

impl Interface {
    fn to_ns(self, ticks: u64) -> u64 {
        let t = u128::from(ticks);
        let ns = if self.binary {
            t.saturating_mul(1_000_000_000).checked_shr(u32::from(self.resol)).unwrap_or(0)
        } else if self.resol <= 9 {
            t.saturating_mul(10u128.saturating_pow(u32::from(9 - self.resol)))
        } else {
            t.checked_div(10u128.saturating_pow(u32::from(self.resol - 9))).unwrap_or(0)
        };
        u64::try_from(ns)
            .unwrap_or(u64::MAX)
            .saturating_add(self.offset_s.saturating_mul(1_000_000_000))
    }
}

enum Kind {
    Pcap { parser: PcapParser, link_type: LinkType, nano: bool },
    PcapNg { parser: PcapNgParser, interfaces: Vec<Interface> },
}

#[derive(Clone, Copy, Debug)]
struct Current {
    ts_ns: u64,
    link_type: LinkType,
    orig_len: u32,
    start: usize,
    end: usize,
}

/// A capture file being read, one packet at a time.
pub struct CaptureFile {
    path: PathBuf,
    index: usize,
    file: File,
    format: CaptureFormat,
    kind: Kind,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    size: u64,
    current: Option<Current>,
    failed: bool,
}

impl std::fmt::Debug for CaptureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureFile")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish()
    }
}

impl CaptureFile {
    /// Opens a capture and reads its header. `index` is reported in every [`Packet`].
    pub fn open(path: &Path, index: usize) -> Result<CaptureFile, IntakeError> {
        let io_err = |source| IntakeError::Io { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        let mut buf = vec![0u8; READ_CHUNK];
        let len = read_full(&mut file, &mut buf).map_err(io_err)?;
        let head = buf.get(..len).unwrap_or(&[]);
        let format = CaptureFormat::from_magic(head).ok_or_else(|| IntakeError::UnknownFormat {
            path: path.to_path_buf(),
            magic: head.iter().take(4).copied().collect(),
        })?;
        let eof = len < buf.len();
        let corrupt = |e: PcapError| match e {
            PcapError::IncompleteBuffer => {
                IntakeError::Truncated { path: path.to_path_buf(), offset: 0, available: len }
            }
            other => IntakeError::Corrupt {
                path: path.to_path_buf(),
                offset: 0,
                reason: other.to_string(),
            },
        };
        let (kind, used) = match format {
            CaptureFormat::PcapNg => {
                let (rest, parser) = PcapNgParser::new(head).map_err(corrupt)?;
                (
                    Kind::PcapNg { parser, interfaces: Vec::new() },
                    head.len().saturating_sub(rest.len()),
                )
            }
            _ => {
                let (rest, parser) = PcapParser::new(head).map_err(corrupt)?;
                let h = parser.header();
                let link_type = LinkType(u32::from(h.datalink));
                let nano = format == CaptureFormat::PcapNano;
                (Kind::Pcap { parser, link_type, nano }, head.len().saturating_sub(rest.len()))
            }
        };
        Ok(CaptureFile {
            path: path.to_path_buf(),
            index,
            file,
            format,
            kind,
            buf,
            pos: used,
            len,
            base: 0,
            eof,
            size,
            current: None,
            failed: false,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The file size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of the file consumed so far.
    pub fn position(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// The time of the next packet, reading it if needed (`None` at the end).
    pub fn peek_ts(&mut self) -> Result<Option<u64>, IntakeError> {
        if self.current.is_none() && !self.failed {
            match self.read_next() {
                Ok(c) => self.current = c,
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        Ok(self.current.map(|c| c.ts_ns))
    }

    /// The next packet (`None` at the end of the file).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, IntakeError> {
        self.peek_ts()?;
        let Some(c) = self.current.take() else {
            return Ok(None);
        };
        let data = self.buf.get(c.start..c.end).unwrap_or(&[]);
        Ok(Some(Packet {
            ts_ns: c.ts_ns,
            link_type: c.link_type,
            orig_len: c.orig_len,
            data,
            file: self.index,
        }))
    }

    fn read_next(&mut self) -> Result<Option<Current>, IntakeError> {
        loop {
            let window = self.buf.get(self.pos..self.len).unwrap_or(&[]);
            if window.is_empty() && self.eof {
                return Ok(None);
            }
            let offset = self.position();
            let base_ptr = window.as_ptr() as usize;
            // Where a borrowed data slice lies inside the window.
            let locate = |d: &[u8]| {
                let off = (d.as_ptr() as usize).wrapping_sub(base_ptr);
                (off.checked_add(d.len()).is_some_and(|e| e <= window.len()))
                    .then_some((off, d.len()))
            };
            let parsed = match &mut self.kind {
                Kind::Pcap { parser, link_type, nano } => {
                    // A record longer than the snapshot length (and than
                    // libpcap's own limit) is damage, as libpcap and tshark
                    // take it: reading on would misplace every later record.
                    let h = parser.header();
                    let claimed = window.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok());
                    let claimed = claimed.map(|b| match h.endianness {
                        pcap_file::Endianness::Big => u32::from_be_bytes(b),
                        pcap_file::Endianness::Little => u32::from_le_bytes(b),
                    });
                    let limit = h.snaplen.max(MAX_SNAPLEN);
                    if let Some(n) = claimed.filter(|n| *n > limit) {
                        return Err(IntakeError::Corrupt {
                            path: self.path.clone(),
                            offset,
                            reason: format!(
                                "a record of {n} bytes, longer than the snapshot length ({limit})"
                            ),
                        });
                    }
                    parser.next_raw_packet(window).map(|(rest, raw)| {
                        let used = window.len().saturating_sub(rest.len());
                        let sub = if *nano { 1 } else { 1_000 };
                        let ts_ns = u64::from(raw.ts_sec)
                            .saturating_mul(1_000_000_000)
                            .saturating_add(u64::from(raw.ts_frac).saturating_mul(sub));
                        (used, Some((ts_ns, *link_type, raw.orig_len, locate(&raw.data))))
                    })
                }
                Kind::PcapNg { parser, interfaces } => {
                    parser.next_block(window).and_then(|(rest, block)| {
                        let used = window.len().saturating_sub(rest.len());
                        let data = ng_data(&block);
                        let meta = ng_block(&block, interfaces)?;
                        Ok((used, meta.map(|(t, lt, o)| (t, lt, o, data.and_then(locate)))))
                    })
                }
            };
            match parsed {
                Ok((used, meta)) => {
                    let rec_start = self.pos;
                    self.pos = self.pos.saturating_add(used);
                    if let Some((ts_ns, link_type, orig_len, place)) = meta {
                        let (off, n) = place.unwrap_or((0, 0));
                        let start = rec_start.saturating_add(off);
                        return Ok(Some(Current {
                            ts_ns,
                            link_type,
                            orig_len,
                            start,
                            end: start.saturating_add(n),
                        }));
                    }
                }
                Err(PcapError::IncompleteBuffer) => {
                    if self.eof {
                        return Err(IntakeError::Truncated {
                            path: self.path.clone(),
                            offset,
                            available: self.len.saturating_sub(self.pos),
                        });
                    }
                    self.refill(offset)?;
                }
                Err(e) => {
                    return Err(IntakeError::Corrupt {
                        path: self.path.clone(),
                        offset,
                        reason: e.to_string(),
                    });
                }
            }
        }
    }

    /// Moves the unparsed bytes to the front of the window and reads more,
    /// growing the window (up to [`MAX_RECORD_LEN`]) when a record needs it.
    fn refill(&mut self, offset: u64) -> Result<(), IntakeError> {
        let left = self.len.saturating_sub(self.pos);
        self.buf.copy_within(self.pos..self.len, 0);
        self.base = self.base.saturating_add(self.pos as u64);
        self.pos = 0;
        self.len = left;
        if self.len == self.buf.len() {
            if self.buf.len() >= MAX_RECORD_LEN {
                return Err(IntakeError::Corrupt {
                    path: self.path.clone(),
                    offset,
                    reason: format!("record larger than {MAX_RECORD_LEN} bytes"),
                });
            }
            let grown = self.buf.len().saturating_mul(2).min(MAX_RECORD_LEN);
            self.buf.resize(grown, 0);
        }
        let target = self.buf.get_mut(self.len..).unwrap_or(&mut []);
        let n = read_full(&mut self.file, target)
            .map_err(|source| IntakeError::Io { path: self.path.clone(), source })?;
        if n < target.len() {
            self.eof = true;
        }
        self.len = self.len.saturating_add(n);
        Ok(())
    }
}

/// The packet in a pcapng block: (ts_ns, link type, orig_len).
type NgPacket = Option<(u64, LinkType, u32)>;

/// The packet bytes of a pcapng block, if it carries a packet.
fn ng_data<'b>(block: &'b Block<'_>) -> Option<&'b [u8]> {
    match block {
        Block::EnhancedPacket(b) => Some(&b.data),
        Block::Packet(b) => Some(&b.data),
        Block::SimplePacket(b) => Some(&b.data),
        _ => None,
    }
}

fn ng_block(block: &Block<'_>, interfaces: &mut Vec<Interface>) -> Result<NgPacket, PcapError> {
    match block {
        Block::SectionHeader(_) => {
            interfaces.clear();
            Ok(None)
        }
        Block::InterfaceDescription(idb) => {
            let mut i = Interface {
                link_type: LinkType(u32::from(idb.linktype)),
                resol: 6,
                binary: false,
                offset_s: 0,
            };
            for o in &idb.options {
                match o {
                    InterfaceDescriptionOption::IfTsResol(r) => {
                        i.binary = r & 0x80 != 0;
                        i.resol = r & 0x7f;
                    }
                    InterfaceDescriptionOption::IfTsOffset(s) => i.offset_s = *s,
                    _ => {}
                }
            }
            interfaces.push(i);
            Ok(None)
        }
        Block::EnhancedPacket(epb) => {
            let i = usize::try_from(epb.interface_id).ok().and_then(|n| interfaces.get(n)).copied();
            let i = i.ok_or(PcapError::InvalidInterfaceId(epb.interface_id))?;
            // pcap-file hands the raw 64-bit timestamp as nanoseconds; it is in the interface's unit.
            let ticks = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
            Ok(Some((i.to_ns(ticks), i.link_type, epb.original_len)))
        }
        Block::Packet(pb) => {
            let i = interfaces.get(usize::from(pb.interface_id)).copied();
            let i = i.ok_or(PcapError::InvalidInterfaceId(u32::from(pb.interface_id)))?;
            let ticks = pb.timestamp;
            Ok(Some((i.to_ns(ticks), i.link_type, pb.original_len)))
        }
        Block::SimplePacket(spb) => {
            let i = interfaces.first().copied().ok_or(PcapError::InvalidInterfaceId(0))?;
            Ok(Some((0, i.link_type, spb.original_len)))
        }
        _ => Ok(None),
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0usize;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match file.read(rest) {
            Ok(0) => break,
            Ok(k) => n = n.saturating_add(k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Several captures merged by packet time (ties go to the earlier file).
#[derive(Debug)]
pub struct MergedCaptures {
    files: Vec<CaptureFile>,
    /// Errors met so far (a damaged file stops contributing; the others go on).
    errors: Vec<IntakeError>,
}

impl MergedCaptures {
    /// Opens every file. Fails on the first that cannot be opened or recognised.
    pub fn open(paths: &[PathBuf]) -> Result<MergedCaptures, IntakeError> {
        let files = paths
            .iter()
            .enumerate()
            .map(|(i, p)| CaptureFile::open(p, i))
            .collect::<Result<_, _>>()?;
        Ok(MergedCaptures { files, errors: Vec::new() })
    }

    /// Total size of the input files.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(CaptureFile::size).sum()
    }

    /// Bytes consumed over all files.
    pub fn position(&self) -> u64 {
        self.files.iter().map(CaptureFile::position).sum()
    }

    /// The files.
    pub fn files(&self) -> &[CaptureFile] {
        &self.files
    }

    /// The next packet in time order, or `None` when every file is done
    /// (or damaged: see [`MergedCaptures::take_errors`]).
    pub fn next_packet(&mut self) -> Option<Packet<'_>> {
        let mut best: Option<(u64, usize)> = None;
        for (i, f) in self.files.iter_mut().enumerate() {
            match f.peek_ts() {
                Ok(Some(ts)) => {
                    if best.is_none_or(|(b, _)| ts < b) {
                        best = Some((ts, i));
                    }
                }
                Ok(None) => {}
                Err(e) => self.errors.push(e),
            }
        }
        let (_, i) = best?;
        self.files.get_mut(i)?.next_packet().ok().flatten()
    }

    /// Errors met so far, in the order met.
    pub fn take_errors(&mut self) -> Vec<IntakeError> {
        std::mem::take(&mut self.errors)
    }
}
