//! Capture summaries in the shape of the tshark truth files, from our own decoding.
//!
//! [`summarize`] streams captures through the [`Pipeline`] and returns a
//! JSON value with the generic keys (`capture`, `addresses`,
//! `conversations`, `protocols.ot_protocol_frames`) and one section per
//! protocol, produced by the protocol's [`ProtocolHandler`] in
//! `summary/<proto>.rs` (see `CONTRACT.md`). [`registry`] is the list of
//! those handlers; it is the only place that names them.

pub mod generic;
pub mod handler;

#[cfg(feature = "bacnet")]
pub mod bacnet;
#[cfg(feature = "dnp3")]
pub mod dnp3;
#[cfg(feature = "enip")]
pub mod enip;
#[cfg(feature = "iec104")]
pub mod iec104;
#[cfg(feature = "modbus")]
pub mod modbus;
#[cfg(feature = "s7comm")]
pub mod s7comm;

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use otwatch_flow::FlowConfig;
use serde_json::{Map, Value};

use crate::intake::{IntakeError, MergedCaptures};
use crate::pipeline::Pipeline;
pub use handler::ProtocolHandler;

/// Inputs at least this large (bytes, all files together) get a progress bar.
pub const PROGRESS_MIN_BYTES: u64 = 16 << 20;
/// Packets between two progress bar updates.
const PROGRESS_EVERY: u64 = 4096;

/// The tags the pipeline itself counts (no protocol handler owns them).
pub const PIPELINE_FRAME_TAGS: [&str; 1] = ["pn_dcp"];

/// The protocol handlers, in dispatch priority order (a flow that several
/// probes accept goes to the first).
// One push per enabled feature, so the list cannot be a literal.
#[allow(clippy::vec_init_then_push)]
pub fn registry() -> Vec<Box<dyn ProtocolHandler>> {
    #[allow(unused_mut)]
    let mut v: Vec<Box<dyn ProtocolHandler>> = Vec::new();
    #[cfg(feature = "modbus")]
    v.push(Box::new(modbus::ModbusSummary::default()));
    #[cfg(feature = "dnp3")]
    v.push(Box::new(dnp3::Dnp3Summary::default()));
    #[cfg(feature = "s7comm")]
    v.push(Box::new(s7comm::S7commSummary::default()));
    #[cfg(feature = "iec104")]
    v.push(Box::new(iec104::Iec104Summary::default()));
    #[cfg(feature = "enip")]
    v.push(Box::new(enip::EnipSummary::default()));
    #[cfg(feature = "bacnet")]
    v.push(Box::new(bacnet::BacnetSummary::default()));
    v
}

/// Names of the handlers in [`registry`] that are implemented.
pub fn active_protocols() -> Vec<&'static str> {
    registry().iter().filter(|h| h.active()).map(|h| h.name()).collect()
}

/// How to summarise.
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryOptions {
    /// Show a progress bar on stderr for long inputs (never when stderr is not a terminal).
    pub progress: bool,
    /// Flow table limits.
    pub flow: FlowConfig,
}

/// Why a summary is incomplete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// A file could not be opened or is not a capture; nothing was summarised.
    #[error(transparent)]
    Open(IntakeError),
    /// A file is damaged; the summary covers every packet before the damage.
    #[error("{error}")]
    Damaged {
        /// The first damage met (see `others` for more files).
        error: IntakeError,
        /// Damage in other files.
        others: Vec<IntakeError>,
        /// The summary of what could be read.
        partial: Box<Value>,
    },
}

/// Summarises captures (merged in time order) with the handlers of [`registry`].
pub fn summarize(paths: &[PathBuf], opts: &SummaryOptions) -> Result<Value, SummaryError> {
    summarize_with(paths, opts, registry())
}

/// Summarises captures with the given handlers.
pub fn summarize_with(
    paths: &[PathBuf],
    opts: &SummaryOptions,
    handlers: Vec<Box<dyn ProtocolHandler>>,
) -> Result<Value, SummaryError> {
    let mut input = MergedCaptures::open(paths).map_err(SummaryError::Open)?;
    let formats: Vec<&str> = input.files().iter().map(|f| f.format().name()).collect();
    let bar = progress_bar(opts.progress, input.total_size());
    let mut pipeline = Pipeline::new(handlers, opts.flow);
    while let Some(pkt) = input.next_packet() {
        pipeline.process(&pkt);
        if pipeline.frames().is_multiple_of(PROGRESS_EVERY)
            && let Some(b) = &bar
        {
            b.set_position(input.position());
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (generic, dispatch) = pipeline.finish();
    let handlers = dispatch.into_handlers();
    let mut covered: Vec<&'static str> = PIPELINE_FRAME_TAGS.to_vec();
    for h in handlers.iter().filter(|h| h.active()) {
        covered.extend_from_slice(h.frame_tags());
    }
    let mut out = Map::new();
    out.insert(
        "file".into(),
        serde_json::json!({ "format": formats.first().copied(), "formats": formats }),
    );
    generic.write(&covered, &mut out);
    for h in &handlers {
        if let Some(section) = h.summary() {
            out.insert(h.name().to_owned(), section);
        }
    }
    let value = Value::Object(out);
    let mut errors = input.take_errors();
    if errors.is_empty() {
        return Ok(value);
    }
    let error = errors.remove(0);
    Err(SummaryError::Damaged { error, others: errors, partial: Box::new(value) })
}

/// A progress bar for inputs of at least [`PROGRESS_MIN_BYTES`], hidden
/// when stderr is not a terminal.
pub(crate) fn progress_bar(enabled: bool, total: u64) -> Option<ProgressBar> {
    if !enabled || total < PROGRESS_MIN_BYTES {
        return None;
    }
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use std::io::IsTerminal;

    use super::{PROGRESS_MIN_BYTES, progress_bar};

    #[test]
    fn progress_bar_only_for_long_inputs_and_never_drawn_off_a_terminal() {
        assert!(progress_bar(true, PROGRESS_MIN_BYTES - 1).is_none(), "short input");
        assert!(progress_bar(false, PROGRESS_MIN_BYTES * 64).is_none(), "switched off");
        let bar = progress_bar(true, PROGRESS_MIN_BYTES).expect("a bar for a long input");
        assert_eq!(bar.length(), Some(PROGRESS_MIN_BYTES));
        // Piped or captured (CI, logs): the bar exists but draws nothing.
        if !std::io::stderr().is_terminal() {
            assert!(bar.is_hidden());
        }
    }
}
