//! BACnet (BACnet/IP, BACnet/Ethernet, MS/TP) summary handler: maps the bacnet dissector's output to the truth-file keys.
//!
//! A stub until the protocol's engineer fills it in; see CONTRACT.md.

use super::handler::ProtocolHandler;

/// Counts BACnet (BACnet/IP, BACnet/Ethernet, MS/TP) traffic for the `bacnet` section of the summary.
#[derive(Debug, Default)]
pub struct BacnetSummary {}

impl ProtocolHandler for BacnetSummary {
    fn name(&self) -> &'static str {
        "bacnet"
    }
}
