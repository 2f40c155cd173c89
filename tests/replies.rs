//! Replies against a real SMTP server process (the aiosmtpd sink of
//! `tests/harness/smtp_sink.py`): confirmation and team notification, a
//! server that answers 4xx then accepts, a 5xx, a server down then up, and
//! the `.eml` folder when no SMTP server is configured.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mailgate::intake::parse::parse;
use support::sink::Sink;

const REQUEST: &str = "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\nSubject: [Gravité : haute] Export planté\nMessage-ID: <CAF=req1@mail.acme.fr>\n\nBonjour,\nProduits : Atlas, Zephyr\nL'export CSV est vide depuis la mise à jour.\n";

fn config(dir: &Path, smtp_port: Option<u16>) -> PathBuf {
    let smtp = smtp_port
        .map(|p| format!("[smtp]\nhost = \"127.0.0.1\"\nport = {p}\ntls = \"none\"\nfrom = \"support@example.com\"\n"))
        .unwrap_or_default();
    let text = format!(
        "[database]\nurl = \"sqlite://{db}/mailgate.db\"\n[tickets]\nteam_address = \"team@example.com\"\ntracking_url = \"https://support.example.com\"\n[outbox]\nretry_initial = \"1s\"\nretry_max = \"2s\"\ndirectory = \"{db}/outbox\"\nfrom_name = \"Support ACME\"\n{smtp}[[products]]\nname = \"Atlas\"\n[[products]]\nname = \"Nova\"\n[[maildirs]]\nname = \"inbox\"\npath = \"{db}/inbox\"\n",
        db = dir.display()
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `mailgate ingest` on `raw`: its exit status and output.
fn ingest_with_status(config: &Path, raw: &str) -> (Option<i32>, String) {
    let mut child = support::mailgate(config, &["ingest"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), raw.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `ingest` that must succeed.
fn ingest(config: &Path, raw: &str) -> String {
    let (status, out) = ingest_with_status(config, raw);
    assert_eq!(status, Some(0), "{out}");
    out
}

async fn outbox(dir: &Path) -> Vec<mailgate::store::OutboxRow> {
    let store =
        mailgate::store::Store::open(&format!("sqlite://{}/mailgate.db", dir.display()), "SUP")
            .await
            .unwrap();
    let rows = store.list_outbox().await.unwrap();
    store.close().await;
    rows
}

#[tokio::test]
async fn confirmation_and_notification_are_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&dir.path().join("sink"), 0, None) else {
        return;
    };
    let config = config(dir.path(), Some(sink.port));
    assert_eq!(ingest(&config, REQUEST).trim(), "-: SUP-1 created");
    // Written with the ticket, sent by the gateway.
    assert_eq!(
        outbox(dir.path())
            .await
            .iter()
            .filter(|r| r.status == "pending")
            .count(),
        2
    );
    let (code, stderr) = support::run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);

    let confirmation = messages
        .iter()
        .map(|m| parse(m))
        .find(|m| m.to[0].email == "marie.dupont@acme.fr")
        .expect("confirmation");
    assert_eq!(
        confirmation.subject.as_deref(),
        Some("[SUP-1] Export planté")
    );
    assert_eq!(
        confirmation.header("in-reply-to"),
        Some("<CAF=req1@mail.acme.fr>")
    );
    assert_eq!(
        confirmation.header("references"),
        Some("<CAF=req1@mail.acme.fr>")
    );
    assert_eq!(confirmation.header("auto-submitted"), Some("auto-replied"));
    assert_eq!(confirmation.header("x-auto-response-suppress"), Some("All"));
    assert_eq!(
        confirmation.header("x-sink-mail-from"),
        Some("<support@example.com>")
    );
    let text = confirmation.text_body.clone().unwrap();
    assert!(
        text.contains("Bonjour Marie Dupont"),
        "French for a French message:\n{text}"
    );
    assert!(text.contains("https://support.example.com/t/"), "{text}");
    assert!(
        text.contains("« Zephyr »") && text.contains("Atlas, Nova"),
        "unrecognised value and accepted ones:\n{text}"
    );
    // The customer's words, not the stored names; the unrecognised value
    // is named by its French field name.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for wanted in [
        "Gravité : Haute",
        "Type de demande : Assistance",
        "Produits : « Zephyr »",
        // The portal is on by default: its link is beside the ticket's.
        "Toutes vos demandes : https://support.example.com/portal/",
    ] {
        assert!(flat.contains(wanted), "{wanted:?} in:\n{text}");
    }
    assert!(!flat.contains("Gravité : high"), "{text}");

    let notification = messages
        .iter()
        .map(|m| parse(m))
        .find(|m| m.to[0].email == "team@example.com")
        .expect("notification");
    assert_eq!(notification.header("x-mailgate-ticket"), Some("SUP-1"));
    assert_eq!(notification.header("x-mailgate-severity"), Some("high"));
    // The team reads its own language (outbox.language, English here),
    // whatever the customer's.
    let team_text = notification.text_body.clone().unwrap();
    let team_flat = team_text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        team_flat.contains("Severity: High") && team_flat.contains("Request type: Support request"),
        "{team_text}"
    );
    assert_eq!(notification.reply_to.unwrap().email, "marie.dupont@acme.fr");

    // Nothing is sent twice.
    let (code, _) = support::run_once(&config);
    assert_eq!(code, 0);
    assert_eq!(sink.messages().len(), 2);
    let rows = outbox(dir.path()).await;
    assert!(
        rows.iter().all(|r| r.status == "sent" && r.attempts == 1),
        "{rows:?}"
    );

    // Our own confirmation coming back (a forward, a loop) makes nothing.
    let back = String::from_utf8_lossy(&messages[0]).into_owned();
    assert!(ingest(&config, &back).contains("ignored"));
    assert_eq!(outbox(dir.path()).await.len(), 2);
}

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_is_recorded_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&dir.path().join("sink"), 0, None) else {
        return;
    };
    let config = config(dir.path(), Some(sink.port));
    ingest(&config, REQUEST);

    sink.set_mode("tempfail");
    assert_eq!(support::run_once(&config).0, 0);
    let rows = outbox(dir.path()).await;
    assert!(
        rows.iter()
            .all(|r| r.status == "pending" && r.attempts == 1),
        "{rows:?}"
    );
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451"),
        "{rows:?}"
    );
    assert!(sink.messages().is_empty());

    sink.set_mode("accept");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(support::run_once(&config).0, 0);
    assert_eq!(
        sink.messages().len(),
        2,
        "delivered once the server accepts"
    );

    ingest(
        &config,
        &REQUEST.replace("req1", "req2").replace("Export", "Import"),
    );
    sink.set_mode("permfail");
    assert_eq!(support::run_once(&config).0, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(support::run_once(&config).0, 0);
    let failed: Vec<_> = outbox(dir.path())
        .await
        .into_iter()
        .filter(|r| r.ticket.as_deref() == Some("SUP-2"))
        .collect();
    assert!(
        failed
            .iter()
            .all(|r| r.status == "failed" && r.attempts == 1),
        "{failed:?}"
    );
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550")
    );
    assert_eq!(sink.messages().len(), 2);

    // The address is fixed: the failed mail is queued again and goes.
    let listed = support::mailgate(&config, &["outbox", "list", "--status", "failed", "--json"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert_eq!(listed.lines().count(), failed.len(), "{listed}");
    let unknown = support::mailgate(&config, &["outbox", "retry", "999999"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(65));
    sink.set_mode("accept");
    let retried = support::mailgate(&config, &["outbox", "retry", "--all-failed"])
        .output()
        .unwrap();
    assert_eq!(retried.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&retried.stdout).trim(),
        format!("{} failed mail queued again", failed.len())
    );
    assert_eq!(support::run_once(&config).0, 0);
    assert_eq!(sink.messages().len(), 2 + failed.len());
    assert!(
        (outbox(dir.path()).await.iter()).all(|r| r.status == "sent"),
        "every mail sent at last"
    );
}

#[tokio::test]
async fn smtp_down_then_up_delivers_later_once() {
    let dir = tempfile::tempdir().unwrap();
    // A port with nothing behind it yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config(dir.path(), Some(port));
    ingest(&config, REQUEST);
    assert_eq!(support::run_once(&config).0, 0);
    let rows = outbox(dir.path()).await;
    assert!(
        rows.iter()
            .all(|r| r.status == "pending" && r.attempts == 1 && r.last_error.is_some()),
        "{rows:?}"
    );

    let Some(sink) = Sink::start(&dir.path().join("sink"), port, None) else {
        return;
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(support::run_once(&config).0, 0);
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(support::run_once(&config).0, 0);
    assert_eq!(sink.messages().len(), 2, "once");
}

#[tokio::test]
async fn without_smtp_replies_are_written_as_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    ingest(&config, REQUEST);
    assert_eq!(support::run_once(&config).0, 0);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "eml"))
    );
    let subjects: Vec<_> = files
        .iter()
        .map(|f| parse(&std::fs::read(f).unwrap()).subject.unwrap())
        .collect();
    assert!(
        subjects.iter().all(|s| s == "[SUP-1] Export planté"),
        "{subjects:?}"
    );
}

#[tokio::test]
async fn no_robot_of_the_fixtures_gets_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/intake");
    let base = std::fs::read_to_string(fixtures.join("mailgate.toml")).unwrap();
    let config = dir.path().join("mailgate.toml");
    std::fs::write(
        &config,
        format!("[database]\nurl = \"sqlite://{}/mailgate.db\"\n[tickets]\nteam_address = \"team@example.com\"\n{base}", dir.path().display()),
    )
    .unwrap();
    let out = support::mailgate(&config, &["ingest", fixtures.to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let ignored = report.lines().filter(|l| l.contains(": ignored (")).count();
    let tickets = report.lines().filter(|l| l.ends_with(" created")).count();
    let comments = report
        .lines()
        .filter(|l| l.contains(": comment on "))
        .count();
    assert!(ignored >= 10 && tickets >= 40, "{report}");

    let rows = outbox(dir.path()).await;
    assert_eq!(
        rows.len(),
        2 * tickets + comments,
        "one confirmation and one notification per ticket, one notification per follow-up, nothing else"
    );
    let store = mailgate::store::Store::open(
        &format!("sqlite://{}/mailgate.db", dir.path().display()),
        "SUP",
    )
    .await
    .unwrap();
    // Each confirmation answers its own ticket's reporter: with exactly one
    // pair per ticket, no robot (which has no ticket) got anything.
    for row in &rows {
        let key = row
            .ticket
            .as_deref()
            .expect("every reply belongs to a ticket");
        let reporter = store.ticket(key).await.unwrap().reporter_email;
        match row.kind.as_str() {
            "confirmation" => assert_eq!(row.recipients, reporter, "{row:?}"),
            "notification" | "comment-notification" => {
                assert_eq!(row.recipients, "team@example.com");
            }
            other => panic!("unexpected {other}"),
        }
        assert!(
            row.recipients != "support@example.com" && row.recipients != "feature@example.com",
            "we answered ourselves: {row:?}"
        );
    }
    store.close().await;
}

#[tokio::test]
async fn automatic_mail_is_limited_per_sender_and_never_goes_to_no_reply_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("[senders]\nauto_reply_limit = 2\n{text}")).unwrap();
    for n in 1..=4 {
        let message = REQUEST
            .replace("req1", &format!("req-{n}"))
            .replace("Export", &format!("Export {n}"));
        assert!(ingest(&config, &message).contains("created"));
    }
    let rows = outbox(dir.path()).await;
    let confirmations: Vec<_> = rows.iter().filter(|r| r.kind == "confirmation").collect();
    assert_eq!(
        confirmations
            .iter()
            .filter(|r| r.status == "pending")
            .count(),
        2,
        "{rows:?}"
    );
    let held: Vec<_> = confirmations
        .iter()
        .filter(|r| r.status == "suppressed")
        .collect();
    assert_eq!(
        held.len(),
        2,
        "tickets created, confirmations held back: {rows:?}"
    );
    assert!(
        held[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("auto_reply_limit")
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.kind == "notification" && r.status == "pending")
            .count(),
        4,
        "the team hears of every ticket"
    );

    // A monitoring system's no-reply address files a ticket but gets no mail.
    let alert = "From: alerts-noreply@monitoring.example\nTo: support@example.com\nSubject: Disk almost full on atlas-db-2\nMessage-ID: <alert-1@monitoring.example>\n\nDisk /var at 95%.\n";
    let out = ingest(&config, alert);
    let key = out
        .trim()
        .trim_start_matches("-: ")
        .trim_end_matches(" created")
        .to_owned();
    let shown = support::mailgate(&config, &["tickets", "show", &key, "--json"])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let replies = shown["replies"].as_array().unwrap();
    let confirmation = replies
        .iter()
        .find(|r| r["kind"] == "confirmation")
        .unwrap();
    assert_eq!(confirmation["status"], "suppressed", "{shown}");
    assert!(
        confirmation["last_error"]
            .as_str()
            .unwrap()
            .contains("no-reply pattern"),
        "{shown}"
    );

    // Suppressed mail is never sent.
    assert_eq!(support::run_once(&config).0, 0);
    let files = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(files, 2 + 5, "2 confirmations and 5 notifications");
}

fn with_senders(config: &Path, senders: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    std::fs::write(config, format!("[senders]\n{senders}\n{text}")).unwrap();
}

fn customers(config: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["customers"];
    all.extend_from_slice(args);
    let out = support::mailgate(config, &all).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn registered_policy_refuses_strangers_politely_in_their_language() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    with_senders(
        &config,
        "policy = \"registered\"\nallowed_domains = [\"globex.com\"]",
    );
    assert_eq!(
        customers(
            &config,
            &[
                "add",
                "Marie.Dupont@acme.fr",
                "--name",
                "Marie Dupont",
                "--org",
                "ACME",
                "--lang",
                "fr"
            ]
        )
        .0,
        0
    );
    let csv = dir.path().join("customers.csv");
    std::fs::write(
        &csv,
        "email,name,organisation,language\npaul@acme.fr,Paul,ACME,en\nnot-an-address,X,Y,en\n",
    )
    .unwrap();
    let (code, out) = customers(&config, &["import", csv.to_str().unwrap()]);
    assert_eq!(code, 65, "a bad line is reported: {out}");
    assert!(
        out.contains("1 customer(s) registered, 1 line(s) skipped"),
        "{out}"
    );
    let (_, listed) = customers(&config, &["list", "--json"]);
    let emails: Vec<String> = listed
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(emails, ["marie.dupont@acme.fr", "paul@acme.fr"]);

    // Registered, and from an allowed domain: tickets.
    assert!(ingest(&config, REQUEST).contains("SUP-1 created"));
    let globex = REQUEST
        .replace("Marie Dupont <marie.dupont@acme.fr>", "j.smith@globex.com")
        .replace("req1", "g1");
    assert!(ingest(&config, &globex).contains("SUP-2 created"));
    // A stranger writing in French: rejected, kept, one polite reply in
    // French; exit 0, so that the MTA does not bounce it as well.
    let stranger = REQUEST
        .replace("Marie Dupont <marie.dupont@acme.fr>", "inconnu@ailleurs.fr")
        .replace("req1", "s1");
    let (status, out) = ingest_with_status(&config, &stranger);
    assert_eq!(status, Some(0), "answered by us: {out}");
    assert!(
        out.contains("rejected (unregistered-sender), sender answered"),
        "{out}"
    );
    let registration: Vec<_> = outbox(dir.path())
        .await
        .into_iter()
        .filter(|r| r.kind == "registration")
        .collect();
    assert_eq!(registration.len(), 1);
    assert_eq!(registration[0].recipients, "inconnu@ailleurs.fr");
    assert_eq!(support::run_once(&config).0, 0);
    let replies: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| parse(&std::fs::read(e.unwrap().path()).unwrap()))
        .filter(|m| m.to[0].email == "inconnu@ailleurs.fr")
        .collect();
    assert_eq!(replies.len(), 1);
    let text = replies[0].text_body.clone().unwrap();
    assert!(text.contains("clients enregistrés"), "{text}");
    assert_eq!(replies[0].header("auto-submitted"), Some("auto-replied"));

    // Unregistering keeps the tickets but refuses new ones.
    assert_eq!(customers(&config, &["remove", "marie.dupont@acme.fr"]).0, 0);
    let again = REQUEST.replace("req1", "req9").replace("Export", "Autre");
    assert!(ingest_with_status(&config, &again).1.contains("rejected"));
    assert_eq!(
        customers(&config, &["remove", "marie.dupont@acme.fr"]).0,
        65
    );
}

#[tokio::test]
async fn hold_policy_files_strangers_as_held_without_answering_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    with_senders(&config, "policy = \"hold\"");
    assert!(ingest(&config, REQUEST).contains("SUP-1 created"));
    let shown = support::mailgate(&config, &["tickets", "show", "SUP-1", "--json"])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["status"], "held");
    let kinds: Vec<_> = shown["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["notification"],
        "the team is told, the stranger is not"
    );
}

#[path = "replies/conversation.rs"]
mod conversation;
#[path = "replies/too_large.rs"]
mod too_large;
