//! `cargo xtask tidy`: runs the project checks and prints every problem.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_else(|| "tidy".into());
    if cmd != "tidy" {
        eprintln!("usage: cargo xtask tidy");
        return ExitCode::from(2);
    }
    let mut problems = Vec::new();
    for r in [xtask::check_dependencies(), xtask::check_sources()] {
        match r {
            Ok(p) => problems.extend(p),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if problems.is_empty() {
        println!("tidy: ok");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        ExitCode::FAILURE
    }
}
