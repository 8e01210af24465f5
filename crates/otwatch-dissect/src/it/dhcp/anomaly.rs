//! DHCP anomaly flags with stable names (`dhcp.<name>`).

crate::it::anomaly_set! {
    /// A set of DHCP anomalies, as a bitset.
    Anomalies {
        /// `op` is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY).
        INVALID_OP = 0, "dhcp.invalid_op";
        /// The hardware address length is over 16.
        INVALID_HLEN = 1, "dhcp.invalid_hlen";
        /// The magic cookie is missing or wrong: plain BOOTP or not DHCP.
        NO_MAGIC_COOKIE = 2, "dhcp.no_magic_cookie";
        /// An option's length runs past the end of the message.
        TRUNCATED_OPTION = 3, "dhcp.truncated_option";
        /// The options end without the End option (255).
        MISSING_END = 4, "dhcp.missing_end";
        /// An option has a length its definition does not allow (message
        /// type not 1 byte, an address not 4 bytes, an empty host name).
        INVALID_OPTION_LENGTH = 5, "dhcp.invalid_option_length";
        /// A DHCP message without the Message Type option (53).
        MISSING_MESSAGE_TYPE = 6, "dhcp.missing_message_type";
        /// A message type outside 1-18.
        UNKNOWN_MESSAGE_TYPE = 7, "dhcp.unknown_message_type";
        /// More than [`super::MAX_OPTIONS`] options; the rest were not read.
        TOO_MANY_OPTIONS = 8, "dhcp.too_many_options";
        /// The same option appears twice.
        DUPLICATE_OPTION = 9, "dhcp.duplicate_option";
        /// A message type sent the wrong way (a client type in a BOOTREPLY
        /// or a server type in a BOOTREQUEST).
        WRONG_DIRECTION = 10, "dhcp.wrong_direction";
    }
}
