//! s7comm dissector (being written; see the module owner).
