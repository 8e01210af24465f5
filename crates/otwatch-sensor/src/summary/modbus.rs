//! Modbus/TCP summary handler: maps the modbus dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts Modbus/TCP traffic for the `modbus` section of the summary.
#[derive(Debug, Default)]
pub struct ModbusSummary {}

impl ProtocolHandler for ModbusSummary {
    fn name(&self) -> &'static str {
        "modbus"
    }
}
