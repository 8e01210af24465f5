//! Flow table and TCP reassembly (being written).
