//! Each byte stored once (migration 0019): an attachment found in its raw
//! message is kept as its place there, read back byte for byte, and given
//! its own bytes again when that message goes (an erasure, retention) while
//! another ticket still has the file.

use base64::Engine as _;
use chrono::{Duration, Utc};
use mailgate::store::{Erasure, Store, TicketsOnErasure};

use super::retention::{age_contents, all_mail_sent, count, retention_settings};
use super::{TestDb, file};

/// A message with a text part and a file in base64, its lines `width`
/// long, and a log sent as it is (no transfer encoding).
fn with_files(from: &str, id: &str, file: &[u8], width: usize, log: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let lines: Vec<&str> = (encoded.as_bytes().chunks(width))
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "From: {from}\nTo: support@example.com\nSubject: Plantage {id}\nMessage-ID: <{id}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n\
         --b\nContent-Type: text/plain; charset=utf-8\n\nBonjour, voici le fichier.\n\
         --b\nContent-Type: application/pdf; name=rapport.pdf\n\
         Content-Disposition: attachment; filename=rapport.pdf\n\
         Content-Transfer-Encoding: base64\n\n{}\n\
         --b\nContent-Type: text/plain; name=journal.log\n\
         Content-Disposition: attachment; filename=journal.log\n\n{log}\n--b--\n",
        lines.join("\n")
    )
}

fn report_bytes(seed: u32) -> Vec<u8> {
    (0..40_000u32)
        .map(|i| (i.wrapping_mul(seed) % 253) as u8)
        .collect()
}

fn log_text(what: &str) -> String {
    (0..60)
        .map(|i| format!("{what} ligne {i}: import refusé\n"))
        .collect()
}

/// The place a content is kept at, if it is a slice: the raw message's
/// digest.
async fn source_of(url: &str, sha256: &str) -> Option<String> {
    let mut conn = super::retention::connect(url).await;
    sqlx::Row::get(
        &sqlx::query("SELECT source_sha256 FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        0,
    )
}

async fn raw_digest(store: &Store, key: &str) -> String {
    let id = (store.messages(None, None).await.unwrap().iter())
        .find(|m| m.ticket.as_deref() == Some(key))
        .map(|m| m.id)
        .unwrap();
    mailgate::intake::sha256_hex(&store.inbound_raw(id).await.unwrap())
}

async fn story(url: &str) {
    let settings = retention_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let shared = report_bytes(7);
    let alice_log = log_text("alice");
    let alice = with_files("alice@acme.fr", "a1@acme.fr", &shared, 76, &alice_log);
    // Bob sends the same file, wrapped otherwise.
    let bob = with_files(
        "bob@globex.com",
        "b1@globex.com",
        &shared,
        64,
        &log_text("bob"),
    );
    let carol_file = report_bytes(11);
    let carol = with_files(
        "carol@initech.io",
        "c1@initech.io",
        &carol_file,
        76,
        &log_text("carol"),
    );
    for raw in [&alice, &bob, &carol] {
        file(&store, &settings, raw, None).await;
    }
    let (sup1, sup2, sup3) = (
        store.ticket("SUP-1").await.unwrap(),
        store.ticket("SUP-2").await.unwrap(),
        store.ticket("SUP-3").await.unwrap(),
    );
    let alice_raw = raw_digest(&store, "SUP-1").await;
    let pdf = |t: &mailgate::store::TicketRecord| {
        t.attachments
            .iter()
            .find(|a| a.filename == "rapport.pdf")
            .unwrap()
            .sha256
            .clone()
    };
    let log = |t: &mailgate::store::TicketRecord| {
        t.attachments
            .iter()
            .find(|a| a.filename == "journal.log")
            .unwrap()
            .sha256
            .clone()
    };
    assert_eq!(pdf(&sup1), pdf(&sup2));

    // Kept as their places in Alice's message: the PDF (base64) and her
    // log (sent as it is); Bob's copy of the PDF is the same row.
    assert_eq!(source_of(url, &pdf(&sup1)).await, Some(alice_raw.clone()));
    assert_eq!(source_of(url, &log(&sup1)).await, Some(alice_raw.clone()));
    assert_eq!(store.blob(&pdf(&sup2)).await.unwrap(), shared);
    assert_eq!(store.blob(&log(&sup1)).await.unwrap(), alice_log.as_bytes());
    assert_eq!(store.blob(&pdf(&sup3)).await.unwrap(), carol_file);
    // The bytes stored are the raw messages' and little more.
    let mail: usize = [&alice, &bob, &carol].iter().map(|m| m.len()).sum();
    let stored = store.stored_bytes().await.unwrap() as usize;
    assert!(
        stored >= mail && stored < mail + 8_000,
        "{stored} stored for {mail} of mail"
    );

    // The team answers Carol with a file: kept as its place in the reply
    // mail, which carries it anyway.
    let patch = report_bytes(13);
    let reply_file = mailgate::intake::Attachment::new(
        "correctif.bin".into(),
        "application/octet-stream".into(),
        patch.clone(),
    );
    let done = store
        .team_reply(
            "SUP-3",
            "team@vendor.example",
            "Voici le correctif.",
            std::slice::from_ref(&reply_file),
        )
        .await
        .unwrap();
    assert_eq!(done.mails, 1);
    let reply_mail = (store.list_outbox().await.unwrap().into_iter())
        .find(|o| o.kind == "reply")
        .unwrap()
        .raw_sha256;
    assert_eq!(source_of(url, &reply_file.sha256).await, Some(reply_mail));
    assert_eq!(store.blob(&reply_file.sha256).await.unwrap(), patch);

    // Alice is erased: her message goes, and the PDF Bob still has gets
    // its own bytes first.
    let erasure = Erasure {
        email: "alice@acme.fr",
        tickets: TicketsOnErasure::Anonymise,
        actor: "test",
        dry_run: false,
    };
    store.forget_customer(&erasure).await.unwrap();
    assert_eq!(source_of(url, &pdf(&sup2)).await, None);
    assert_eq!(store.blob(&pdf(&sup2)).await.unwrap(), shared);
    let left = format!("SELECT COUNT(*) FROM blobs WHERE sha256 = '{alice_raw}'");
    assert_eq!(count(url, &left).await, 0, "Alice's message is gone");

    // Retention removes the raw messages of 90 days ago and the bodies of
    // mail sent 30 days ago: Carol's file and the team's stay, now whole,
    // and no slice is left pointing at a removed message.
    assert!(all_mail_sent(&store).await > 0);
    age_contents(url).await;
    let report = store
        .maintain(Utc::now() + Duration::days(100), false)
        .await
        .unwrap();
    assert_eq!(report.counts.raw_messages, 2, "{report:?}");
    assert_eq!(store.blob(&pdf(&sup3)).await.unwrap(), carol_file);
    assert_eq!(store.blob(&reply_file.sha256).await.unwrap(), patch);
    assert_eq!(
        store.blob(&log(&sup2)).await.unwrap(),
        log_text("bob").as_bytes()
    );
    assert_eq!(
        count(
            url,
            "SELECT COUNT(*) FROM blobs WHERE source_sha256 IS NOT NULL"
        )
        .await,
        0
    );
    store.close().await;
}

#[tokio::test]
async fn each_byte_once_on_sqlite() {
    let db = TestDb::sqlite();
    story(&db.url).await;
}

#[tokio::test]
async fn each_byte_once_on_postgres() {
    let Some(db) = TestDb::postgres("slices").await else {
        return;
    };
    story(&db.url).await;
    db.drop_pg().await;
}
