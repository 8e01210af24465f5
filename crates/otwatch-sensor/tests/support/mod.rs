//! Shared helpers of the sensor's detection tests (packet building).

pub mod net;
