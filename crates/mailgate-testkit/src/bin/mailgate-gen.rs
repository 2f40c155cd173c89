//! `mailgate-gen`: writes a deterministic set of realistic support mail
//! (see `mailgate_testkit::generate`) with a manifest of what each message
//! should become, for the chaos suite and the benchmark.
//!
//! ```sh
//! mailgate-gen --seed 1 --count 1000 --out DIR            # DIR/000001.eml …, DIR/manifest.json
//! mailgate-gen --seed 1 --count 1000 --mbox support.mbox  # one mbox, support.mbox.manifest.json
//! ```

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use mailgate_testkit::{Generator, Manifest, Mix, file_name, mbox_entry};

#[derive(Parser)]
#[command(
    name = "mailgate-gen",
    version,
    about = "Writes a deterministic set of realistic support mail and its manifest"
)]
struct Args {
    /// The same seed and count always give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// How many messages.
    #[arg(long, default_value_t = 1000)]
    count: usize,

    /// Folder to write `000001.eml`… and `manifest.json` into (created;
    /// earlier `NNNNNN.eml` files there are removed).
    #[arg(long, value_name = "DIR", required_unless_present = "mbox")]
    out: Option<PathBuf>,

    /// Also (or instead) write every message into one mbox file, for
    /// `mailgate import mbox`.
    #[arg(long, value_name = "FILE")]
    mbox: Option<PathBuf>,

    /// Where the manifest goes [default: DIR/manifest.json, else
    /// FILE.manifest.json].
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,

    /// standard (20% attachments up to 2 MiB, 5% HTML-only, 5% robots, 10%
    /// replies), light (attachments up to 64 KiB) or chaos (standard plus 2%
    /// without a sender).
    #[arg(long, default_value = "standard", value_parser = clap::builder::PossibleValuesParser::new(Mix::NAMES))]
    mix: String,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mailgate-gen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Removes the files an earlier run left in `dir`, so that the folder
/// holds one set only.
fn clear_earlier_set(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let ours = name.len() == 10
            && std::path::Path::new(name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
            && name[..6].bytes().all(|b| b.is_ascii_digit());
        if ours && path.is_file() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn run(args: &Args) -> Result<String> {
    let started = Instant::now();
    let mix = Mix::named(&args.mix).expect("clap checked the name");
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        clear_earlier_set(dir)?;
    }
    let mut mbox = match &args.mbox {
        Some(path) => Some(BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let mbox_name = args
        .mbox
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let mut manifest = Manifest::new(args.seed, &mix);
    for message in Generator::new(args.seed, args.count, &mix) {
        let file = match &args.out {
            Some(dir) => {
                let name = file_name(message.index);
                let path = dir.join(&name);
                std::fs::write(&path, &message.raw)
                    .with_context(|| format!("writing {}", path.display()))?;
                name
            }
            None => format!("{mbox_name}#{}", message.index + 1),
        };
        if let Some(writer) = &mut mbox {
            writer
                .write_all(&mbox_entry(&message))
                .with_context(|| format!("writing {mbox_name}"))?;
        }
        manifest.push(file, &message);
    }
    if let Some(mut writer) = mbox {
        writer
            .flush()
            .with_context(|| format!("writing {mbox_name}"))?;
    }

    let manifest_path = match (&args.manifest, &args.out, &args.mbox) {
        (Some(path), _, _) => path.clone(),
        (None, Some(dir), _) => dir.join("manifest.json"),
        (None, None, Some(mbox)) => {
            let mut name = mbox.clone().into_os_string();
            name.push(".manifest.json");
            PathBuf::from(name)
        }
        (None, None, None) => unreachable!("clap requires --out or --mbox"),
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    std::fs::write(&manifest_path, json)
        .with_context(|| format!("writing {}", manifest_path.display()))?;

    let written: Vec<String> = args
        .out
        .iter()
        .chain(&args.mbox)
        .map(|p| p.display().to_string())
        .collect();
    Ok(format!(
        "mailgate-gen: {} messages (seed {}, mix {}): {} tickets, {} comments, {} ignored, {} rejected; {} with attachments, {} HTML-only; {:.1} MB in {} ({:.2} s)",
        manifest.count,
        args.seed,
        args.mix,
        manifest.totals["ticket"],
        manifest.totals["comment"],
        manifest.totals["ignored"],
        manifest.totals["rejected"],
        manifest.with_attachments,
        manifest.html_only,
        manifest.total_bytes as f64 / 1e6,
        written.join(" and "),
        started.elapsed().as_secs_f64()
    ))
}
