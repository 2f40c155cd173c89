//! Received messages through the binary: the quarantine listed, shown and
//! retried with a changed configuration (SQLite and PostgreSQL, with two
//! retries racing in the store), and bulk import of an mbox (LF and CRLF)
//! and a Maildir, twice.

use std::path::Path;
use std::process::{Command, Stdio};

use mailgate::intake::{self, MailboxDefaults};
use mailgate::store::{Filed, Inbound, Retry, SourceKind, Store};

use super::{TestDb, mailgate, settings, write_config};

/// The binary's exit status and its standard output as bytes.
fn mailgate_raw(config: &Path, args: &[&str]) -> (i32, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), out.stdout)
}

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A request of about 4 KB from `who`, with CRLF line ends and a Latin-1
/// byte, so that `--raw` is checked byte for byte.
fn big_request(who: &str) -> Vec<u8> {
    let mut raw = format!(
        "From: {who}@acme.fr\r\nTo: support@example.com\r\nSubject: Logs from {who}\r\nMessage-ID: <big-{who}@acme.fr>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nThe export fails, caf"
    )
    .into_bytes();
    raw.push(0xE9);
    raw.extend_from_slice(b".\r\n");
    for i in 0..80 {
        raw.extend_from_slice(format!("log line {i:03}: {}\r\n", "x".repeat(40)).as_bytes());
    }
    raw
}

fn ingest(config: &Path, raw: &[u8]) -> (i32, String) {
    let (code, out, err) = mailgate(config, &["ingest"], Some(raw));
    (code, format!("{out}{err}"))
}

fn quarantined(config: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = mailgate(
        config,
        &["messages", "list", "--status", "quarantined", "--json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    json_lines(&out)
}

async fn quarantine_and_retry(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    // Two configurations, one database: a small size limit, then a big one.
    let (small_dir, big_dir) = (dir.path().join("small"), dir.path().join("big"));
    std::fs::create_dir(&small_dir).unwrap();
    std::fs::create_dir(&big_dir).unwrap();
    let small = write_config(&small_dir, url, "max_message_size = 2048");
    let first = big_request("ann");

    let (code, out) = ingest(&small, &first);
    assert_eq!(code, 65, "{out}");
    assert!(out.contains("rejected (too-large)"), "{out}");
    let listed = quarantined(&small);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let id = listed[0]["id"].as_i64().unwrap();
    assert_eq!(listed[0]["outcome"], "rejected");
    assert_eq!(listed[0]["reason"], "too-large");
    assert_eq!(listed[0]["size"], first.len());
    let id_arg = id.to_string();

    // Shown: the decision and headers; --raw gives the stored bytes exactly.
    let (code, out, err) = mailgate(&small, &["messages", "show", &id_arg], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rejected (too-large)"), "{out}");
    assert!(out.contains("Logs from ann"), "{out}");
    assert!(out.contains("\"outcome\": \"rejected\""), "{out}");
    let (code, raw) = mailgate_raw(&small, &["messages", "show", &id_arg, "--raw"]);
    assert_eq!(code, 0);
    assert_eq!(raw, first);

    // A bigger limit: the retry makes it a ticket, on the same record.
    let big = write_config(&big_dir, url, "max_message_size = 1000000");
    let (code, out, err) = mailgate(&big, &["messages", "show", &id_arg, "--json"], None);
    assert_eq!(code, 0, "{err}");
    let shown: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(shown["decision_now"]["outcome"], "ticket", "{shown}");
    let (code, out, err) = mailgate(&big, &["messages", "retry", &id_arg], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("message {id}: SUP-1 created (was rejected: too-large)")
    );
    assert!(quarantined(&big).is_empty());
    let (_, out, _) = mailgate(&big, &["messages", "list", "--json"], None);
    let all = json_lines(&out);
    assert_eq!(all.len(), 1, "no second record: {all:?}");
    assert_eq!(all[0]["outcome"], "ticket");
    assert_eq!(all[0]["ticket"], "SUP-1");
    assert_eq!(all[0]["message_id"], "big-ann@acme.fr");
    assert!(all[0]["retried_at"].is_string());
    let (code, out, _) = mailgate(&big, &["tickets", "show", "SUP-1", "--json"], None);
    assert_eq!(code, 0);
    let ticket: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(ticket["summary"], "Logs from ann");
    assert!(ticket["description"].as_str().unwrap().contains("café"));
    // A retried message is mailed about like a new one.
    assert_eq!(ticket["replies"][0]["kind"], "confirmation");
    assert_eq!(ticket["replies"][0]["status"], "pending");
    let (code, out, _) = mailgate(&big, &["messages", "show", &id_arg], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("Retried:") && out.contains("rejected (too-large) → ticket (SUP-1)"),
        "{out}"
    );

    // A second retry is refused: it was filed.
    let (code, out, err) = mailgate(&big, &["messages", "retry", &id_arg], None);
    assert_eq!(code, 65, "{out}");
    assert!(
        err.contains("not quarantined") && err.contains("SUP-1"),
        "{err}"
    );
    let (code, _, err) = mailgate(&big, &["messages", "retry", "999"], None);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("no message 999"), "{err}");
    // The same bytes again are a duplicate of the retried message's ticket.
    let (code, out) = ingest(&big, &first);
    assert_eq!(code, 0);
    assert!(
        out.contains("duplicate of message") && out.contains("SUP-1"),
        "{out}"
    );

    // Several at once: two too large, one empty (rejected whatever the
    // limit, so it stays quarantined and the status says so).
    for raw in [big_request("bob"), big_request("eve"), Vec::new()] {
        let (code, out) = ingest(&small, &raw);
        assert_eq!(code, 65, "{out}");
    }
    assert_eq!(quarantined(&small).len(), 3);
    let (code, out, err) = mailgate(&big, &["messages", "retry", "--all-quarantined"], None);
    assert_eq!(code, 65, "{out}{err}");
    assert!(
        out.contains("SUP-2 created") && out.contains("SUP-3 created"),
        "{out}"
    );
    assert!(out.contains("rejected again (empty)"), "{out}");
    assert!(
        out.contains("3 retried: 2 ticket(s), 0 comment(s), 0 ignored, 1 rejected"),
        "{out}"
    );
    let left = quarantined(&big);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["reason"], "empty");
    let (_, out, _) = mailgate(&big, &["messages", "list", "--status", "ticket"], None);
    assert!(out.contains("3 message(s)"), "{out}");

    // Two retries racing on one message: exactly one files it.
    let (code, _) = ingest(&small, &big_request("zed"));
    assert_eq!(code, 65);
    let id = quarantined(&small)[0]["id"].as_i64().unwrap();
    let mut settings = settings();
    settings.database.url = url.to_owned();
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let raw = store.inbound_raw(id).await.unwrap();
    let decision = intake::decide(&raw, &settings.intake, &MailboxDefaults::default());
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            let decision = decision.clone();
            tokio::spawn(async move { store.refile(id, &decision).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for racer in racers {
        results.push(racer.await.unwrap());
    }
    let filed = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Retry::Refiled {
                    filed: Filed::Ticket { .. },
                    ..
                }
            )
        })
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Retry::NotQuarantined { outcome, .. } if outcome == "ticket"))
        .count();
    assert_eq!((filed, refused), (1, 1), "{results:?}");
    assert_eq!(store.message_retries(id).await.unwrap().len(), 1);
    assert_eq!(store.list_tickets(None).await.unwrap().len(), 4);

    // An IMAP message over the limit is kept as its header only: it cannot
    // be decided again from that, and the retry says where the rest is.
    let header = b"From: max@acme.fr\r\nSubject: Huge\r\nMessage-ID: <huge@acme.fr>\r\n\r\n";
    let inbound = Inbound {
        source: SourceKind::Imap,
        mailbox: Some("support"),
        uidvalidity: Some(7),
        uid: Some(1),
        raw: header,
        digest: None,
    };
    let decision = intake::decide_oversize(
        header,
        50_000,
        &settings.intake,
        &MailboxDefaults::default(),
    );
    let filed = store.file_message(&inbound, &decision).await.unwrap();
    assert!(matches!(filed, Filed::Rejected { .. }), "{filed:?}");
    store.close().await;
    let id = quarantined(&big)[0]["id"].to_string();
    let (code, _, err) = mailgate(&big, &["messages", "retry", &id], None);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("only its header was kept"), "{err}");
    let (_, out, _) = mailgate(&big, &["messages", "show", &id], None);
    assert!(out.contains("Cannot be retried"), "{out}");
    assert_eq!(quarantined(&big).len(), 2, "still quarantined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_retry_on_sqlite() {
    let db = TestDb::sqlite();
    quarantine_and_retry(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_retry_on_postgres() {
    let Some(db) = TestDb::postgres("messages_retry").await else {
        return;
    };
    quarantine_and_retry(&db.url).await;
    db.drop_pg().await;
}

/// A request that the receiving server's SpamAssassin flagged, under a
/// forged "not spam" verdict of the sender's own.
fn flagged(n: u32) -> Vec<u8> {
    format!(
        "From: Deals <deals{n}@bulk.example>\nTo: support@example.com\nSubject: Cheap licences {n}\nMessage-ID: <spam-{n}@bulk.example>\nX-Spam-Flag: YES\nX-Spam-Status: Yes, score=8.2 required=5.0\nX-Spam-Status: No, score=-10\n\nBuy now.\n"
    )
    .into_bytes()
}

/// The kinds of mail queued, oldest first.
async fn outbox_kinds(url: &str) -> Vec<String> {
    let store = Store::open(url, "SUP").await.unwrap();
    let rows = store.list_outbox().await.unwrap();
    store.close().await;
    rows.into_iter().map(|r| r.kind).collect()
}

async fn spam_verdicts(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (ignore_dir, hold_dir, off_dir) = (
        dir.path().join("ignore"),
        dir.path().join("hold"),
        dir.path().join("off"),
    );
    for d in [&ignore_dir, &hold_dir, &off_dir] {
        std::fs::create_dir(d).unwrap();
    }
    // The default: kept in quarantine, no ticket, no reply.
    let ignore = write_config(&ignore_dir, url, "");
    let (code, out) = ingest(&ignore, &flagged(1));
    assert_eq!(code, 65, "{out}");
    assert!(out.contains("rejected (spam)"), "{out}");
    let listed = quarantined(&ignore);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["reason"], "spam");
    assert!(
        listed[0]["detail"]
            .as_str()
            .unwrap()
            .contains("spamassassin says spam"),
        "{listed:?}"
    );
    assert!(outbox_kinds(url).await.is_empty(), "no reply to spam");
    // A false positive, retried by its id: filed, and answered.
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let (code, out, err) = mailgate(&ignore, &["messages", "retry", &id], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("message {id}: SUP-1 created (was rejected: spam)")
    );
    assert_eq!(outbox_kinds(url).await, ["confirmation"]);

    // "hold": a ticket for the team, held, with no reply to the sender.
    let hold = write_config(&hold_dir, url, "spam = \"hold\"");
    let (code, out) = ingest(&hold, &flagged(2));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SUP-2"), "{out}");
    let (_, shown, _) = mailgate(&hold, &["tickets", "show", "SUP-2", "--json"], None);
    let shown: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(shown["status"], "held", "{shown}");
    assert_eq!(outbox_kinds(url).await, ["confirmation"], "nothing new");

    // "off": the verdict is not read.
    let off = write_config(&off_dir, url, "spam = \"off\"");
    let (code, out) = ingest(&off, &flagged(3));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SUP-3"), "{out}");
    assert_eq!(outbox_kinds(url).await, ["confirmation", "confirmation"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spam_verdicts_on_sqlite() {
    let db = TestDb::sqlite();
    spam_verdicts(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spam_verdicts_on_postgres() {
    let Some(db) = TestDb::postgres("spam_verdicts").await else {
        return;
    };
    spam_verdicts(&db.url).await;
    db.drop_pg().await;
}

// ---------------------------------------------------------------------------
// Import.

/// An mbox of 20 messages: 16 requests, a reply to the first, an
/// auto-reply, a second copy of a request and, last, a message without
/// sender and without a final line break. One body has `From ` lines
/// (escaped `>From `, `>>From `).
fn mbox_of_twenty() -> String {
    let separator = |who: &str| format!("From {who}@acme.fr Mon Jan  6 09:00:00 2025\n");
    let request = |i: u32| {
        format!(
            "From: Customer {i} <c{i}@acme.fr>\nTo: support@example.com\nSubject: Request {i}\nMessage-ID: <r{i}@acme.fr>\nDate: Mon, 6 Jan 2025 09:00:00 +0000\n\nThe export number {i} fails.\n"
        )
    };
    let mut mbox = String::new();
    for i in 1..=16 {
        mbox += &separator(&format!("c{i}"));
        mbox += &request(i);
        if i == 1 {
            mbox += "\n>From the start it never worked.\n>>From deeper quoting.\n";
        }
        mbox += "\n";
    }
    mbox += &separator("c1");
    mbox += "From: Customer 1 <c1@acme.fr>\nTo: support@example.com\nSubject: Re: Request 1\nMessage-ID: <r1-2@acme.fr>\nIn-Reply-To: <r1@acme.fr>\n\nStill failing today.\n\n";
    mbox += &separator("robot");
    mbox += "From: robot@acme.fr\nTo: support@example.com\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nBack Monday.\n\n";
    mbox += &separator("c5");
    mbox += &request(5);
    mbox += "\n";
    mbox += &separator("nobody");
    mbox += "To: support@example.com\nSubject: Who am I\n\nNo sender here.";
    mbox
}

const TWENTY: &str =
    "20 message(s): 16 ticket(s), 1 comment(s), 1 ignored, 1 rejected, 1 duplicate(s), 0 error(s)";

async fn outbox_statuses(url: &str) -> Vec<(String, Option<String>)> {
    let store = Store::open(url, "SUP").await.unwrap();
    let rows = store.list_outbox().await.unwrap();
    store.close().await;
    rows.into_iter()
        .map(|r| (r.status.to_string(), r.last_error))
        .collect()
}

async fn import_mbox(url: &str, crlf: bool, send_replies: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), url, "");
    let mut text = mbox_of_twenty();
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    let file = dir.path().join("export.mbox");
    std::fs::write(&file, &text).unwrap();
    let mut args = vec!["import", "mbox", file.to_str().unwrap()];
    if send_replies {
        args.push("--send-replies");
    }

    let (code, out, err) = mailgate(&config, &args, None);
    assert_eq!(code, 65, "one rejected: {out}{err}");
    assert!(out.contains(TWENTY), "{out}");
    assert!(err.contains("rejected (no-sender)"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no progress bar off a terminal: {err:?}"
    );

    // Unescaped by one level; the From_ lines are not part of messages.
    let (_, out, _) = mailgate(&config, &["messages", "list", "--json"], None);
    let messages = json_lines(&out);
    assert_eq!(messages.len(), 20);
    let eol = if crlf { "\r\n" } else { "\n" };
    let raw_of = |m: &serde_json::Value| {
        mailgate_raw(
            &config,
            &["messages", "show", &m["id"].to_string(), "--raw"],
        )
        .1
    };
    let first = String::from_utf8(raw_of(&messages[19])).unwrap();
    assert!(
        first.starts_with("From: Customer 1 <c1@acme.fr>"),
        "{first:?}"
    );
    assert!(
        first.ends_with(&format!(
            "fails.{eol}{eol}From the start it never worked.{eol}>From deeper quoting.{eol}"
        )),
        "{first:?}"
    );
    // The last message, without its final line break, kept as it was.
    assert_eq!(messages[0]["outcome"], "rejected");
    let last = String::from_utf8(raw_of(&messages[0])).unwrap();
    assert_eq!(
        last,
        format!("To: support@example.com{eol}Subject: Who am I{eol}{eol}No sender here.")
    );
    assert_eq!(messages[1]["outcome"], "duplicate");
    let (_, out, _) = mailgate(&config, &["tickets", "show", "SUP-1", "--json"], None);
    let ticket: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let description = ticket["description"].as_str().unwrap();
    assert!(
        description.contains("From the start it never worked."),
        "{description:?}"
    );
    assert_eq!(ticket["comments"][0]["body"], "Still failing today.");

    // The confirmations (and the team's notice of the reply) are recorded,
    // sent only with --send-replies.
    let outbox = outbox_statuses(url).await;
    assert!(outbox.len() >= 16, "{outbox:?}");
    for (status, reason) in &outbox {
        if send_replies {
            assert_eq!(status, "pending");
        } else {
            assert_eq!(
                (status.as_str(), reason.as_deref()),
                ("suppressed", Some("imported"))
            );
        }
    }

    // Again: nothing new.
    let (code, out, err) = mailgate(&config, &args, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("20 message(s): 0 ticket(s), 0 comment(s), 0 ignored, 0 rejected, 20 duplicate(s), 0 error(s)"),
        "{out}"
    );
    assert_eq!(outbox_statuses(url).await.len(), outbox.len());
    let (_, out, _) = mailgate(&config, &["tickets", "list"], None);
    assert!(out.contains("16 ticket(s)"), "{out}");
}

#[tokio::test]
async fn import_mbox_on_sqlite_twice_replies_suppressed() {
    let db = TestDb::sqlite();
    import_mbox(&db.url, false, false).await;
}

#[tokio::test]
async fn import_crlf_mbox_with_replies() {
    let db = TestDb::sqlite();
    import_mbox(&db.url, true, true).await;
}

#[tokio::test]
async fn import_mbox_on_postgres() {
    let Some(db) = TestDb::postgres("import_mbox").await else {
        return;
    };
    import_mbox(&db.url, false, false).await;
    db.drop_pg().await;
}

#[test]
fn import_maildir_reads_cur_and_new_and_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/m.db", dir.path().display()),
        "",
    );
    let maildir = dir.path().join("Mail");
    for folder in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(folder)).unwrap();
    }
    let message = |i: u32| {
        format!(
            "From: m{i}@acme.fr\nSubject: Maildir {i}\nMessage-ID: <m{i}@acme.fr>\n\nBody {i}.\n"
        )
    };
    let files = [
        maildir.join("cur/1700000001.M1P1.host:2,S"),
        maildir.join("cur/1700000002.M2P1.host:2,RS"),
        maildir.join("new/1700000003.M3P1.host"),
    ];
    for (i, file) in files.iter().enumerate() {
        std::fs::write(file, message(i as u32 + 1)).unwrap();
    }
    // Being delivered: not a message yet.
    std::fs::write(maildir.join("tmp/1700000004.M4P1.host"), "From: half").unwrap();
    let path = maildir.to_str().unwrap();

    let (code, out, err) = mailgate(&config, &["import", "maildir", path], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 message(s): 3 ticket(s), 0 comment(s), 0 ignored, 0 rejected, 0 duplicate(s), 0 error(s)"),
        "{out}"
    );
    assert!(files.iter().all(|f| f.exists()), "nothing moved");
    let (_, out, _) = mailgate(&config, &["messages", "list", "--json"], None);
    let messages = json_lines(&out);
    assert!(messages.iter().all(|m| m["source"] == "maildir"));
    let (_, out, _) = mailgate(&config, &["tickets", "list", "--json"], None);
    let summaries: Vec<_> = json_lines(&out)
        .iter()
        .map(|t| t["summary"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(summaries, ["Maildir 3", "Maildir 2", "Maildir 1"]);

    let (code, out, _) = mailgate(&config, &["import", "maildir", path], None);
    assert_eq!(code, 0);
    assert!(out.contains("3 duplicate(s)"), "{out}");

    // Unreadable input: 66; a file that is not an mbox: 65.
    let (code, _, err) = mailgate(&config, &["import", "maildir", "/nonexistent"], None);
    assert_eq!(code, 66, "{err}");
    let (code, _, err) = mailgate(
        &config,
        &["import", "maildir", dir.path().to_str().unwrap()],
        None,
    );
    assert_eq!(code, 66, "not a Maildir: {err}");
    let (code, _, err) = mailgate(&config, &["import", "mbox", "/nonexistent.mbox"], None);
    assert_eq!(code, 66, "{err}");
    let eml = dir.path().join("one.eml");
    std::fs::write(&eml, message(9)).unwrap();
    let (code, _, err) = mailgate(&config, &["import", "mbox", eml.to_str().unwrap()], None);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("not an mbox"), "{err}");
}
