//! Placeholder; see tidy.rs.
fn main() {}
