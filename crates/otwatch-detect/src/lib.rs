//! Detection over observations: the sensor's vocabulary and the five engines.
//!
//! [`observation`] defines [`Observation`], everything the sensor reports
//! about traffic in protocol-neutral terms (see `OBSERVATIONS.md`).
//! [`Engines`] runs the five detection engines of the catalogue over them —
//! Policy Violation ([`policy`] against the learned [`baseline`]), Protocol
//! Violation, Malware (with [`indicators`] feeds), Anomaly (thresholds from
//! the catalogue, [`settings`]), Operational — plus the user's custom
//! [`rules`], and reports [`Finding`]s (detections with the frames that
//! show them) through the [`report`] aggregation. [`learn`] says what
//! learning an alert teaches the engines. The [`Detector`] trait is the
//! simple hook the sensor started with; [`Engines`] implements it too.
//!
//! This crate depends on `otwatch-model` only: it never sees a dissector
//! type, a packet buffer, a store or a clock. Time is the packet time in
//! each observation, and every iteration that reaches the output is over
//! ordered maps, so the same capture gives byte-identical detections.
//! Every table is bounded (see [`settings::Limits`] and the named constants),
//! and evictions are counted in [`Stats`].

#![deny(missing_docs)]

mod anomaly;
pub mod baseline;
mod custom;
mod engine;
pub mod indicators;
pub mod learn;
mod malware;
pub mod net;
pub mod observation;
mod operational;
pub mod policy;
mod protocol;
pub mod report;
pub mod rules;
pub mod settings;
pub mod window;

pub use baseline::{Baseline, Fact, FactKind};
pub use engine::{Engines, Output, Stats};
pub use indicators::Indicators;
pub use report::{Evidence, Finding};
pub use rules::RuleSet;
pub use settings::{Mode, Settings};

pub use observation::{
    Address, AddressRange, AppMessage, Direction, Identity, Kind, MacAddr, Observation, Operation,
    Protocol, Role, ShortText, Status, Transport,
};

use otwatch_model::{Detection, Timestamp};

/// What the sensor calls with every observation; the detection engines implement it.
///
/// Calls come in packet-time order. `observe` may push detections into
/// `out`; `tick` lets time-window engines close their windows when packet
/// time moves on without traffic of theirs; `finish` is called once at the
/// end of the input (or on shutdown) to flush what is pending.
pub trait Detector: Send {
    /// One observation.
    fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>);

    /// Packet time has reached `now` (called at least once per batch).
    fn tick(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        let _ = (now, out);
    }

    /// The input ended.
    fn finish(&mut self, out: &mut Vec<Detection>) {
        let _ = out;
    }
}

/// The detector with no engines: detects nothing. The sensor uses it until
/// the engines exist (and when every engine is switched off).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEngines;

impl Detector for NoEngines {
    fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        let _ = (obs, out);
    }
}
