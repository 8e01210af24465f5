//! DHCP anomaly flags with stable names (`dhcp.<name>`).

crate::it::anomaly_set! {
    /// A set of DHCP anomalies, as a bitset.
    Anomalies {
        /// `op` is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY).
        INVALID_OP = 0, "dhcp.invalid_op";
        /// The hardware address length is over 16.
        INVALID_HLEN = 1, "dhcp.invalid_hlen";
        /// An option's length runs past the end of the message.
        TRUNCATED_OPTION = 2, "dhcp.truncated_option";
        /// The options end without the End option (255).
        MISSING_END = 3, "dhcp.missing_end";
        /// An option has a length its definition does not allow (message
        /// type not 1 byte, an address not 4 bytes, an empty host name).
        INVALID_OPTION_LENGTH = 4, "dhcp.invalid_option_length";
        /// A message type outside 1-18.
        UNKNOWN_MESSAGE_TYPE = 5, "dhcp.unknown_message_type";
        /// More than [`super::MAX_OPTIONS`] options; the rest were not read.
        TOO_MANY_OPTIONS = 6, "dhcp.too_many_options";
        /// The same option appears twice.
        DUPLICATE_OPTION = 7, "dhcp.duplicate_option";
        /// A message type sent the wrong way (a client type in a BOOTREPLY
        /// or a server type in a BOOTREQUEST).
        WRONG_DIRECTION = 8, "dhcp.wrong_direction";
    }
}
