//! The integration suite of the hunting language, as one test binary (faster to build than one per file).
//!
//! Modules: `fixture` (the fixed dataset in a fresh SQLite store and the
//! `SqlSource` adapter over `Store::hunt_sql`), `golden` (the `.kql` files in
//! `tests/golden/` with their expected results), `injection` (nothing from
//! the query reaches SQL unbound), `never_panics` (random and mutated input),
//! `oracle` (Microsoft's own parser agrees with our golden files) and `docs`
//! (`docs/hunting.md` is complete).

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod suite;
