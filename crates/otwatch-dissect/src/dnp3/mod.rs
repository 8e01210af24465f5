//! dnp3 dissector (being written; see the module owner).
