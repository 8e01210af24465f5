//! The modules of the integration suite.

pub mod docs;
pub mod fixture;
pub mod golden;
pub mod injection;
pub mod never_panics;
pub mod oracle;
