//! `mailgate check` against a real Dovecot (tests/support) and the SMTP sink
//! of tests/harness/smtp_sink.py with `--auth`: everything right, a wrong
//! IMAP password, a wrong SMTP password, an invalid configuration, and a TLS
//! mailbox with and without the test CA.

use std::path::Path;

use crate::support::sink::Sink;
use crate::support::{self, Dovecot, dovecot_available, mailbox_toml, write_config};

/// The `[smtp]` section for the sink with these credentials.
fn smtp_toml(port: u16, username: &str, password: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"{username}\"\npassword = \"{password}\"\nfrom = \"support@example.com\"\n"
    )
}

/// `mailgate check ARGS`: exit status and standard output.
fn check(config: &Path, args: &[&str]) -> (i32, String) {
    let out = support::mailgate(config, &[&["check"], args].concat())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), stdout)
}

/// The item lines (every line but the summary).
fn items(stdout: &str) -> Vec<&str> {
    let lines: Vec<&str> = stdout.lines().collect();
    lines[..lines.len().saturating_sub(1)].to_vec()
}

fn line_with<'a>(stdout: &'a str, start: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{stdout}"))
}

#[test]
fn everything_right_passes_and_missing_folders_are_only_warnings() {
    if !dovecot_available("check_everything_right") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&dir.path().join("sink"), 0, Some("mailgate:smtp-secret")) else {
        return;
    };
    let dovecot = Dovecot::start();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            mailbox_toml("support", dovecot.port, "support", "secret", ""),
            smtp_toml(sink.port, "mailgate", "smtp-secret")
        ),
    );
    // Senders authenticated by our receiving server, or `check` warns.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "[intake]\n",
            "[intake]\ntrusted_authserv_ids = [\"mx.example.com\"]\n",
        ),
    )
    .unwrap();

    // A new mailbox: Processed and Quarantine do not exist yet. `check`
    // says so without creating them, and does not fail.
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains('✗'), "{out}");
    for folder in ["Processed", "Quarantine"] {
        assert!(
            line_with(&out, &format!("! mailbox support: folder {folder} missing"))
                .contains("`mailgate run` creates it at start"),
            "{out}"
        );
    }
    assert!(out.trim_end().ends_with("passed (2 warnings)"), "{out}");

    let (code, out) = check(&config, &["--create-folders"]);
    assert_eq!(code, 0, "{out}");
    line_with(&out, "✓ mailbox support: folder Processed created");
    line_with(&out, "✓ mailbox support: folder Quarantine created");

    // Now every item passes.
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 0, "{out}");
    let lines = items(&out);
    assert!(lines.iter().all(|l| l.starts_with('✓')), "{out}");
    for expected in [
        "✓ configuration: ",
        "✓ database sqlite://",
        &format!(
            "✓ mailbox support: connected to 127.0.0.1:{} (plain text)",
            dovecot.port
        ),
        "✓ senders: authenticated by the Authentication-Results of mx.example.com",
        "✓ mailbox support: logged in as support (LOGIN)",
        "✓ mailbox support: IDLE",
        "✓ mailbox support: MOVE",
        "✓ mailbox support: UIDPLUS",
        "✓ mailbox support: folder INBOX: 0 message(s) waiting",
        "✓ mailbox support: folder Processed exists",
        "✓ mailbox support: folder Quarantine exists",
        &format!(
            "✓ smtp 127.0.0.1:{}: connected (plain text), EHLO",
            sink.port
        ),
        &format!("✓ smtp 127.0.0.1:{}: AUTH PLAIN as mailgate", sink.port),
    ] {
        line_with(&out, expected);
    }
    assert_eq!(
        out.lines().last().unwrap(),
        format!("all {} checks passed", lines.len())
    );

    // The same for machines.
    let (code, out) = check(&config, &["--json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["ok"], true);
    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(checks.len(), lines.len());
    assert!(checks.iter().all(|c| c["status"] == "pass"), "{out}");
}

#[test]
fn wrong_imap_password_names_the_mailbox() {
    if !dovecot_available("check_wrong_imap_password") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            mailbox_toml("support", dovecot.port, "support", "not-the-password", ""),
            mailbox_toml("feature", dovecot.port, "feature", "secret", "")
        ),
    );
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 1, "{out}");
    line_with(&out, "✓ mailbox support: connected to 127.0.0.1");
    let refused = line_with(&out, "✗ mailbox support: login refused");
    assert!(
        refused.ends_with("— wrong username or password (username support)"),
        "{refused}"
    );
    assert!(
        refused.starts_with(
            "✗ mailbox support: login refused: [AUTHENTICATIONFAILED] Authentication failed. — "
        ),
        "{refused}"
    );
    // The other mailbox is still checked.
    line_with(&out, "✓ mailbox feature: logged in as feature");
    assert_eq!(out.matches('✗').count(), 1, "{out}");
    // No colours when the output is not a terminal.
    assert!(!out.contains('\x1b'));
}

#[test]
fn wrong_smtp_password_is_reported_with_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&dir.path().join("sink"), 0, Some("mailgate:smtp-secret")) else {
        return;
    };
    // A local folder rather than a mailbox: no Dovecot needed here.
    let config = write_config(
        dir.path(),
        &format!(
            "[[maildirs]]\nname = \"drop\"\npath = \"{}/drop\"\n{}",
            dir.path().display(),
            smtp_toml(sink.port, "mailgate", "wrong")
        ),
    );
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 1, "{out}");
    let subject = format!("smtp 127.0.0.1:{}", sink.port);
    line_with(&out, &format!("✓ {subject}: connected (plain text), EHLO"));
    let refused = line_with(&out, &format!("✗ {subject}: AUTH refused"));
    assert!(refused.contains("535"), "{refused}");
    assert!(
        refused.ends_with("— wrong SMTP username or password (username mailgate)"),
        "{refused}"
    );
    line_with(&out, "✓ maildir drop: folder ");
    assert_eq!(out.lines().last().unwrap().split(' ').next(), Some("1"));
}

#[test]
fn an_invalid_configuration_lists_every_problem_and_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailgate.toml");
    std::fs::write(
        &config,
        "[database]\nurl = \"mysql://x\"\n[tickets]\nkey_prefix = \"sup\"\n[smtp]\nhost = \"smtp.example.com\"\ntls = \"ssl\"\nfrom = \"nobody\"\n[[mailboxes]]\nname = \"support\"\nhost = \"imap.example.com\"\nusername = \"u\"\npoll_interval = \"often\"\n",
    )
    .unwrap();
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 78, "{out}");
    let lines = items(&out);
    for key in [
        "database.url",
        "tickets.key_prefix",
        "smtp.tls",
        "smtp.from",
        "mailboxes[0].poll_interval",
        "mailboxes[0].password",
    ] {
        line_with(&out, &format!("✗ config {key}: "));
    }
    assert!(lines.iter().all(|l| l.starts_with("✗ config ")), "{out}");
    assert_eq!(
        out.lines().last().unwrap(),
        format!(
            "the configuration has {} problems: nothing else was checked",
            lines.len()
        )
    );
    // Nothing else was touched: no database was created.
    assert!(!dir.path().join("data").exists());

    // Unreadable TOML is a problem too.
    std::fs::write(&config, "[database\n").unwrap();
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 78, "{out}");
    assert!(out.starts_with("✗ config "), "{out}");

    // An address with no local part, which the validator once let through
    // (`&&` bound tighter than `||`): refused by both commands, key named.
    std::fs::write(
        &config,
        "[smtp]\nhost = \"127.0.0.1\"\nfrom = \"@localhost\"\n",
    )
    .unwrap();
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 78, "{out}");
    line_with(&out, "✗ config smtp.from: ");
    let out = support::mailgate(&config, &["config", "check"])
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{printed}");
    assert!(printed.contains("smtp.from"), "{printed}");
}

#[test]
fn tls_mailbox_needs_the_ca() {
    if !dovecot_available("check_tls") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let tls_mailbox = |ca: &str| {
        format!(
            "[[mailboxes]]\nname = \"secure\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"implicit\"\nusername = \"support\"\npassword = \"secret\"\ntimeout = \"20s\"\n{ca}\n",
            dovecot.tls_port
        )
    };
    let config = write_config(dir.path(), &tls_mailbox(""));
    let (code, out) = check(&config, &[]);
    assert_eq!(code, 1, "{out}");
    let failed = line_with(&out, "✗ mailbox secure: TLS with 127.0.0.1:");
    assert!(
        failed.ends_with("— certificate not trusted: set ca_file or fix the server certificate"),
        "{failed}"
    );

    let config = write_config(
        dir.path(),
        &tls_mailbox(&format!("ca_file = \"{}\"", dovecot.ca_file().display())),
    );
    let (code, out) = check(&config, &["--create-folders"]);
    assert_eq!(code, 0, "{out}");
    line_with(
        &out,
        &format!(
            "✓ mailbox secure: connected to 127.0.0.1:{} (TLS)",
            dovecot.tls_port
        ),
    );
    line_with(&out, "✓ mailbox secure: logged in as support");
    assert!(!out.contains('✗'), "{out}");
}
