//! Storage and the command line against real databases: SQLite files in a
//! temporary folder and the PostgreSQL server of the machine (a database
//! created per test). The same story runs on both.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use mailgate::config::{self, Settings};
use mailgate::intake::{self, MailboxDefaults};
use mailgate::store::{Attempt, Filed, Inbound, SourceKind, Store};

#[path = "support/database.rs"]
mod database;
#[path = "support/http.rs"]
mod http;

use database::TestDb;

fn settings() -> Settings {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/intake/mailgate.toml");
    config::load(Some(&path), Some(Default::default())).unwrap()
}

const REQUEST: &str = "From: Marie Dupont <marie.dupont@acme.fr>\n\
To: support@example.com\n\
Cc: Paul <paul@acme.fr>, support@example.com\n\
Subject: [Gravité : haute] Export planté\n\
Message-ID: <req-1@acme.fr>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\
\n\
--b\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Bonjour,\n\
Produits : Atlas, Zephyr\n\
L'export CSV est vide depuis la mise à jour.\n\
--b\n\
Content-Type: text/csv; name=export.csv\n\
Content-Disposition: attachment; filename=\"../../export.csv\"\n\
\n\
a;b\n\
1;2\n\
--b--\n";

const SECOND: &str = "From: j.smith@globex.com\nTo: support+nova@example.com\nSubject: Login loop\nMessage-ID: <req-2@globex.com>\n\nThe app keeps asking for my password.\n";
const VACATION: &str =
    "From: a@b.fr\nAuto-Submitted: auto-replied\nSubject: Absent\n\nBack Monday.\n";

/// A message read from a file.
fn inbound(raw: &str) -> Inbound<'_> {
    Inbound {
        source: SourceKind::File,
        mailbox: None,
        uidvalidity: None,
        uid: None,
        raw: raw.as_bytes(),
        digest: None,
    }
}

async fn file(store: &Store, settings: &Settings, raw: &str, uid: Option<u32>) -> Filed {
    let decision = intake::decide(
        raw.as_bytes(),
        &settings.intake,
        &MailboxDefaults::default(),
    );
    let inbound = Inbound {
        source: if uid.is_some() {
            SourceKind::Imap
        } else {
            SourceKind::File
        },
        mailbox: uid.map(|_| "support"),
        uidvalidity: uid.map(|_| 7),
        uid,
        raw: raw.as_bytes(),
        digest: None,
    };
    store.file_message(&inbound, &decision).await.unwrap()
}

async fn story(url: &str) {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    // The store as the commands open it: replies planned, sender policy applied.
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    // Migrations are idempotent: opening again applies nothing new.
    Store::open(url, "SUP").await.unwrap().close().await;

    assert_eq!(
        file(&store, &settings, REQUEST, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    assert_eq!(
        file(&store, &settings, SECOND, Some(10)).await,
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );

    // The same bytes again, and the same message delivered with another trace header.
    assert!(
        matches!(file(&store, &settings, REQUEST, None).await, Filed::Duplicate { ticket: Some(ref k), .. } if k == "SUP-1")
    );
    let relayed = format!("Received: from mx2 by mx3\n{REQUEST}");
    assert!(
        matches!(file(&store, &settings, &relayed, None).await, Filed::Duplicate { ticket: Some(ref k), .. } if k == "SUP-1")
    );
    // The same IMAP message (mailbox, UIDVALIDITY, UID) is recognised as stored.
    assert_eq!(
        file(&store, &settings, SECOND, Some(10)).await,
        Filed::AlreadyStored {
            ticket: Some("SUP-2".into()),
            rejected: false,
        }
    );

    assert_eq!(
        file(&store, &settings, VACATION, None).await,
        Filed::Ignored {
            reason: "auto-reply".into()
        }
    );
    assert_eq!(
        file(&store, &settings, "", None).await,
        Filed::Rejected {
            reason: "empty".into(),
            answered: false,
        }
    );

    let t = store.ticket("sup-1").await.unwrap();
    assert_eq!(t.summary, "Export planté");
    assert_eq!(t.severity, "high");
    assert_eq!(t.products, ["Atlas"]);
    assert_eq!(t.request_type, "support");
    assert_eq!(t.reporter_email, "marie.dupont@acme.fr");
    assert_eq!(t.status, "open");
    assert_eq!(
        t.watchers
            .iter()
            .map(|w| w.email.as_str())
            .collect::<Vec<_>>(),
        ["paul@acme.fr"]
    );
    assert_eq!(t.unrecognized.len(), 1);
    assert_eq!(t.unrecognized[0].value, "Zephyr");
    assert!(t.description.contains("L'export CSV est vide"));
    assert!(!t.description.contains("Produits"));
    assert_eq!(t.attachments.len(), 1);
    let a = &t.attachments[0];
    // The line break before a boundary belongs to the boundary (RFC 2046 5.1.1).
    assert_eq!(
        (a.filename.as_str(), a.content_type.as_str(), a.size),
        ("export.csv", "text/csv", 7)
    );
    assert_eq!(store.blob(&a.sha256).await.unwrap(), b"a;b\n1;2");
    assert!(t.tracking_token.len() >= 32, "token of at least 128 bits");
    let t2 = store.ticket("SUP-2").await.unwrap();
    assert_eq!(t2.products, ["Nova"], "plus-addressing names the product");
    assert_ne!(t.tracking_token, t2.tracking_token);

    let keys: Vec<_> = store
        .list_tickets(None)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, ["SUP-2", "SUP-1"]);
    assert!(store.list_tickets(Some("closed")).await.unwrap().is_empty());
    assert!(matches!(
        store.ticket("SUP-99").await,
        Err(mailgate::store::StoreError::NotFound(_))
    ));

    // One confirmation per ticket, written with it (no team address here).
    let outbox = store.list_outbox().await.unwrap();
    let kinds: Vec<_> = outbox
        .iter()
        .map(|r| (r.kind.as_str(), r.status.as_str(), r.ticket.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("confirmation", "pending", Some("SUP-2")),
            ("confirmation", "pending", Some("SUP-1"))
        ]
    );
    let lease = std::time::Duration::from_secs(60);
    let due = store.claim_outbox(10, lease).await.unwrap();
    assert_eq!(due.len(), 2);
    // Each comes with its content.
    for mail in &due {
        assert_eq!(
            mail.raw.as_deref(),
            Some(&store.blob(&mail.row.raw_sha256).await.unwrap()[..])
        );
    }
    let due: Vec<_> = due.into_iter().map(|m| m.row).collect();
    // Claimed rows go to no other sender.
    assert!(store.claim_outbox(10, lease).await.unwrap().is_empty());
    store
        .record_attempts(&[
            (due[0].id, Attempt::Sent),
            (
                due[1].id,
                Attempt::Failed {
                    error: "550 no such user".into(),
                    retry_at: None,
                },
            ),
        ])
        .await
        .unwrap();
    let replies = store.ticket("SUP-1").await.unwrap().replies;
    assert_eq!(replies.len(), 1);
    assert!(store.claim_outbox(10, lease).await.unwrap().is_empty());

    // Customers.
    store
        .register_customer("Paul@ACME.fr", Some("Paul"), Some("ACME"), Some("en"))
        .await
        .unwrap();
    store
        .register_customer("paul@acme.fr", None, None, Some("fr"))
        .await
        .unwrap();
    let customers = store.registered_customers().await.unwrap();
    assert_eq!(customers.len(), 1);
    assert_eq!(
        (
            customers[0].name.as_deref(),
            customers[0].language.as_deref()
        ),
        (Some("Paul"), Some("fr"))
    );
    assert!(store.unregister_customer("paul@acme.fr").await.unwrap());
    assert!(!store.unregister_customer("paul@acme.fr").await.unwrap());

    let inbound = store.list_inbound(None).await.unwrap();
    let outcomes: Vec<_> = inbound.iter().rev().map(|m| m.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        [
            "ticket",
            "ticket",
            "duplicate",
            "duplicate",
            "ignored",
            "rejected"
        ]
    );
    // Every message keeps its raw bytes, duplicates and rejects included.
    for m in &inbound {
        let raw = store.inbound_raw(m.id).await.unwrap();
        assert_eq!(raw.len() as i64, m.size);
    }
    store.close().await;
}

#[tokio::test]
async fn story_on_sqlite() {
    let db = TestDb::sqlite();
    story(&db.url).await;
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(db) = TestDb::postgres("story").await else {
        return;
    };
    story(&db.url).await;
    db.drop_pg().await;
}

/// Contents over a chunk (the raw message, a 3 MiB attachment) come back
/// byte for byte, and filing the same message again stores nothing twice.
async fn large_contents(url: &str) {
    use base64::Engine as _;
    let settings = settings();
    let store = Store::open(url, "SUP").await.unwrap();
    let data: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    let raw = format!(
        "From: big@acme.fr\nTo: support@example.com\nSubject: Dump\nMessage-ID: <big@acme.fr>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
         Content-Type: text/plain\n\nThe dump.\n--b\nContent-Type: application/octet-stream\n\
         Content-Disposition: attachment; filename=dump.bin\nContent-Transfer-Encoding: base64\n\n{}\n--b--\n",
        lines.join("\n")
    );
    let Filed::Ticket { key } = file(&store, &settings, &raw, None).await else {
        panic!("a ticket");
    };
    assert!(matches!(
        file(&store, &settings, &raw, None).await,
        Filed::Duplicate { .. }
    ));
    let ticket = store.ticket(&key).await.unwrap();
    assert_eq!(ticket.attachments.len(), 1);
    let attachment = &ticket.attachments[0];
    assert_eq!(store.blob(&attachment.sha256).await.unwrap(), data);
    let inbound = store.list_inbound(None).await.unwrap();
    for m in &inbound {
        assert_eq!(store.inbound_raw(m.id).await.unwrap(), raw.as_bytes());
    }
    store.close().await;
}

#[tokio::test]
async fn large_contents_on_sqlite() {
    let db = TestDb::sqlite();
    large_contents(&db.url).await;
}

#[tokio::test]
async fn large_contents_on_postgres() {
    let Some(db) = TestDb::postgres("large").await else {
        return;
    };
    large_contents(&db.url).await;
    db.drop_pg().await;
}

/// The hourly limit on automatic mail counts, in a batch, what the
/// database held before it and the batch's own confirmations (counted for
/// the whole batch in one query).
async fn automatic_mail_limit_in_a_batch(url: &str) {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    settings.auto_reply_limit = 3;
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let request = |from: &str, n: usize| {
        format!(
            "From: {from}\nTo: support@example.com\nSubject: Question {n}\nMessage-ID: <q{n}@x.example>\n\nBonjour {n}.\n"
        )
    };
    file(&store, &settings, &request("marie@acme.fr", 0), None).await;
    let raws: Vec<String> = (1..=4)
        .map(|n| request("marie@acme.fr", n))
        .chain([request("paul@globex.com", 5)])
        .collect();
    let defaults = MailboxDefaults::default();
    let decisions: Vec<_> = (raws.iter())
        .map(|raw| intake::decide(raw.as_bytes(), &settings.intake, &defaults))
        .collect();
    let batch: Vec<(Inbound<'_>, &intake::Decision)> = (raws.iter().zip(&decisions))
        .map(|(raw, decision)| (inbound(raw), decision))
        .collect();
    let (filed, error) = store.file_messages(&batch).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(filed.len(), 5);
    let mut confirmations: Vec<(String, String)> = (store.list_outbox().await.unwrap().into_iter())
        .filter(|o| o.kind == "confirmation")
        .map(|o| (o.recipients, o.status.to_string()))
        .collect();
    confirmations.sort();
    let expected = [
        ("marie@acme.fr", "pending"),
        ("marie@acme.fr", "pending"),
        ("marie@acme.fr", "pending"),
        ("marie@acme.fr", "suppressed"),
        ("marie@acme.fr", "suppressed"),
        ("paul@globex.com", "pending"),
    ]
    .map(|(r, s)| (r.to_owned(), s.to_owned()));
    assert_eq!(confirmations, expected);
    store.close().await;
}

#[tokio::test]
async fn automatic_mail_limit_in_a_batch_on_sqlite() {
    let db = TestDb::sqlite();
    automatic_mail_limit_in_a_batch(&db.url).await;
}

#[tokio::test]
async fn automatic_mail_limit_in_a_batch_on_postgres() {
    let Some(db) = TestDb::postgres("autolimit").await else {
        return;
    };
    automatic_mail_limit_in_a_batch(&db.url).await;
    db.drop_pg().await;
}

/// A message that copies 1,200 people: every one is a watcher (their rows
/// are written several hundred to a statement).
async fn a_thousand_watchers(url: &str) {
    let settings = settings();
    let store = Store::open(url, "SUP").await.unwrap();
    let cc: Vec<String> = (0..1200).map(|n| format!("person{n}@acme.fr")).collect();
    let raw = format!(
        "From: marie@acme.fr\nTo: support@example.com\nCc: {}\nSubject: Tout le monde\n\
         Message-ID: <cc@acme.fr>\n\nBonjour à tous.\n",
        cc.join(",\n ")
    );
    let Filed::Ticket { key } = file(&store, &settings, &raw, None).await else {
        panic!("a ticket");
    };
    let ticket = store.ticket(&key).await.unwrap();
    let mut watchers: Vec<String> = ticket.watchers.iter().map(|w| w.email.clone()).collect();
    watchers.sort();
    let mut expected = cc.clone();
    expected.sort();
    assert_eq!(watchers, expected);
    store.close().await;
}

#[tokio::test]
async fn a_thousand_watchers_on_sqlite() {
    let db = TestDb::sqlite();
    a_thousand_watchers(&db.url).await;
}

#[tokio::test]
async fn a_thousand_watchers_on_postgres() {
    let Some(db) = TestDb::postgres("watchers1200").await else {
        return;
    };
    a_thousand_watchers(&db.url).await;
    db.drop_pg().await;
}

/// A batch files as its messages would one by one: UIDs stored before,
/// copies of messages filed before the batch and copies of messages
/// earlier in the same batch (same bytes, or same Message-ID and body).
/// Contents stored ahead of the batch are not stored twice.
async fn batches(url: &str) {
    let settings = settings();
    let store = Store::open(url, "SUP").await.unwrap();
    let defaults = MailboxDefaults::default();
    let imap = |uid: u32, raw: &'static str| Inbound {
        source: SourceKind::Imap,
        mailbox: Some("support"),
        uidvalidity: Some(7),
        uid: Some(uid),
        raw: raw.as_bytes(),
        digest: None,
    };
    let decide = |raw: &str| intake::decide(raw.as_bytes(), &settings.intake, &defaults);
    assert_eq!(
        file(&store, &settings, SECOND, Some(1)).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );

    let relayed: &'static str =
        Box::leak(format!("Received: from mx2 by mx3\n{REQUEST}").into_boxed_str());
    let relayed_second: &'static str =
        Box::leak(format!("Received: from mx2 by mx3\n{SECOND}").into_boxed_str());
    let batch = [
        imap(1, SECOND),
        imap(2, REQUEST),
        imap(3, REQUEST),
        imap(4, relayed),
        imap(5, relayed_second),
        imap(6, VACATION),
    ];
    let decisions: Vec<_> = batch
        .iter()
        .map(|m| decide(std::str::from_utf8(m.raw).unwrap()))
        .collect();
    let contents = [(intake::sha256_hex(REQUEST.as_bytes()), REQUEST.as_bytes())];
    let contents: Vec<(&str, &[u8])> = contents.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    store.store_contents_ahead(&contents).await.unwrap();
    let messages: Vec<_> = batch.iter().copied().zip(&decisions).collect();
    let (filed, error) = store.file_messages(&messages).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        filed[0],
        Filed::AlreadyStored {
            ticket: Some("SUP-1".into()),
            rejected: false
        }
    );
    assert_eq!(
        filed[1],
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );
    let inbound = store.list_inbound(None).await.unwrap();
    let first_of = |id: &str| {
        let firsts: Vec<_> = inbound
            .iter()
            .filter(|m| {
                m.duplicate_of.is_none() && m.message_id.as_deref().is_some_and(|m| m.contains(id))
            })
            .collect();
        assert_eq!(firsts.len(), 1, "one first copy of {id}");
        firsts[0].id
    };
    let (request, second) = (first_of("req-1"), first_of("req-2"));
    for (i, of, key) in [
        (2, request, "SUP-2"),
        (3, request, "SUP-2"),
        (4, second, "SUP-1"),
    ] {
        assert!(
            matches!(&filed[i], Filed::Duplicate { of_message, ticket: Some(k) } if *of_message == of && k == key),
            "message {i}: {:?}",
            filed[i]
        );
    }
    assert!(matches!(filed[5], Filed::Ignored { .. }), "{:?}", filed[5]);
    assert_eq!(inbound.len(), 6, "one row per UID");
    assert_eq!(
        store.inbound_raw(request).await.unwrap(),
        REQUEST.as_bytes()
    );
    store.close().await;
}

#[tokio::test]
async fn batches_on_sqlite() {
    let db = TestDb::sqlite();
    batches(&db.url).await;
}

#[tokio::test]
async fn batches_on_postgres() {
    let Some(db) = TestDb::postgres("batches").await else {
        return;
    };
    batches(&db.url).await;
    db.drop_pg().await;
}

/// Contents stored ahead come back whole, whatever their size: small ones
/// go by multi-row inserts, those over 16 KiB are looked up first, those
/// over 1 MiB go in chunks; one content twice is stored once.
#[tokio::test]
async fn contents_stored_ahead_on_postgres() {
    let Some(db) = TestDb::postgres("ahead").await else {
        return;
    };
    let store = Store::open(&db.url, "SUP").await.unwrap();
    let sizes = [10, 300, 20 << 10, 20 << 10, (3 << 20) / 2];
    let bodies: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| (0..*n).map(|b| (b * 7 + i) as u8).collect())
        .collect();
    let shas: Vec<String> = bodies.iter().map(|b| intake::sha256_hex(b)).collect();
    let mut contents: Vec<(&str, &[u8])> = shas
        .iter()
        .zip(&bodies)
        .map(|(s, b)| (s.as_str(), &b[..]))
        .collect();
    // The third is stored already; the second comes twice.
    store.store_contents_ahead(&contents[2..3]).await.unwrap();
    contents.push(contents[1]);
    store.store_contents_ahead(&contents).await.unwrap();
    for (sha, body) in shas.iter().zip(&bodies) {
        assert_eq!(
            &store.blob(sha).await.unwrap(),
            body,
            "{} bytes",
            body.len()
        );
    }
    store.close().await;
    db.drop_pg().await;
}

/// Ticket keys stay unique when several writers file at once.
async fn concurrent_keys(url: &str) {
    let settings = settings();
    let store = Store::open(url, "SUP").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let settings = settings.clone();
        tasks.push(tokio::spawn(async move {
            let raw = format!(
                "From: c{i}@acme.fr\nSubject: Request {i}\nMessage-ID: <c{i}@acme.fr>\n\nBody {i}\n"
            );
            let decision = intake::decide(
                raw.as_bytes(),
                &settings.intake,
                &MailboxDefaults::default(),
            );
            let inbound = Inbound {
                source: SourceKind::File,
                mailbox: None,
                uidvalidity: None,
                uid: None,
                raw: raw.as_bytes(),
                digest: None,
            };
            store.file_message(&inbound, &decision).await
        }));
    }
    let mut keys = Vec::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Filed::Ticket { key } => keys.push(key),
            other => panic!("unexpected {other:?}"),
        }
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 20);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_keys_on_sqlite() {
    let db = TestDb::sqlite();
    concurrent_keys(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_keys_on_postgres() {
    let Some(db) = TestDb::postgres("keys").await else {
        return;
    };
    concurrent_keys(&db.url).await;
    db.drop_pg().await;
}

// ---------------------------------------------------------------------------
// The binary.

fn mailgate(config: &Path, args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_config(dir: &Path, database_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("mailgate.toml");
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/intake/mailgate.toml"),
    )
    .unwrap();
    // `extra` holds keys of the [intake] table, which the base file opens.
    let text = format!(
        "[database]\nurl = \"{database_url}\"\n{}",
        base.replace("[intake]\n", &format!("[intake]\n{extra}\n"))
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A folder larger than a batch (64 messages a transaction): every message
/// gets its line, a copy in the same batch is a duplicate, and a reply
/// filed in the batch of its original becomes a comment on it.
#[test]
fn ingest_files_a_large_folder_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/m.db", dir.path().display()),
        "",
    );
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let request = |n: usize| {
        format!(
            "From: client{n}@acme.fr\nTo: support@example.com\nSubject: Demande {n}\n\
             Message-ID: <bulk-{n}@acme.fr>\n\nBonjour, question {n}.\n"
        )
    };
    for n in 0..150 {
        std::fs::write(inbox.join(format!("{n:03}.eml")), request(n)).unwrap();
    }
    std::fs::write(inbox.join("150.eml"), request(140)).unwrap();
    std::fs::write(
        inbox.join("151.eml"),
        "From: client130@acme.fr\nTo: support@example.com\nSubject: Re: Demande 130\n\
         Message-ID: <bulk-reply@acme.fr>\nIn-Reply-To: <bulk-130@acme.fr>\n\nMerci.\n",
    )
    .unwrap();

    let (code, out, err) = mailgate(&config, &["ingest", inbox.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 152, "{out}");
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(" created")).count(),
        150,
        "{out}"
    );
    assert!(lines[0].ends_with("000.eml: SUP-1 created"), "{out}");
    assert!(
        lines[150].contains("150.eml: duplicate of message"),
        "{out}"
    );
    assert!(lines[151].ends_with("151.eml: comment on SUP-131"), "{out}");
    let (code, out, _) = mailgate(
        &config,
        &["tickets", "list", "--json", "--limit", "200"],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 150);
}

#[test]
fn ingest_files_folders_and_stdin_then_lists_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/m.db", dir.path().display()),
        "",
    );
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::write(inbox.join("1.eml"), REQUEST).unwrap();
    std::fs::write(inbox.join("2.eml"), VACATION).unwrap();
    std::fs::write(inbox.join("notes.txt"), "not a message").unwrap();

    let (code, out, err) = mailgate(&config, &["ingest", inbox.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1.eml: SUP-1 created"), "{out}");
    assert!(out.contains("2.eml: ignored (auto-reply)"), "{out}");
    assert!(!out.contains("notes.txt"), "{out}");

    let (code, out, _) = mailgate(&config, &["ingest"], Some(SECOND.as_bytes()));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "-: SUP-2 created");

    let (code, out, _) = mailgate(&config, &["tickets", "list", "--json"], None);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let first = lines.iter().find(|t| t["key"] == "SUP-1").unwrap();
    for field in [
        "key",
        "summary",
        "description",
        "severity",
        "products",
        "request_type",
        "reporter",
        "status",
        "created_at",
        "attachments",
        "comments",
        "tracking_url",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    assert_eq!(first["products"], serde_json::json!(["Atlas"]));
    assert_eq!(first["comments"], 0);
    assert_eq!(first["attachments"][0]["filename"], "export.csv");
    assert_eq!(first["attachments"][0]["size"], 7);
    assert!(
        first["tracking_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8080/t/")
    );

    let (code, out, _) = mailgate(&config, &["tickets", "show", "SUP-1", "--json"], None);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(shown["comments"], serde_json::json!([]));

    let (code, out, _) = mailgate(&config, &["tickets", "list"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("SUP-1") && out.contains("Export planté"),
        "{out}"
    );
    // By page: the cursor of the next one on standard error.
    let (code, out, err) = mailgate(&config, &["tickets", "list", "--limit", "1"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUP-2") && !out.contains("SUP-1"), "{out}");
    assert_eq!(err.trim(), "more: --cursor n2");
    let (code, out, err) = mailgate(
        &config,
        &[
            "tickets",
            "list",
            "--limit",
            "1",
            "--cursor",
            "n2",
            "--product",
            "atlas",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUP-1") && err.is_empty(), "{out}{err}");
    let (code, _, err) = mailgate(&config, &["tickets", "list", "--severity", "dire"], None);
    assert_eq!(code, 64);
    assert!(
        err.contains("accepted: critical, high, medium, low"),
        "{err}"
    );
    // Search: the line where the words are, under the ticket.
    let (code, out, err) = mailgate(&config, &["tickets", "search", "EXPORT vide"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("SUP-1") && out.contains("L'export CSV est vide"),
        "{out}"
    );
    assert!(out.contains("1 ticket(s)"), "{out}");
    let (code, out, _) = mailgate(&config, &["tickets", "search", "password", "--json"], None);
    assert_eq!(code, 0);
    let hit: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(hit["key"], "SUP-2");
    assert!(
        hit["snippet"].as_str().unwrap().contains("password"),
        "{hit}"
    );
    let (code, _, _) = mailgate(&config, &["tickets", "search", "?!"], None);
    assert_eq!(code, 64);

    let (code, _, err) = mailgate(&config, &["tickets", "show", "SUP-77"], None);
    assert_eq!(code, 65, "{err}");
}

#[test]
fn dry_run_prints_the_decision_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let config = write_config(dir.path(), &format!("sqlite://{}", db.display()), "");
    let (code, out, err) = mailgate(
        &config,
        &["ingest", "--dry-run", "-"],
        Some(REQUEST.as_bytes()),
    );
    assert_eq!(code, 0, "{err}");
    let decision: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(decision["outcome"], "ticket");
    assert_eq!(decision["ticket"]["severity"], "high");
    assert!(!db.exists());
}

#[test]
fn exit_codes_for_mtas() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/m.db", dir.path().display()),
        "max_message_size = 2048",
    );
    // Too large: rejected and kept, 65 so the MTA bounces it to the sender.
    let big = format!("From: a@b.fr\nSubject: big\n\n{}\n", "x".repeat(4096));
    let (code, out, _) = mailgate(&config, &["ingest"], Some(big.as_bytes()));
    assert_eq!(code, 65);
    assert!(out.contains("rejected (too-large)"), "{out}");
    // An unreadable file.
    let (code, _, err) = mailgate(&config, &["ingest", "/nonexistent/x.eml"], None);
    assert_eq!(code, 66, "{err}");

    // Database unavailable: 75, so the MTA keeps the message and retries.
    let config = write_config(dir.path(), "postgres://postgres@127.0.0.1:1/none", "");
    let (code, _, err) = mailgate(&config, &["ingest"], Some(SECOND.as_bytes()));
    assert_eq!(code, 75, "{err}");
    let blocked = dir.path().join("file-not-folder");
    std::fs::write(&blocked, "").unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/m.db", blocked.display()),
        "",
    );
    let (code, _, err) = mailgate(&config, &["ingest"], Some(SECOND.as_bytes()));
    assert_eq!(code, 75, "{err}");

    // An invalid configuration names its key.
    let config = write_config(dir.path(), "mysql://x", "");
    let (code, _, err) = mailgate(&config, &["ingest"], Some(SECOND.as_bytes()));
    assert_eq!(code, 78);
    assert!(err.contains("database.url"), "{err}");
}

#[test]
fn config_example_prints_the_documented_file() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = mailgate(
        &dir.path().join("absent.toml"),
        &["config", "example"],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(out, config::EXAMPLE);
}

#[path = "store/conversation.rs"]
mod conversation;
#[path = "store/gdpr.rs"]
mod gdpr;
#[path = "store/merge.rs"]
mod merge;
#[path = "store/messages.rs"]
mod messages;
#[path = "store/portal.rs"]
mod portal;
#[path = "store/quiet.rs"]
mod quiet;
#[path = "store/refusals.rs"]
mod refusals;
#[path = "store/retention.rs"]
mod retention;
#[path = "store/routing.rs"]
mod routing;
#[path = "store/search.rs"]
mod search;
#[path = "store/senders.rs"]
mod senders;
#[path = "store/slices.rs"]
mod slices;
#[path = "store/watchers.rs"]
mod watchers;
#[path = "store/webhooks.rs"]
mod webhooks;
