//! Intake against files: the golden fixtures written for this project, the
//! public corpus when it is present, and random or mutated input.

use std::path::{Path, PathBuf};

use mailgate::config::{self, Settings};
use mailgate::intake::{self, Decision, MailboxDefaults, Outcome};
use proptest::prelude::*;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/intake")
}

fn settings() -> Settings {
    config::load(
        Some(&fixtures_dir().join("mailgate.toml")),
        Some(Default::default()),
    )
    .expect("fixture configuration is valid")
}

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/intake exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

fn decide(raw: &[u8], settings: &Settings) -> Decision {
    intake::decide(raw, &settings.intake, &MailboxDefaults::default())
}

/// The decision as compared with the golden file: everything but the size,
/// which changes with line endings.
fn comparable(decision: &Decision) -> serde_json::Value {
    let mut value = serde_json::to_value(decision).unwrap();
    value["message"].as_object_mut().unwrap().remove("size");
    value
}

fn without_text_attachment_bytes(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(attachments) = value["ticket"]["attachments"].as_array_mut() {
        for a in attachments {
            let content_type = a["content_type"].as_str().unwrap_or_default().to_owned();
            // ASCII-armoured OpenPGP (`.asc`) is text whatever its type says.
            let armoured = a["filename"]
                .as_str()
                .and_then(|n| Path::new(n).extension())
                .is_some_and(|e| e.eq_ignore_ascii_case("asc"));
            if content_type.starts_with("text/") || content_type.starts_with("message/") || armoured
            {
                let a = a.as_object_mut().unwrap();
                a.remove("size");
                a.remove("sha256");
            }
        }
    }
    value
}

fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Each `NNN-name.eml` has its expected decision in `NNN-name.json`. On a
/// mismatch the actual decision is written to `NNN-name.actual.json` and the
/// test fails naming it. `MAILGATE_BLESS=1` writes the expected files
/// instead (review the diff before committing).
#[test]
fn golden_fixtures() {
    let settings = settings();
    let bless = std::env::var_os("MAILGATE_BLESS").is_some();
    let files = fixtures();
    assert!(files.len() >= 40, "only {} fixtures found", files.len());
    let mut failures = Vec::new();
    for eml in &files {
        let raw = std::fs::read(eml).unwrap();
        let decision = comparable(&decide(&raw, &settings));
        let expected_path = eml.with_extension("json");
        let actual_path = eml.with_extension("actual.json");
        let pretty = serde_json::to_string_pretty(&decision).unwrap() + "\n";
        if bless {
            std::fs::write(&expected_path, &pretty).unwrap();
            continue;
        }
        let expected: Option<serde_json::Value> = std::fs::read_to_string(&expected_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        if expected.as_ref() != Some(&decision) {
            std::fs::write(&actual_path, &pretty).unwrap();
            failures.push(actual_path.display().to_string());
            continue;
        }
        let _ = std::fs::remove_file(&actual_path);

        // The same message with CRLF line endings means the same thing; only
        // the bytes of attachments sent as text (a forwarded message, a
        // 7-bit CSV) carry the line endings with them.
        let crlf = comparable(&decide(&to_crlf(&raw), &settings));
        if without_text_attachment_bytes(crlf.clone())
            != without_text_attachment_bytes(decision.clone())
        {
            let path = eml.with_extension("crlf.actual.json");
            std::fs::write(&path, serde_json::to_string_pretty(&crlf).unwrap()).unwrap();
            failures.push(format!("{} (CRLF variant)", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "decisions differ from the golden files; see:\n{}",
        failures.join("\n")
    );
}

/// The corpus of public test messages in `../shared/corpus`, when present:
/// every message gets a decision without a panic, and every bounce and
/// auto-reply of the sisimai set is taken for a robot's.
#[test]
fn public_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        eprintln!(
            "SKIPPED: {} not found; the corpus test did not run",
            root.display()
        );
        return;
    }
    let settings = settings();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 300,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let mut not_robots = Vec::new();
    let (mut tickets, mut ignored, mut rejected) = (0, 0, 0);
    for path in &files {
        let raw = std::fs::read(path).unwrap();
        let decision = decide(&raw, &settings);
        serde_json::to_string(&decision).expect("every decision serialises");
        match &decision.outcome {
            Outcome::Ticket { .. } => tickets += 1,
            Outcome::Ignored { .. } => ignored += 1,
            Outcome::Rejected { .. } => rejected += 1,
        }
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ordinary = relative.starts_with("sisimai-set-of-emails/maildir/not/");
        if relative.starts_with("sisimai-set-of-emails/")
            && !ordinary
            && !matches!(decision.outcome, Outcome::Ignored { .. })
        {
            not_robots.push(relative);
        }
    }
    eprintln!(
        "corpus: {} messages, {tickets} tickets, {ignored} ignored, {rejected} rejected",
        files.len()
    );
    assert!(
        not_robots.is_empty(),
        "robots taken for people: {not_robots:#?}"
    );
}

/// Truncation at every MIME boundary line of a fixture.
#[test]
fn truncated_at_every_boundary_still_decides() {
    let settings = settings();
    for eml in fixtures() {
        let raw = std::fs::read(&eml).unwrap();
        let mut offset = 0;
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"--") {
                let _ = decide(&raw[..offset], &settings);
                let _ = decide(&raw[..offset + line.len() / 2], &settings);
            }
            offset += line.len();
        }
    }
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    fixtures()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let settings = settings();
        let decision = decide(&raw, &settings);
        prop_assert!(serde_json::to_string(&decision).is_ok());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        index in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..24),
    ) {
        let settings = settings();
        let all = fixture_bytes();
        let mut raw = all[index.index(all.len())].clone();
        for (at, byte, op) in edits {
            if raw.is_empty() { break; }
            let i = at.index(raw.len());
            match op {
                0 => raw[i] = byte,
                1 => { raw.insert(i, byte); }
                2 => { raw.remove(i); }
                _ => raw.truncate(i),
            }
        }
        let decision = decide(&raw, &settings);
        prop_assert!(serde_json::to_string(&decision).is_ok());
    }

    #[test]
    fn random_subjects_never_panic(subject in "\\PC{0,300}") {
        let settings = settings();
        let raw = format!("From: a@b.fr\nSubject: {subject}\n\nbody\n");
        let decision = decide(raw.as_bytes(), &settings);
        if let Outcome::Ticket { ticket } = &decision.outcome {
            prop_assert!(ticket.summary.chars().count() <= 255);
            prop_assert!(!ticket.summary.contains(['\r', '\n']));
        }
    }
}

#[path = "intake/replies.rs"]
mod replies;

#[path = "intake/charsets.rs"]
mod charsets;

#[path = "support/database.rs"]
mod database;

#[path = "intake/sealed.rs"]
mod sealed;
