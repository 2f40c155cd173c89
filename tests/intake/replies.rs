//! Reply fixtures: fixtures/replies/NNN-client-language.eml, each with the
//! comment text expected from it in NNN-client-language.txt.

use std::path::{Path, PathBuf};

use mailgate::intake::Outcome;

use super::{decide, settings, to_crlf};

fn replies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/replies")
}

fn reply_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(replies_dir())
        .expect("fixtures/replies exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

/// The language a fixture is named after: the last `-` part of its stem.
fn language(eml: &Path) -> &str {
    let stem = eml.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    stem.rsplit('-').next().unwrap_or_default()
}

/// The comment a message becomes, or why it became none.
fn reply_of(raw: &[u8], settings: &mailgate::config::Settings) -> Result<String, String> {
    match decide(raw, settings).outcome {
        Outcome::Ticket { ticket } => Ok(ticket.reply),
        other => Err(format!("no ticket: {other:?}")),
    }
}

/// Shows a text with its line structure visible in a failure report.
fn indented(text: &str) -> String {
    if text.is_empty() {
        return "    (empty)".to_owned();
    }
    text.lines()
        .map(|l| format!("    |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reply_fixtures_keep_only_what_the_customer_wrote() {
    let settings = settings();
    let files = reply_fixtures();
    assert!(
        files.len() >= 25,
        "only {} reply fixtures found",
        files.len()
    );
    for wanted in ["fr", "en"] {
        assert!(
            files.iter().any(|f| language(f) == wanted),
            "no reply fixture in language {wanted:?}"
        );
    }

    let mut failures = Vec::new();
    for eml in &files {
        let name = eml.file_name().unwrap().to_string_lossy().into_owned();
        let raw = std::fs::read(eml).unwrap();
        let expected = match std::fs::read_to_string(eml.with_extension("txt")) {
            Ok(text) => text.trim_end().to_owned(),
            Err(e) => {
                failures.push(format!("{name}: cannot read the expected .txt: {e}"));
                continue;
            }
        };
        let lf = reply_of(&raw, &settings).map(|r| r.trim_end().to_owned());
        let crlf = reply_of(&to_crlf(&raw), &settings).map(|r| r.trim_end().to_owned());
        match (&lf, &crlf) {
            (Ok(actual), _) if *actual != expected => failures.push(format!(
                "{name}:\n  expected:\n{}\n  actual:\n{}",
                indented(&expected),
                indented(actual)
            )),
            (Err(why), _) => failures.push(format!("{name}: {why}")),
            (Ok(actual), Ok(crlf)) if crlf != actual => failures.push(format!(
                "{name} (CRLF line endings):\n  with LF:\n{}\n  with CRLF:\n{}",
                indented(actual),
                indented(crlf)
            )),
            (Ok(_), Err(why)) => failures.push(format!("{name} (CRLF line endings): {why}")),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} reply fixtures differ from their .txt:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
