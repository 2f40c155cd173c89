//! CR/LF hidden in a subject or a sender's name (RFC 2047 encoded words
//! decode to anything) must not become headers of the mail mailgate writes:
//! messages filed by `mailgate ingest`, their confirmation and team
//! notification written by `mailgate run --once` to the outbox folder, and
//! sent to the SMTP sink, whose envelope shows who really received them.

use std::path::Path;
use std::process::Stdio;

use base64::Engine as _;
use mailgate::intake::parse::parse;

use crate::{Sink, eml_files, support};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Three requests whose summary or sender's name carries line breaks.
fn requests() -> Vec<String> {
    vec![
        format!(
            "From: =?utf-8?B?{}?= <eve1@acme.fr>\nTo: support@example.com\nSubject: =?utf-8?B?{}?=\nMessage-ID: <crlf-1@acme.fr>\n\nPlease help.\n",
            b64("Eve\r\nBcc: victim1@evil.example"),
            b64("Hello\r\nBcc: victim2@evil.example\r\nX-Injected: yes\r\n\r\nInjected body")
        ),
        "From: =?utf-8?Q?Eve=0D=0AX-Injected:_name?= <eve2@acme.fr>\nTo: support@example.com\nSubject: =?utf-8?Q?Second=0D=0ABcc:_victim3@evil.example=0AX-Injected:_q?=\nMessage-ID: <crlf-2@acme.fr>\n\nPlease help again.\n".to_owned(),
        // A bare CR in the raw header: read as a line break, so the
        // incoming message has a Bcc header; the outgoing ones must not.
        "From: eve3@acme.fr\nTo: support@example.com\nSubject: Third\rBcc: victim4@evil.example\nMessage-ID: <crlf-3@acme.fr>\n\nAnd again.\n".to_owned(),
    ]
}

fn write_config(dir: &Path, smtp_port: Option<u16>) -> std::path::PathBuf {
    let smtp = smtp_port
        .map(|p| format!("[smtp]\nhost = \"127.0.0.1\"\nport = {p}\ntls = \"none\"\nfrom = \"support@example.com\"\n"))
        .unwrap_or_default();
    let path = dir.join("mailgate.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n[tickets]\nteam_address = \"team@example.com\"\ntracking_url = \"https://support.example.com\"\n[outbox]\ndirectory = \"{dir}/outbox\"\n[intake]\nown_addresses = [\"support@example.com\"]\n[[maildirs]]\nname = \"inbox\"\npath = \"{dir}/inbox\"\n{smtp}",
            dir = dir.display()
        ),
    )
    .unwrap();
    path
}

fn ingest(config: &Path, raw: &str) -> String {
    let mut child = support::mailgate(config, &["ingest"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), raw.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    stdout
}

/// The header fields of a raw message, unfolded: (name in lower case,
/// value). Panics on a line that is neither a field nor a continuation.
fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let head = text.split("\n\n").next().unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            fields.last_mut().expect("no continuation first").1 += line;
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header field: {line:?}\n{head}"));
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "bad field name {name:?}\n{head}"
        );
        fields.push((name.to_ascii_lowercase(), value.to_owned()));
    }
    assert!(!head.contains('\r'), "a bare CR in the header:\n{head:?}");
    fields
}

/// One mail mailgate wrote: no injected field, one of each address field
/// and subject, the subject on one line.
fn assert_clean(raw: &[u8], what: &str) {
    let fields = header_fields(raw);
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    for injected in ["bcc", "x-injected", "cc"] {
        assert!(
            !names.contains(&injected),
            "{injected} in {what}: {names:?}"
        );
    }
    for single in ["from", "to", "subject", "message-id"] {
        assert_eq!(
            names.iter().filter(|n| **n == single).count(),
            1,
            "{single} in {what}: {names:?}"
        );
    }
    let mail = parse(raw);
    let subject = mail.subject.clone().unwrap_or_default();
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    assert!(subject.starts_with("[SUP-"), "{subject:?}");
    for person in mail.to.iter().chain(&mail.from) {
        assert!(!person.email.contains("evil"), "{what}: {person:?}");
        if let Some(name) = &person.name {
            assert!(!name.contains(['\r', '\n']), "{what}: {person:?}");
        }
    }
    assert!(mail.cc.is_empty(), "{what}");
    let text = mail.text_body.clone().unwrap_or_default();
    assert!(!text.starts_with("Injected body"), "{what}:\n{text}");
}

#[tokio::test]
async fn line_breaks_in_the_summary_never_reach_outgoing_headers() {
    // The outbox folder (no SMTP server).
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None);
    for (i, raw) in requests().iter().enumerate() {
        assert_eq!(
            ingest(&config, raw).trim(),
            format!("-: SUP-{} created", i + 1)
        );
    }
    let store = mailgate::store::Store::open(
        &format!("sqlite://{}/mailgate.db", dir.path().display()),
        "SUP",
    )
    .await
    .unwrap();
    let mut summaries = Vec::new();
    for key in ["SUP-1", "SUP-2", "SUP-3"] {
        let ticket = store.ticket(key).await.unwrap();
        assert!(
            !ticket.summary.contains(['\r', '\n']),
            "{:?}",
            ticket.summary
        );
        if let Some(name) = &ticket.reporter_name {
            assert!(!name.contains(['\r', '\n']), "{name:?}");
        }
        summaries.push(ticket.summary);
    }
    store.close().await;
    assert_eq!(
        summaries[0],
        "Hello Bcc: victim2@evil.example X-Injected: yes Injected body"
    );

    let (code, stderr) = support::run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    let files = eml_files(&dir.path().join("outbox"));
    assert_eq!(
        files.len(),
        6,
        "a confirmation and a notification each: {files:?}"
    );
    let mut subjects = Vec::new();
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        assert_clean(&raw, &file.display().to_string());
        subjects.push(parse(&raw).subject.unwrap());
    }
    assert!(
        subjects
            .iter()
            .any(|s| s == "[SUP-1] Hello Bcc: victim2@evil.example X-Injected: yes Injected body"),
        "{subjects:?}"
    );

    // Through SMTP: each mail reaches its one recipient only.
    let smtp_dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&smtp_dir.path().join("sink"), 0, None) else {
        return;
    };
    let config = write_config(smtp_dir.path(), Some(sink.port));
    for raw in requests() {
        ingest(&config, &raw);
    }
    let (code, stderr) = support::run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    let envelopes = sink.envelopes();
    assert_eq!(envelopes.len(), 6);
    for envelope in &envelopes {
        let rcpt: Vec<&str> = envelope["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            matches!(
                rcpt.as_slice(),
                ["eve1@acme.fr" | "eve2@acme.fr" | "eve3@acme.fr" | "team@example.com"]
            ),
            "{envelope}"
        );
        let file = sink.dir.join(envelope["file"].as_str().unwrap());
        assert_clean(&std::fs::read(file).unwrap(), "a message sent");
    }
}
