//! BACnet (ANSI/ASHRAE 135): BACnet/IP, BACnet over 802.2 LLC, and MS/TP.
//!
//! Specification sections this module follows (ANSI/ASHRAE 135-2020):
//!
//! - Annex U, BACnet/IPv6: BVLC type 0x82, virtual MAC addresses, B/IPv6
//!   addresses.
//! - Annex J, BACnet/IP: the BVLC header (type 0x81, function, length) and the
//!   function-specific bodies (J.2), B/IP addresses (J.1.2), the broadcast
//!   distribution and foreign device tables (J.4, J.5).
//! - Clause 7, ISO 8802-2 (LLC) data link: DSAP/SSAP 0x82, UI control.
//! - Clause 9.3, 9.10 and Annex G, MS/TP frames, COBS-encoded extended frames
//!   and their header/data CRCs (CRC-8, CRC-16, CRC-32K).
//! - Clause 6.2, the NPDU: version, control octet, DNET/DLEN/DADR, SNET/SLEN/SADR,
//!   hop count, network layer message type and vendor id; clause 6.4, the
//!   network layer messages.
//! - Clause 20.1, the eight APDU types and their headers (segmentation, max
//!   segments/APDU, invoke id, sequence number, window size, service choice);
//!   clause 20.2, the tag encoding (application and context tags, extended tag
//!   numbers and lengths, opening/closing tags) and primitive values.
//! - Clause 21 (formal description) for the service parameters decoded here:
//!   ReadProperty(-ACK), ReadPropertyMultiple(-ACK), WriteProperty,
//!   WritePropertyMultiple, DeviceCommunicationControl, ReinitializeDevice,
//!   AtomicReadFile/AtomicWriteFile, ConfirmedPrivateTransfer,
//!   LifeSafetyOperation, CreateObject/DeleteObject, Add/RemoveListElement,
//!   SubscribeCOV, ReadRange, I-Am, I-Have, Who-Is, Who-Has, time
//!   synchronization, UnconfirmedPrivateTransfer, Who-Am-I, You-Are; clause 18
//!   for error classes/codes and reject/abort reasons.
//!
//! Entry points: [`parse`] for a BACnet/IP UDP payload and [`parse_ipv6`] for
//! BACnet/IPv6 (BVLC type 0x82, Annex U); [`parse_llc`] for the data of an
//! 802.3 frame with LLC SAP 0x82; [`parse_mstp`] (and [`mstp_frame_len`] on a
//! serial stream) for MS/TP, [`parse_cimetrics`] for MS/TP frames a Cimetrics
//! sniffer relays in SNAP frames; [`parse_npdu`] for a bare NPDU. [`probe`]
//! recognises BACnet/IP by content.
//!
//! BACnet is a datagram protocol: no stream framing is needed above MS/TP, so
//! `parse` takes one whole datagram and returns no remainder, and it takes no
//! direction because BACnet peers are symmetric (requests and answers are told
//! apart by APDU type, not by who is the server). Segmented messages are
//! reassembled by [`Reassembly`] and their data decoded with
//! [`decode_confirmed_request`] or [`decode_complex_ack`]. MS/TP extended
//! (COBS-encoded) frames are framed and CRC-checked by [`parse_mstp`];
//! [`decode_cobs_data`] decodes their data.
//!
//! Not decoded here: BACnet Secure Connect, the network security wrapper, and
//! the values of most properties (kept as raw tagged octets, with helpers that
//! decode the first value: see [`Apdu::read_values`]).

// Defined before the submodules so they can all use it.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty);
        fallback |$v:ident| $fallback:expr;
        $( $konst:ident = $val:literal => $str:literal, )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $repr);

        impl $name {
            $(
                #[doc = concat!("`", $str, "` (", stringify!($val), ").")]
                pub const $konst: $name = $name($val);
            )*

            /// The name the standard gives this value, if it names it.
            pub fn standard_name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($str), )*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// The name the standard gives this value (a generic label such as
            /// `"reserved"` or `"proprietary"` for values it does not name).
            pub fn name(self) -> &'static str {
                match self.standard_name() {
                    Some(name) => name,
                    None => {
                        let $v = self.0;
                        $fallback
                    }
                }
            }

            /// Whether the standard names this value.
            pub fn is_known(self) -> bool {
                self.standard_name().is_some()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", self.name(), self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub mod anomaly;
pub mod mstp;
pub mod parser;
pub mod segment;
pub mod tag;
pub mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use mstp::{
    crc32k, data_crc, decode_cobs_data, header_crc, mstp_frame_len, parse_cimetrics, parse_mstp,
    parse_mstp_without_preamble,
};
pub use parser::{
    BACNET_IP_PORT, MAX_LIST_ITEMS, decode_complex_ack, decode_confirmed_request,
    decode_unconfirmed_request, parse, parse_apdu, parse_ipv6, parse_llc, parse_npdu, probe,
};
pub use segment::{Reassembled, Reassembly};
pub use tag::{CharacterString, Value};
pub use types::*;
