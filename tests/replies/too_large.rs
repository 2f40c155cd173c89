//! A message over `intake.max_message_size`: over IMAP (a real Dovecot)
//! its sender gets one notice in their language, a robot none, a sender
//! over the hourly limit one kept back; a second copy adds nothing.
//! Through `ingest` on standard input there is no notice and the exit
//! status is 65 (the MTA's bounce tells); from a file there is one, and 0.

use std::path::Path;

use mailgate::intake::parse::{ParsedMail, parse};

use super::support::{self, Dovecot};
use super::{REQUEST, config, ingest, ingest_with_status, outbox, with_senders};

fn big(from: &str, subject: &str, id: &str, extra: &str) -> String {
    format!(
        "From: {from}\nTo: support@example.com\nSubject: {subject}\nMessage-ID: <{id}>\n{extra}\n{}\n",
        "Journaux joints.\n".repeat(500)
    )
}

/// The too-large notices queued: recipient and status, sorted.
async fn notices(dir: &Path) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = (outbox(dir).await.into_iter())
        .filter(|r| r.kind == "too-large")
        .map(|r| (r.recipients, r.status.to_string()))
        .collect();
    rows.sort();
    rows
}

/// The mails written to the outbox folder for `to`.
fn written_to(dir: &Path, to: &str) -> Vec<ParsedMail> {
    std::fs::read_dir(dir.join("outbox"))
        .unwrap()
        .map(|e| parse(&std::fs::read(e.unwrap().path()).unwrap()))
        .filter(|m| m.to.first().is_some_and(|p| p.email == to))
        .collect()
}

#[tokio::test]
async fn a_message_too_large_gets_one_notice_and_the_mta_pipe_none() {
    if !support::dovecot_available("too_large") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "[intake]\nmax_message_size = \"4KiB\"\n{text}{}",
            support::mailbox_toml("support", dovecot.port, "support", "secret", "")
        ),
    )
    .unwrap();
    with_senders(&config, "auto_reply_limit = 1");

    // Paul already got his automatic mail of the hour.
    let paul_request = REQUEST
        .replace("Marie Dupont <marie.dupont@acme.fr>", "Paul <paul@acme.fr>")
        .replace("req1", "paul1");
    assert!(ingest(&config, &paul_request).contains("SUP-1 created"));
    let marie = big(
        "Marie Dupont <marie.dupont@acme.fr>",
        "Les journaux de la semaine",
        "big-fr@acme.fr",
        "",
    );
    let ann = big(
        "Ann Smith <ann@globex.com>",
        "The logs of the export",
        "big-en@globex.com",
        "",
    );
    let robot = big(
        "daemon@acme.fr",
        "Rapport de la nuit",
        "big-robot@acme.fr",
        "Auto-Submitted: auto-generated\n",
    );
    let paul = big(
        "Paul <paul@acme.fr>",
        "Les captures",
        "big-paul@acme.fr",
        "",
    );
    dovecot
        .append("support", "INBOX", &[marie.clone(), ann, robot, paul])
        .await;
    let (code, stderr) = support::run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(dovecot.count("support", "Quarantine").await, 4);
    assert_eq!(
        notices(dir.path()).await,
        [
            ("ann@globex.com".to_owned(), "sent".to_owned()),
            ("marie.dupont@acme.fr".to_owned(), "sent".to_owned()),
            ("paul@acme.fr".to_owned(), "suppressed".to_owned()),
        ],
        "none to the robot; Paul's kept back by the hourly limit"
    );

    let fr = written_to(dir.path(), "marie.dupont@acme.fr");
    assert_eq!(fr.len(), 1);
    assert_eq!(
        fr[0].subject.as_deref(),
        Some("Re: Les journaux de la semaine")
    );
    assert_eq!(fr[0].header("in-reply-to"), Some("<big-fr@acme.fr>"));
    assert_eq!(fr[0].header("auto-submitted"), Some("auto-replied"));
    let text = fr[0].text_body.clone().unwrap();
    assert!(text.contains("Bonjour Marie Dupont"), "{text}");
    // Its size as the server counts it (CRLF line ends).
    assert!(
        text.contains("il fait ") && text.contains(" ko, et nous"),
        "{text}"
    );
    assert!(text.contains("jusqu'à 4,1 ko"), "{text}");
    assert!(text.contains("lien de partage"), "{text}");
    let en = written_to(dir.path(), "ann@globex.com");
    assert_eq!(en.len(), 1);
    let text = en[0].text_body.clone().unwrap();
    assert!(text.contains("Hello Ann Smith"), "{text}");
    assert!(
        text.contains("4.1 KB") && text.contains("as a link"),
        "{text}"
    );
    assert!(written_to(dir.path(), "daemon@acme.fr").is_empty());

    // Delivered again: a duplicate, no second notice.
    dovecot
        .append("support", "INBOX", std::slice::from_ref(&marie))
        .await;
    let (code, stderr) = support::run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(notices(dir.path()).await.len(), 3);
    assert_eq!(written_to(dir.path(), "marie.dupont@acme.fr").len(), 1);

    // Through the MTA pipe: exit 65 and nothing queued, the bounce tells.
    let piped = big("Zoé <zoe@acme.fr>", "Les fichiers", "big-pipe@acme.fr", "");
    let (status, out) = ingest_with_status(&config, &piped);
    assert_eq!(status, Some(65), "{out}");
    assert_eq!(out.trim(), "-: rejected (too-large)");
    assert_eq!(notices(dir.path()).await.len(), 3);
    // From a file nobody bounces: we answer, and the status is 0.
    let file = dir.path().join("big.eml");
    std::fs::write(
        &file,
        big("Zoé <zoe@acme.fr>", "Les fichiers", "big-file@acme.fr", ""),
    )
    .unwrap();
    let out = support::mailgate(&config, &["ingest", file.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("rejected (too-large), sender answered"),
        "{said}"
    );
    assert!(
        notices(dir.path())
            .await
            .contains(&("zoe@acme.fr".to_owned(), "pending".to_owned()))
    );
}
