//! The capture pipeline: intake, L2–L4 decoding, flows, application dispatch, summaries.
//!
//! Layout:
//! - [`intake`]: pcap/pcapng files, streamed and merged in time order;
//!   [`live`] (cargo feature `live`): capture from an interface with libpcap.
//! - [`pipeline`]: one packet at a time through `otwatch-wire` decoding,
//!   the `otwatch-flow` table and [`dispatch`].
//! - [`dispatch`]: which OT protocol a flow speaks (port, then content) and
//!   delivery of framed PDUs and datagrams to the protocol handlers.
//! - [`summary`]: the truth-file-shaped summary of captures; the protocol
//!   handlers live in `summary/<proto>.rs` (see `summary/CONTRACT.md`).
//! - [`inventory`]: devices, connections and timeline events from observations;
//!   [`run`]: the sensor run that feeds them and the detection hook to the store.
//! - [`observe`]: the same traffic as protocol-neutral observations for the
//!   inventory and detection (one handler per protocol in `observe/`).
//! - [`detect`]: the detection engines in a run: findings to the store with
//!   per-alert PCAP evidence, the baseline, the learning/operational mode.

#![deny(missing_docs)]

pub mod detect;
pub mod dispatch;
pub mod intake;
pub mod inventory;
#[cfg(feature = "live")]
pub mod live;
pub mod observe;
pub mod pipeline;
pub mod run;
pub mod summary;

pub use intake::{CaptureFile, CaptureFormat, IntakeError, MergedCaptures, Packet};
pub use pipeline::Pipeline;
pub use summary::{SummaryError, SummaryOptions, summarize};
