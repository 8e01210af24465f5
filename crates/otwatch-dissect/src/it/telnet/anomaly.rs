//! Telnet anomaly flags with stable names (`telnet.<name>`).

crate::it::anomaly_set! {
    /// A set of Telnet anomalies, as a bitset.
    Anomalies {
        /// IAC followed by a byte that is not a command (below 240).
        INVALID_COMMAND = 0, "telnet.invalid_command";
        /// A subnegotiation without IAC SE within
        /// [`super::MAX_SUBNEGOTIATION_LEN`] bytes; it was cut there.
        LONG_SUBNEGOTIATION = 1, "telnet.long_subnegotiation";
        /// SE without a preceding SB.
        UNEXPECTED_SE = 2, "telnet.unexpected_se";
    }
}
