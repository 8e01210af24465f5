//! `cargo xtask tidy` runs the project checks and prints every problem; `cargo xtask bench` runs the benchmarks.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str).unwrap_or("tidy") {
        "tidy" => tidy(),
        "bench" => match xtask::bench::parse_args(&args[1..]).and_then(|o| xtask::bench::run(&o)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask tidy | cargo xtask bench [--help]");
            ExitCode::from(2)
        }
    }
}

fn tidy() -> ExitCode {
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
