//! DNP3 summary handler: maps the dnp3 dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts DNP3 traffic for the `dnp3` section of the summary.
#[derive(Debug, Default)]
pub struct Dnp3Summary {}

impl ProtocolHandler for Dnp3Summary {
    fn name(&self) -> &'static str {
        "dnp3"
    }
}
