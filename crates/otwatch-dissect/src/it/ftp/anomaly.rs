//! FTP anomaly flags with stable names (`ftp.<name>`).

crate::it::anomaly_set! {
    /// A set of FTP anomalies, as a bitset.
    Anomalies {
        /// No line end within [`super::MAX_LINE_LEN`] bytes (a classic
        /// buffer-overflow attempt); the line was cut there.
        LINE_TOO_LONG = 0, "ftp.line_too_long";
        /// A command verb that is not registered.
        UNKNOWN_COMMAND = 1, "ftp.unknown_command";
        /// A reply code whose first digit is not 1-5.
        INVALID_REPLY_CODE = 2, "ftp.invalid_reply_code";
        /// A line ending in a bare LF instead of CRLF.
        BARE_LF = 3, "ftp.bare_lf";
        /// A multi-line reply longer than [`super::MAX_REPLY_LINES`] lines;
        /// it was cut there.
        TOO_MANY_REPLY_LINES = 4, "ftp.too_many_reply_lines";
        /// Control characters (other than tab) or NUL in a command.
        CONTROL_CHARACTERS = 5, "ftp.control_characters";
    }
}
