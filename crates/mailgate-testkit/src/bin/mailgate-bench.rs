//! `mailgate-bench`: helper of `bench/run` (not part of the gateway).
//!
//! ```sh
//! mailgate-bench parse --config FILE --reps 3 DIR   # intake::decide over DIR/*.eml held in memory
//! ```
//!
//! Reads every `*.eml` of DIR into memory first, then times
//! `mailgate::intake::decide` over all of them, `--reps` times, and prints
//! one JSON line: messages, bytes, the time of each repetition, the median
//! and MB/s (10^6 bytes per second) of the median.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mailgate::intake::{MailboxDefaults, decide};

fn usage() -> ExitCode {
    eprintln!("usage: mailgate-bench parse [--config FILE] [--reps N] DIR");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("parse") {
        return usage();
    }
    let mut config: Option<PathBuf> = None;
    let mut reps = 3usize;
    let mut dir: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = args.next().map(PathBuf::from),
            "--reps" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => reps = n,
                _ => return usage(),
            },
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return usage(),
        }
    }
    let Some(dir) = dir else {
        return usage();
    };
    let settings = match mailgate::config::load(config.as_deref(), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mailgate-bench: {e}");
            return ExitCode::from(78);
        }
    };
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect(),
        Err(e) => {
            eprintln!("mailgate-bench: {}: {e}", dir.display());
            return ExitCode::from(66);
        }
    };
    paths.sort();
    let mut corpus = Vec::with_capacity(paths.len());
    for path in &paths {
        match std::fs::read(path) {
            Ok(bytes) => corpus.push(bytes),
            Err(e) => {
                eprintln!("mailgate-bench: {}: {e}", path.display());
                return ExitCode::from(66);
            }
        }
    }
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let defaults = MailboxDefaults::default();
    let mut times = Vec::with_capacity(reps);
    let mut outcomes = 0usize;
    for _ in 0..reps {
        let started = Instant::now();
        for raw in &corpus {
            let decision = decide(raw, &settings.intake, &defaults);
            // Keep the work observable so it cannot be optimised away.
            outcomes += usize::from(decision.message.size > 0);
        }
        times.push(started.elapsed().as_secs_f64());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{{\"messages\": {}, \"bytes\": {}, \"reps\": {}, \"times\": {:?}, \"median_s\": {:.6}, \"mb_per_s\": {:.2}, \"msgs_per_s\": {:.1}, \"decided\": {}}}",
        corpus.len(),
        bytes,
        reps,
        times,
        median,
        bytes as f64 / 1e6 / median,
        corpus.len() as f64 / median,
        outcomes
    );
    ExitCode::SUCCESS
}
