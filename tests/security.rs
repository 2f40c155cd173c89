//! Security checks, end to end, with the real binary and real servers: the
//! private Dovecot of tests/support, the aiosmtpd sink of
//! tests/harness/smtp_sink.py, a token endpoint and a TLS server on
//! loopback, and the web router served over HTTP.
//!
//! - `logs`: no password, OAuth secret or token, API token or database
//!   password in the output of `check`, `run --once`, `ingest` and the
//!   daemon at `RUST_LOG=trace`, in text and JSON, with right and wrong
//!   credentials, raw or base64-encoded (AUTHENTICATE PLAIN, XOAUTH2, SMTP
//!   AUTH) or URL-encoded (the token request). async-imap traces every
//!   command it sends, credentials included: the filter of `init_logging`
//!   (src/main.rs) keeps its `imap_stream` target at debug, and this test
//!   fails without it.
//! - `page`: dangerous attachment names (`../../etc/passwd`, absolute
//!   paths, NUL, `CON`, 4,000 bytes, markup) and `<script>` /
//!   `javascript:` in the subject, body and file names, filed by `ingest`,
//!   then on the tracking page and its downloads.
//! - `headers`: CR/LF in the summary and the sender's name (RFC 2047
//!   encoded words) never reach the headers of the mail written to the
//!   outbox folder nor the SMTP envelope.
//! - `tokens`: tracking tokens are 160 random bits, distinct, unrelated to
//!   the key.
//! - `tls`: an SMTP server whose certificate is not trusted is refused
//!   (implicit TLS and STARTTLS) before any AUTH.
//!
//! Covered elsewhere and not repeated here: `safe_filename` on each name
//! (src/intake/attachments.rs), header encoding of rendered mail
//! (src/outbox/render.rs), escaping, security headers, downloads of
//! another ticket's or an internal note's file, unknown and malformed
//! tokens, and the API refusing missing, wrong, `Basic` and empty bearer
//! tokens (tests/web.rs, `api_story`); an IMAP certificate that is not
//! trusted refused by `run` (tests/daemon.rs,
//! `tls_with_a_trusted_ca_and_refused_without`) and by `check`
//! (tests/daemon/check.rs, `tls_mailbox_needs_the_ca`).

#[path = "support/mod.rs"]
mod support;

#[path = "support/database.rs"]
mod database;

#[path = "security/headers.rs"]
mod headers;
#[path = "security/logs.rs"]
mod logs;
#[path = "security/page.rs"]
mod page;
#[path = "security/tls.rs"]
mod tls;
#[path = "security/tokens.rs"]
mod tokens;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub use support::sink::Sink;

/// What a mailgate command printed, with how it was run.
pub struct Run {
    pub label: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `mailgate --config CONFIG ARGS` with `RUST_LOG=trace` (and `env`),
/// `stdin` written to its standard input.
pub fn trace_run(config: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut child = support::mailgate(config, args)
        .env("RUST_LOG", "trace")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        label: format!("mailgate {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `.eml` files of a folder, sorted by name.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
