//! DNS anomaly flags with stable names (`dns.<name>`).

crate::it::anomaly_set! {
    /// A set of DNS anomalies, as a bitset.
    Anomalies {
        /// The sections hold fewer entries than the header counts say.
        TRUNCATED_MESSAGE = 0, "dns.truncated_message";
        /// A label type other than a plain label or a pointer (0x40, 0x80).
        BAD_LABEL_TYPE = 1, "dns.bad_label_type";
        /// A name longer than 255 bytes.
        NAME_TOO_LONG = 2, "dns.name_too_long";
        /// A name follows more than [`super::MAX_POINTER_JUMPS`] compression
        /// pointers (a loop, or an attack on decoders).
        POINTER_LOOP = 3, "dns.pointer_loop";
        /// More than [`super::MAX_QUESTIONS`] questions; the rest were not kept.
        TOO_MANY_QUESTIONS = 4, "dns.too_many_questions";
        /// More than [`super::MAX_ANSWERS`] answers kept or
        /// [`super::MAX_RECORDS`] records walked.
        TOO_MANY_RECORDS = 5, "dns.too_many_records";
        /// An A record whose data is not 4 bytes, or AAAA not 16.
        INVALID_RDATA_LENGTH = 6, "dns.invalid_rdata_length";
        /// Bytes after the last record the counts describe.
        TRAILING_BYTES = 7, "dns.trailing_bytes";
        /// The reserved Z bit is set.
        NONZERO_Z = 8, "dns.nonzero_z";
        /// A standard query or its response without exactly one question.
        UNUSUAL_QUESTION_COUNT = 9, "dns.unusual_question_count";
        /// An opcode that is not assigned.
        UNKNOWN_OPCODE = 10, "dns.unknown_opcode";
        /// A query that carries answers.
        QUERY_WITH_ANSWERS = 11, "dns.query_with_answers";
    }
}
