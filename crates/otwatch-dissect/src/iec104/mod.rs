//! iec104 dissector (being written; see the module owner).
