//! Capture file output (classic pcap with microsecond stamps, or pcapng) through `pcap-file`,
//! counting the bytes written so a target file size can end the run.

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{Endianness, TsResolution};

use crate::SimError;

/// Capture file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// libpcap format, microsecond time stamps, Ethernet link type.
    #[default]
    Pcap,
    /// pcapng with one Ethernet interface.
    Pcapng,
}

/// Counts bytes passing through.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Inner<W: Write> {
    Pcap(PcapWriter<Counting<W>>),
    Ng(PcapNgWriter<Counting<W>>),
}

/// Writes frames to a capture file.
pub struct CaptureWriter<W: Write> {
    inner: Inner<W>,
    /// Bytes of a classic pcap file so far (its writer does not expose the sink).
    pcap_bytes: u64,
}

/// Snap length declared in the file header.
pub const SNAPLEN: u32 = 65535;

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header.
    pub fn new(out: W, format: Format) -> Result<Self, SimError> {
        let counting = Counting { inner: out, written: 0 };
        let inner = match format {
            Format::Pcap => {
                let header = PcapHeader {
                    version_major: 2,
                    version_minor: 4,
                    ts_correction: 0,
                    ts_accuracy: 0,
                    snaplen: SNAPLEN,
                    datalink: DataLink::ETHERNET,
                    ts_resolution: TsResolution::MicroSecond,
                    endianness: Endianness::Little,
                };
                Inner::Pcap(PcapWriter::with_header(counting, header).map_err(SimError::pcap)?)
            }
            Format::Pcapng => {
                let shb = SectionHeaderBlock {
                    endianness: Endianness::Little,
                    options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                        "otwatch simulate",
                    ))],
                    ..SectionHeaderBlock::default()
                };
                let mut w =
                    PcapNgWriter::with_section_header(counting, shb).map_err(SimError::pcap)?;
                // pcap-file writes EPB time stamps in nanoseconds: declare it (if_tsresol = 9).
                let idb = InterfaceDescriptionBlock {
                    linktype: DataLink::ETHERNET,
                    snaplen: SNAPLEN,
                    options: vec![
                        InterfaceDescriptionOption::IfName(Cow::Borrowed("plant-span")),
                        InterfaceDescriptionOption::IfTsResol(9),
                    ],
                };
                w.write_pcapng_block(idb).map_err(SimError::pcap)?;
                Inner::Ng(w)
            }
        };
        Ok(CaptureWriter { inner, pcap_bytes: 24 })
    }

    /// Writes one Ethernet frame stamped `ts_us` microseconds after the epoch.
    pub fn write(&mut self, ts_us: u64, data: &[u8]) -> Result<(), SimError> {
        let ts = Duration::from_micros(ts_us);
        let len = data.len() as u32;
        match &mut self.inner {
            Inner::Pcap(w) => {
                w.write_packet(&PcapPacket {
                    timestamp: ts,
                    orig_len: len,
                    data: Cow::Borrowed(data),
                })
                .map_err(SimError::pcap)?;
                self.pcap_bytes += 16 + u64::from(len);
            }
            Inner::Ng(w) => {
                let epb = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: ts,
                    original_len: len,
                    data: Cow::Borrowed(data),
                    options: vec![],
                };
                w.write_pcapng_block(epb).map_err(SimError::pcap)?;
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        match &self.inner {
            Inner::Pcap(_) => self.pcap_bytes,
            Inner::Ng(w) => w.get_ref().written,
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, SimError> {
        let mut c = match self.inner {
            Inner::Pcap(w) => w.into_writer(),
            Inner::Ng(w) => w.into_inner(),
        };
        c.flush().map_err(SimError::Io)?;
        Ok(c.inner)
    }
}
