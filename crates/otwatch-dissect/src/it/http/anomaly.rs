//! HTTP anomaly flags with stable names (`http.<name>`).

crate::it::anomaly_set! {
    /// A set of HTTP anomalies, as a bitset.
    Anomalies {
        /// A header line longer than [`super::MAX_HEADER_LINE_LEN`].
        LONG_HEADER = 0, "http.long_header";
        /// More than [`super::MAX_HEADERS`] header fields; the rest were
        /// checked but not kept.
        TOO_MANY_HEADERS = 1, "http.too_many_headers";
        /// A header line without a colon, or with white space before it.
        INVALID_HEADER = 2, "http.invalid_header";
        /// A line ending in a bare LF instead of CRLF.
        BARE_LF = 3, "http.bare_lf";
        /// A method that is not registered (RFC 9110, WebDAV).
        UNKNOWN_METHOD = 4, "http.unknown_method";
        /// A version other than HTTP/1.0 or HTTP/1.1.
        INVALID_VERSION = 5, "http.invalid_version";
        /// A Content-Length that is not a number, or two that differ.
        INVALID_CONTENT_LENGTH = 6, "http.invalid_content_length";
        /// Both Content-Length and Transfer-Encoding (request smuggling).
        CONTENT_LENGTH_WITH_TRANSFER_ENCODING = 7, "http.content_length_with_transfer_encoding";
        /// Two Host fields.
        DUPLICATE_HOST = 8, "http.duplicate_host";
        /// An HTTP/1.1 request without Host.
        MISSING_HOST = 9, "http.missing_host";
        /// A header continued on the next line (obsolete line folding).
        OBSOLETE_LINE_FOLDING = 10, "http.obsolete_line_folding";
        /// Control characters (other than tab) or NUL in the head.
        CONTROL_CHARACTERS = 11, "http.control_characters";
        /// A status code outside 100-599.
        INVALID_STATUS = 12, "http.invalid_status";
        /// A request target longer than [`super::MAX_HEADER_LINE_LEN`].
        LONG_TARGET = 13, "http.long_target";
    }
}
