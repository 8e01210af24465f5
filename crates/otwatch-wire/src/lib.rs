//! L2–L4 decoding (being written).
