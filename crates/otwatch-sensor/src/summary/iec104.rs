//! IEC 60870-5-104 summary handler: maps the iec104 dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts IEC 60870-5-104 traffic for the `iec104` section of the summary.
#[derive(Debug, Default)]
pub struct Iec104Summary {}

impl ProtocolHandler for Iec104Summary {
    fn name(&self) -> &'static str {
        "iec104"
    }
}
