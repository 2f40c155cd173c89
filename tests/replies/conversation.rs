//! A whole conversation end to end, against the private Dovecot and the
//! SMTP sink: the customer writes, replies by each threading layer (headers,
//! subject tag, quoted marker) with attachments, the team answers from the
//! command line and by mail, and changes the status. Every mail the
//! customer gets comes out of the real SMTP server.

use std::path::Path;

use mailgate::intake::parse::{ParsedMail, parse};
use mailgate::intake::thread::find_markers;

use super::Sink;
use super::support::{self, Dovecot, mailbox_toml};

fn config(dir: &Path, imap_port: u16, smtp_port: u16) -> std::path::PathBuf {
    let text = format!(
        "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n\
         [intake]\nown_addresses = [\"support@example.com\"]\n\
         [tickets]\nteam_address = \"team@example.com\"\nteam_addresses = [\"@vendor.example\"]\n\
         tracking_url = \"https://support.example.com\"\n\
         [outbox]\nretry_initial = \"1s\"\ndirectory = \"{dir}/outbox\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"support@example.com\"\n\
         [[products]]\nname = \"Atlas\"\n\
         {mailbox}",
        dir = dir.display(),
        mailbox = mailbox_toml("support", imap_port, "support", "secret", "idle = false"),
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run_once(config: &Path) {
    let (code, log) = support::run_once(config);
    assert_eq!(code, 0, "{log}");
}

/// Mails the sink got since `seen`, parsed, and the new count.
fn new_mail(sink: &Sink, seen: &mut usize) -> Vec<ParsedMail> {
    let all = sink.messages();
    let fresh = all[*seen..].iter().map(|m| parse(m)).collect();
    *seen = all.len();
    fresh
}

fn to<'a>(mails: &'a [ParsedMail], address: &str) -> &'a ParsedMail {
    mails
        .iter()
        .find(|m| m.to.iter().any(|p| p.email == address))
        .unwrap_or_else(|| panic!("no mail to {address}"))
}

fn show(config: &Path) -> serde_json::Value {
    let out = support::mailgate(config, &["tickets", "show", "SUP-1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn header_id(mail: &ParsedMail) -> String {
    mail.header("message-id").unwrap().to_owned()
}

#[tokio::test]
async fn a_conversation_across_the_three_threading_layers() {
    if !support::dovecot_available("a_conversation_across_the_three_threading_layers") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&dir.path().join("sink"), 0, None) else {
        return;
    };
    let dovecot = Dovecot::start();
    let config = config(dir.path(), dovecot.port, sink.port);
    let mut seen = 0;

    // 1. The customer writes, with a file.
    let first = "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
        Subject: Export vide dans Atlas\nMessage-ID: <c1@acme.fr>\nMIME-Version: 1.0\n\
        Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
        Bonjour,\nl'export CSV d'Atlas est vide.\nMarie\n\
        --b\nContent-Type: text/csv; name=export.csv\nContent-Disposition: attachment; filename=export.csv\n\n\
        a;b\n--b--\n";
    dovecot
        .append("support", "INBOX", &[first.to_owned()])
        .await;
    run_once(&config);
    let mails = new_mail(&sink, &mut seen);
    assert_eq!(mails.len(), 2, "confirmation and team notification");
    let confirmation = to(&mails, "marie.dupont@acme.fr");
    let notification = to(&mails, "team@example.com");
    // Agents answer the notification through mailgate.
    assert_eq!(
        notification.reply_to.as_ref().unwrap().email,
        "support@example.com"
    );
    let marker = find_markers(confirmation.text_body.as_deref().unwrap())
        .pop()
        .expect("a marker in the confirmation");

    // 2. Headers: a reply to the confirmation, with a screenshot.
    let second = format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Re: [SUP-1] Export vide dans Atlas\nMessage-ID: <c2@acme.fr>\n\
         In-Reply-To: {}\nReferences: <c1@acme.fr> {}\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
         Voici une capture.\n\nLe lun. 23 nov. 2026 à 10:02, Support <support@example.com> a écrit :\n\
         > Nous avons bien reçu votre demande.\n\
         --b\nContent-Type: image/png; name=capture.png\nContent-Transfer-Encoding: base64\n\n\
         iVBORw0KGgo=\n--b--\n",
        header_id(confirmation),
        header_id(confirmation)
    );
    dovecot.append("support", "INBOX", &[second]).await;
    run_once(&config);
    let mails = new_mail(&sink, &mut seen);
    assert_eq!(mails.len(), 1, "only the team hears of a follow-up");
    let told = to(&mails, "team@example.com");
    assert!(
        told.text_body
            .as_deref()
            .unwrap()
            .contains("Voici une capture.")
    );

    // 3. The team answers from the command line, with a file.
    let patch = dir.path().join("correctif.txt");
    std::fs::write(&patch, "patch").unwrap();
    let out = support::mailgate(
        &config,
        &[
            "tickets",
            "reply",
            "SUP-1",
            "--message",
            "Pouvez-vous essayer ce correctif ?",
            "--attach",
            patch.to_str().unwrap(),
            "--as",
            "bob@vendor.example",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_once(&config);
    let mails = new_mail(&sink, &mut seen);
    assert_eq!(mails.len(), 1);
    let reply = to(&mails, "marie.dupont@acme.fr");
    assert_eq!(
        reply.subject.as_deref(),
        Some("Re: [SUP-1] Export vide dans Atlas")
    );
    assert_eq!(reply.header("in-reply-to"), Some("<c2@acme.fr>"));
    assert!(reply.header("references").unwrap().contains("<c1@acme.fr>"));
    assert!(
        reply
            .text_body
            .as_deref()
            .unwrap()
            .contains("essayer ce correctif")
    );
    assert_eq!(reply.attachments.len(), 1);
    assert_eq!(reply.attachments[0].data, b"patch");

    // 4. Subject tag only: a new mail naming the ticket.
    let third = "From: marie.dupont@acme.fr\nTo: support@example.com\n\
        Subject: [SUP-1] le correctif marche\nMessage-ID: <c3@acme.fr>\n\n\
        Le correctif marche, merci !\n";
    // 5. Marker only: Outlook mobile lost the headers and the tag.
    let fourth = format!(
        "From: marie.dupont@acme.fr\nTo: support@example.com\nSubject: RE: export\n\
         Message-ID: <c4@acme.fr>\n\nUne dernière question : faut-il redémarrer ?\n\n\
         Obtenir Outlook pour Android\n________________________________\n\
         De : support@example.com\nEnvoyé : lundi 23 novembre 2026 10:02\nÀ : Marie\nObjet : Re: export\n\n\
         Pouvez-vous essayer ce correctif ?\n[ref:{}:{}]\n",
        marker.key, marker.code
    );
    dovecot
        .append("support", "INBOX", &[third.to_owned(), fourth])
        .await;
    run_once(&config);
    assert_eq!(
        new_mail(&sink, &mut seen).len(),
        2,
        "two team notifications"
    );

    // 6. An agent answers the last notification by mail.
    let last_notification = {
        let all = sink.messages();
        parse(all.last().unwrap())
    };
    let agent = format!(
        "From: Alice <alice@vendor.example>\nTo: support@example.com\n\
         Subject: RE: [SUP-1] Export vide dans Atlas\nMessage-ID: <a1@vendor.example>\n\
         In-Reply-To: {}\n\nNon, pas besoin de redémarrer.\n\nAlice\n\n\
         -----Original Message-----\nFrom: support@example.com\n\nUne dernière question\n",
        header_id(&last_notification)
    );
    dovecot.append("support", "INBOX", &[agent]).await;
    run_once(&config);
    let mails = new_mail(&sink, &mut seen);
    assert_eq!(mails.len(), 1);
    let answer = to(&mails, "marie.dupont@acme.fr");
    let text = answer.text_body.as_deref().unwrap().replace("\r\n", "\n");
    assert!(
        text.starts_with("Non, pas besoin de redémarrer.\n\nAlice"),
        "{text}"
    );
    assert!(!text.contains("Original Message"), "{text}");

    // 7. The team resolves it; the customer is told.
    let out = support::mailgate(
        &config,
        &[
            "tickets",
            "status",
            "SUP-1",
            "resolved",
            "-m",
            "Corrigé en 4.2.1.",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_once(&config);
    let mails = new_mail(&sink, &mut seen);
    let status = to(&mails, "marie.dupont@acme.fr");
    assert!(
        status
            .text_body
            .as_deref()
            .unwrap()
            .contains("Corrigé en 4.2.1.")
    );

    // The ticket holds the whole conversation, and only one ticket exists.
    let ticket = show(&config);
    assert_eq!(ticket["status"], "resolved");
    let comments: Vec<(String, String)> = ticket["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["author_role"].as_str().unwrap().to_owned(),
                c["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        comments,
        [
            ("customer".to_owned(), "Voici une capture.".to_owned()),
            (
                "team".to_owned(),
                "Pouvez-vous essayer ce correctif ?".to_owned()
            ),
            (
                "customer".to_owned(),
                "Le correctif marche, merci !".to_owned()
            ),
            (
                "customer".to_owned(),
                "Une dernière question : faut-il redémarrer ?".to_owned()
            ),
            (
                "team".to_owned(),
                "Non, pas besoin de redémarrer.\n\nAlice".to_owned()
            ),
            ("team".to_owned(), "Corrigé en 4.2.1.".to_owned()),
        ]
    );
    let files: Vec<&str> = ticket["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["export.csv", "capture.png", "correctif.txt"]);
    let list = support::mailgate(&config, &["tickets", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
    assert_eq!(dovecot.count("support", "INBOX").await, 0);
}
