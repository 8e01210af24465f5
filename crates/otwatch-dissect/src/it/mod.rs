//! it dissector (being written; see the module owner).
