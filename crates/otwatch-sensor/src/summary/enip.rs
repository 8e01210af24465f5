//! EtherNet/IP and CIP summary handler: maps the enip dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts EtherNet/IP and CIP traffic for the `enip` section of the summary.
#[derive(Debug, Default)]
pub struct EnipSummary {}

impl ProtocolHandler for EnipSummary {
    fn name(&self) -> &'static str {
        "enip"
    }
}
