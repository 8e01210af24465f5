//! Prints the truth-shaped JSON summary of one or more captures (what `otwatch pcap summary` prints).
//!
//! Usage: `cargo run -p otwatch-sensor --example summary -- FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use otwatch_sensor::summary::{SummaryError, SummaryOptions, summarize};

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: summary FILE...");
        return ExitCode::from(2);
    }
    let opts = SummaryOptions { progress: true, ..SummaryOptions::default() };
    let (value, code) = match summarize(&paths, &opts) {
        Ok(v) => (v, ExitCode::SUCCESS),
        Err(SummaryError::Damaged { error, others, partial }) => {
            eprintln!("error: {error}");
            for e in others {
                eprintln!("error: {e}");
            }
            (*partial, ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match serde_json::to_string_pretty(&value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
    code
}
