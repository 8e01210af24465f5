//! S7comm (TPKT/COTP) summary handler: maps the s7comm dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts S7comm (TPKT/COTP) traffic for the `s7comm` section of the summary.
#[derive(Debug, Default)]
pub struct S7commSummary {}

impl ProtocolHandler for S7commSummary {
    fn name(&self) -> &'static str {
        "s7comm"
    }
}
