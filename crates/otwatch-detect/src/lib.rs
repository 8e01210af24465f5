//! Detection over observations: the sensor's vocabulary and the hook the engines plug into.
//!
//! [`observation`] defines [`Observation`], everything the sensor reports
//! about traffic in protocol-neutral terms (see `OBSERVATIONS.md`). The
//! detection engines (issue 4) read observations and produce
//! [`otwatch_model::Detection`]s through the [`Detector`] trait; the sensor
//! calls it for every observation and hands the detections to the store.
//!
//! This crate depends on `otwatch-model` only: it never sees a dissector
//! type, a packet buffer, a store or a clock. Time is the packet time in
//! each observation, so the same capture gives the same detections.

#![deny(missing_docs)]

pub mod observation;

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
