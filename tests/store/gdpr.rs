//! A person's data exported and erased (`mailgate customers export` and
//! `forget`, GDPR articles 15 and 17) through the binary, on SQLite and
//! PostgreSQL: the export's files, both erasure modes, a dry run, what stays
//! of other people, and on SQLite the bytes of the file and its log.

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use mailgate::config::Settings;
use mailgate::store::{Filed, LoginLink, OutgoingMail, Store, StoreError};

use super::{TestDb, file, mailgate, settings, write_config};

const MARIE: &str = "marie.dupont@acme.fr";
/// Sentences only Marie wrote, searched for after the erasure.
const HER_TICKET: &str = "The purple elephant sings at midnight";
const HER_COMMENT: &str = "The orange giraffe dances on the roof";
const HER_COMMENT_ELSEWHERE: &str = "The silver walrus agrees with Paul";
const HER_FILE: &[u8] = b"marie-private-attachment-0042";
/// A file Marie and Paul both sent: its content is stored once.
const SHARED_FILE: &[u8] = b"shared-attachment-bytes-7";
const PAULS_COMMENT: &str = "Paul confirms the export is empty";
const PAULS_TICKET: &str = "Paul cannot print the invoices";

fn with_file(head: &str, text: &str, name: &str, content: &[u8]) -> String {
    format!(
        "{head}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n\
         --b\nContent-Type: text/plain; charset=utf-8\n\n{text}\n\
         --b\nContent-Type: text/csv; name={name}\n\
         Content-Disposition: attachment; filename=\"{name}\"\n\n{}\n--b--\n",
        String::from_utf8_lossy(content)
    )
}

fn gdpr_settings(url: &str) -> Settings {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    settings.tickets.team_address = Some("team@example.com".into());
    settings
}

/// Marie's requests and what is around them:
/// - SUP-1 by Marie, with a file, Paul's comment, her own follow-up (with a
///   file Paul also sent), a team note and a team reply;
/// - SUP-2 by Paul with the shared file, and Marie's comment on it;
/// - SUP-3 by Jo, who copies Marie when `watched` (Marie watches it, and
///   Jo's message names her);
/// - an auto-reply of Marie's (ignored, on no ticket), her portal sign-in
///   link (with its mail), session and consent.
async fn marie_and_others(store: &Store, settings: &Settings, watched: bool) {
    let first = with_file(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Export broken\nMessage-ID: <g1@acme.fr>\n",
        &format!("{HER_TICKET}.\nProduct: Atlas"),
        "plan.csv",
        HER_FILE,
    );
    assert_eq!(
        file(store, settings, &first, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    let paul = format!(
        "From: Paul <paul@acme.fr>\nTo: support@example.com\n\
         Subject: Re: [SUP-1] Export broken\nMessage-ID: <g2@acme.fr>\n\n{PAULS_COMMENT}.\n"
    );
    assert!(matches!(
        file(store, settings, &paul, None).await,
        Filed::Comment { .. }
    ));
    let follow_up = with_file(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Re: [SUP-1] Export broken\nMessage-ID: <g3@acme.fr>\n",
        &format!("{HER_COMMENT}."),
        "shared.csv",
        SHARED_FILE,
    );
    assert!(matches!(
        file(store, settings, &follow_up, None).await,
        Filed::Comment { .. }
    ));
    store
        .add_note(
            "SUP-1",
            "alice@vendor.example",
            "Internal: check the exporter",
        )
        .await
        .unwrap();
    store
        .team_reply("SUP-1", "alice@vendor.example", "We are on it.", &[])
        .await
        .unwrap();

    let pauls = with_file(
        "From: Paul <paul@acme.fr>\nTo: support@example.com\n\
         Subject: Invoices\nMessage-ID: <g4@acme.fr>\n",
        &format!("{PAULS_TICKET}."),
        "shared.csv",
        SHARED_FILE,
    );
    assert_eq!(
        file(store, settings, &pauls, None).await,
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );
    let on_pauls = format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Re: [SUP-2] Invoices\nMessage-ID: <g5@acme.fr>\n\n{HER_COMMENT_ELSEWHERE}.\n"
    );
    assert!(matches!(
        file(store, settings, &on_pauls, None).await,
        Filed::Comment { .. }
    ));
    let cc = if watched {
        "Cc: Marie <marie.dupont@acme.fr>\n"
    } else {
        ""
    };
    let jos = format!(
        "From: jo@globex.com\nTo: support@example.com\n{cc}Subject: Login loop\n\
         Message-ID: <g6@globex.com>\n\nJo is locked out.\n"
    );
    assert_eq!(
        file(store, settings, &jos, None).await,
        Filed::Ticket {
            key: "SUP-3".into()
        }
    );
    let away = "From: marie.dupont@acme.fr\nTo: support@example.com\n\
        Auto-Submitted: auto-replied\nSubject: Away\nMessage-ID: <g7@acme.fr>\n\n\
        Marie is away until Monday.\n";
    assert!(matches!(
        file(store, settings, away, None).await,
        Filed::Ignored { .. }
    ));

    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let link = LoginLink {
        email: MARIE,
        client: "192.0.2.77",
        token_sha256: "c0ffee",
        lifetime: Duration::minutes(15),
        per_address: 3,
        per_client: 5,
        mail: OutgoingMail {
            kind: "portal-login".into(),
            message_id: "portal-login-g@example.com".into(),
            sender: "support@example.com".into(),
            recipients: vec![MARIE.into()],
            raw: format!(
                "From: support@example.com\r\nTo: {MARIE}\r\nSubject: link\r\n\r\nlink\r\n"
            )
            .into_bytes(),
            automatic: false,
            suppressed: None,
        },
    };
    store.queue_portal_login(&link, t0).await.unwrap();
    store
        .open_portal_session("5e55", MARIE, "csrf", Duration::hours(8), t0)
        .await
        .unwrap();
    store
        .record_portal_consent(MARIE, "2026-01", "192.0.2.77", t0)
        .await
        .unwrap();
    store
        .register_customer(MARIE, Some("Marie Dupont"), Some("ACME"), Some("fr"))
        .await
        .unwrap();
}

/// Everything a person reads of the database, to compare before and after.
async fn snapshot(store: &Store) -> String {
    let mut out = String::new();
    for t in store.list_tickets(None).await.unwrap() {
        out.push_str(&format!("{t:?}\n"));
    }
    for m in store.messages(None, None).await.unwrap() {
        out.push_str(&format!("{m:?}\n"));
    }
    for o in store.list_outbox().await.unwrap() {
        out.push_str(&format!("{o:?}\n"));
    }
    out.push_str(&format!(
        "{:?}",
        store.portal_consents(MARIE).await.unwrap()
    ));
    out
}

fn json_file(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn export_checks(dir: &Path, config: &Path) {
    let out = dir.join("export");
    let (code, stdout, err) = mailgate(
        config,
        &["customers", "export", MARIE, "--out", out.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("3 ticket(s)"), "{stdout}");
    assert!(
        std::fs::read_to_string(out.join("README.txt"))
            .unwrap()
            .contains("tickets/KEY/ticket.json")
    );

    let customer = json_file(&out.join("customer.json"));
    assert_eq!(customer["email"], MARIE);
    assert_eq!(customer["customer"]["name"], "Marie Dupont");
    assert_eq!(customer["customer"]["registered"], true);
    assert_eq!(
        customer["portal"]["consents"][0]["terms_version"],
        "2026-01"
    );
    assert_eq!(customer["portal"]["consents"][0]["client"], "192.0.2.77");
    assert_eq!(customer["portal"]["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(
        customer["portal"]["sign_in_links"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let sup1 = json_file(&out.join("tickets/SUP-1/ticket.json"));
    assert_eq!(sup1["roles"], serde_json::json!(["reporter", "commenter"]));
    assert!(sup1["description"].as_str().unwrap().contains(HER_TICKET));
    let bodies: Vec<&str> = (sup1["comments"].as_array().unwrap().iter())
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains(PAULS_COMMENT)),
        "{bodies:?}"
    );
    assert!(bodies.iter().any(|b| b.contains(HER_COMMENT)), "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("Internal: check")),
        "internal notes too"
    );
    assert_eq!(
        std::fs::read(out.join("tickets/SUP-1/attachments/1-plan.csv")).unwrap(),
        HER_FILE
    );
    assert_eq!(
        std::fs::read(out.join("tickets/SUP-1/attachments/2-shared.csv")).unwrap(),
        SHARED_FILE
    );
    let sup2 = json_file(&out.join("tickets/SUP-2/ticket.json"));
    assert_eq!(sup2["roles"], serde_json::json!(["commenter"]));
    let sup3 = json_file(&out.join("tickets/SUP-3/ticket.json"));
    assert_eq!(sup3["roles"], serde_json::json!(["watcher"]));

    // Her four messages (first, follow-up, comment on SUP-2, auto-reply),
    // none of Paul's or Jo's.
    let messages = json_file(&out.join("messages.json"));
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 4, "{messages:?}");
    for m in messages {
        let raw = std::fs::read_to_string(out.join(m["file"].as_str().unwrap())).unwrap();
        assert!(
            raw.starts_with("From: Marie") || raw.starts_with("From: marie"),
            "{raw}"
        );
    }
    assert!(messages.iter().any(|m| m["outcome"] == "ignored"));
    // The mail to her: confirmation, the team's reply, the sign-in link.
    let mail = json_file(&out.join("mail.json"));
    let kinds: Vec<&str> = (mail.as_array().unwrap().iter())
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"confirmation"), "{kinds:?}");
    assert!(kinds.contains(&"portal-login"), "{kinds:?}");
    for m in mail.as_array().unwrap() {
        assert!(m["recipients"].as_str().unwrap().contains(MARIE));
        let raw = std::fs::read_to_string(out.join(m["file"].as_str().unwrap())).unwrap();
        assert!(raw.contains(MARIE), "{raw}");
    }

    // Not over an earlier export; unknown addresses are said to be.
    let (code, _, err) = mailgate(
        config,
        &["customers", "export", MARIE, "--out", out.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 64, "{err}");
    let (code, _, err) = mailgate(
        config,
        &[
            "customers",
            "export",
            "nobody@example.org",
            "--out",
            dir.join("none").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("nothing is stored about nobody@example.org"),
        "{err}"
    );
    zip_checks(dir, config, &out);
}

/// Every file of a folder, by its path under it with `/`.
fn files_under(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().to_str().unwrap();
                files.insert(name.replace('\\', "/"), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The same export as a `.zip`, read back by another program (Python's
/// `zipfile`, which checks every file's CRC): the same files, byte for
/// byte; not over an existing archive.
fn zip_checks(dir: &Path, config: &Path, folder: &Path) {
    let archive = dir.join("export.zip");
    let (code, stdout, err) = mailgate(
        config,
        &[
            "customers",
            "export",
            MARIE,
            "--out",
            archive.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("written to"), "{stdout}");
    assert!(!dir.join("export.zip.partial").exists());
    let unpacked = dir.join("unpacked");
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             bad = z.testzip()\n\
             assert bad is None, bad\n\
             z.extractall(sys.argv[2])\n",
            archive.to_str().unwrap(),
            unpacked.to_str().unwrap(),
        ])
        .output()
        .expect("python3");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let (zipped, folder) = (files_under(&unpacked), files_under(folder));
    assert_eq!(
        zipped.keys().collect::<Vec<_>>(),
        folder.keys().collect::<Vec<_>>()
    );
    assert!(zipped == folder, "the same bytes");
    let (code, _, err) = mailgate(
        config,
        &[
            "customers",
            "export",
            MARIE,
            "--out",
            archive.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 64, "{err}");
}

/// The export, a dry run, then the erasure with anonymised tickets.
async fn anonymise_story(url: &str) {
    let settings = gdpr_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    marie_and_others(&store, &settings, true).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), url, "");
    export_checks(dir.path(), &config);

    let before = snapshot(&store).await;
    let (code, out, err) = mailgate(&config, &["customers", "forget", MARIE, "--dry-run"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("dry run, nothing changed"), "{out}");
    assert!(out.contains("messages                 4"), "{out}");
    assert_eq!(snapshot(&store).await, before, "a dry run changes nothing");

    let (code, out, err) = mailgate(&config, &["customers", "forget", MARIE], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("erased, now erased-"), "{out}");
    let pseudonym = out
        .split_whitespace()
        .find(|w| w.starts_with("erased-"))
        .unwrap()
        .to_owned();
    assert!(pseudonym.ends_with("@invalid"), "{pseudonym}");
    for line in [
        "messages                 4",
        "comments_erased          2",
        "tickets_anonymised       1",
        "watchers                 1",
        "portal_consents          1",
        "portal_sessions          1",
        "portal_sign_in_links     1",
        "customer                 1",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }

    // The log says what was done, not to whom.
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let logged = sqlx::query("SELECT id, actor, mode, counts FROM erasure_log")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1, "the dry run logged nothing");
    let id: i64 = sqlx::Row::get(&logged[0], 0);
    assert_eq!(pseudonym, format!("erased-{id}@invalid"));
    assert_eq!(sqlx::Row::get::<String, _>(&logged[0], 2), "anonymise");
    let counts: String = sqlx::Row::get(&logged[0], 3);
    let counts: serde_json::Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(counts["messages"], 4);
    let actor: String = sqlx::Row::get(&logged[0], 1);
    assert!(!actor.is_empty());
    for text in [actor, counts.to_string()] {
        assert!(!text.contains("marie") && !text.contains("acme"), "{text}");
    }
    drop(conn);

    // SUP-1 stays for the figures, without her words or her address.
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.reporter_email, pseudonym);
    assert_eq!(t.reporter_name, None);
    assert_eq!(
        (t.summary.as_str(), t.description.as_str()),
        ("[erased]", "[erased]")
    );
    assert_eq!(t.status.as_str(), "open");
    assert_eq!(t.products, ["Atlas"]);
    let bodies: Vec<(&str, &str)> = (t.comments.iter())
        .map(|c| (c.author_email.as_str(), c.body.as_str()))
        .collect();
    assert!(
        bodies.contains(&("paul@acme.fr", &format!("{PAULS_COMMENT}.")[..])),
        "{bodies:?}"
    );
    assert!(bodies.contains(&(&pseudonym[..], "[erased]")), "{bodies:?}");
    assert!(
        bodies.iter().any(|(_, b)| b.starts_with("Internal: check")),
        "{bodies:?}"
    );
    assert!(
        t.attachments.is_empty(),
        "her files went: {:?}",
        t.attachments
    );
    assert!(t.replies.is_empty(), "the mail about her request went");
    // Paul's ticket keeps his words and the file they both sent.
    let t2 = store.ticket("SUP-2").await.unwrap();
    assert!(t2.description.contains(PAULS_TICKET));
    assert_eq!(t2.comments.len(), 1);
    assert_eq!(t2.comments[0].author_email, pseudonym);
    assert_eq!(t2.comments[0].body, "[erased]");
    assert_eq!(t2.attachments.len(), 1);
    assert_eq!(
        store.blob(&t2.attachments[0].sha256).await.unwrap(),
        SHARED_FILE
    );
    let t3 = store.ticket("SUP-3").await.unwrap();
    assert_eq!(t3.watchers.len(), 1);
    assert_eq!(t3.watchers[0].email, pseudonym);
    assert_eq!(t3.reporter_email, "jo@globex.com");

    // Her messages and mail went; the others' stayed.
    let messages = store.messages(None, None).await.unwrap();
    assert_eq!(messages.len(), 3, "Paul's two, Jo's one: {messages:?}");
    for m in &messages {
        let raw = String::from_utf8(store.inbound_raw(m.id).await.unwrap()).unwrap();
        assert!(!raw.starts_with("From: Marie") && !raw.starts_with("From: marie"));
    }
    for o in store.list_outbox().await.unwrap() {
        assert!(!o.recipients.contains(MARIE), "{o:?}");
        let raw = store.blob(&o.raw_sha256).await.unwrap();
        assert!(
            !String::from_utf8_lossy(&raw).contains(HER_COMMENT_ELSEWHERE),
            "{o:?}"
        );
    }
    assert!(store.portal_consents(MARIE).await.unwrap().is_empty());
    assert_eq!(
        store
            .portal_session(
                "5e55",
                Duration::hours(8),
                Utc.with_ymd_and_hms(2026, 3, 1, 9, 1, 0).unwrap()
            )
            .await
            .unwrap(),
        None
    );
    assert!(store.registered_customers().await.unwrap().is_empty());
    assert!(!snapshot(&store).await.contains(MARIE));

    // Nothing more to erase.
    let (code, _, err) = mailgate(&config, &["customers", "forget", MARIE], None);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("nothing is stored about"), "{err}");
    store.close().await;
}

/// `--tickets delete`: her ticket goes with everything on it, Paul's
/// comment on it included; her comment elsewhere is erased.
async fn delete_story(url: &str) {
    let settings = gdpr_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    marie_and_others(&store, &settings, true).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), url, "");
    let (code, out, err) = mailgate(
        &config,
        &["customers", "forget", MARIE, "--tickets", "delete"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tickets_deleted          1"), "{out}");
    assert!(matches!(
        store.ticket("SUP-1").await,
        Err(StoreError::NotFound(_))
    ));
    let t2 = store.ticket("SUP-2").await.unwrap();
    assert!(t2.description.contains(PAULS_TICKET));
    assert_eq!(t2.comments[0].body, "[erased]");
    assert_eq!(
        store.blob(&t2.attachments[0].sha256).await.unwrap(),
        SHARED_FILE
    );
    // Paul's ticket message and Jo's stay; Paul's comment went with SUP-1.
    let messages = store.messages(None, None).await.unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        store
            .list_outbox()
            .await
            .unwrap()
            .iter()
            .all(|o| o.ticket.as_deref() != Some("SUP-1"))
    );
    assert!(!snapshot(&store).await.contains(MARIE));
    store.close().await;
}

#[tokio::test]
async fn export_dry_run_and_anonymise_on_sqlite() {
    let db = TestDb::sqlite();
    anonymise_story(&db.url).await;
}

#[tokio::test]
async fn export_dry_run_and_anonymise_on_postgres() {
    let Some(db) = TestDb::postgres("gdpr_anonymise").await else {
        return;
    };
    anonymise_story(&db.url).await;
    db.drop_pg().await;
}

#[tokio::test]
async fn forget_deleting_tickets_on_sqlite() {
    let db = TestDb::sqlite();
    delete_story(&db.url).await;
}

#[tokio::test]
async fn forget_deleting_tickets_on_postgres() {
    let Some(db) = TestDb::postgres("gdpr_delete").await else {
        return;
    };
    delete_story(&db.url).await;
    db.drop_pg().await;
}

/// Where `needle` is in `bytes`, in any case.
fn find(bytes: &[u8], needle: &str) -> Option<usize> {
    bytes
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// On SQLite neither the file nor its log holds her address, her texts or
/// her file afterwards, whatever the mode.
#[tokio::test]
async fn forget_leaves_nothing_in_the_sqlite_files() {
    for mode in ["anonymise", "delete"] {
        let db = TestDb::sqlite();
        let settings = gdpr_settings(&db.url);
        let store = mailgate::wiring::open_store(&settings).await.unwrap();
        // Nobody else's mail names her here.
        marie_and_others(&store, &settings, false).await;
        let path = mailgate::store::sqlite_file(&db.url).unwrap();
        let files = [path.clone(), path.with_extension("db-wal")];
        let all = || -> Vec<u8> {
            files
                .iter()
                .flat_map(|f| std::fs::read(f).unwrap_or_default())
                .collect()
        };
        // Her words are also terms of the search index, which stores each
        // after the prefix it shares with the one before it: the ends of
        // a few words of hers are looked for too.
        let searched: [&str; 8] = [
            MARIE,
            HER_TICKET,
            HER_COMMENT,
            HER_COMMENT_ELSEWHERE,
            std::str::from_utf8(HER_FILE).unwrap(),
            "lephant",
            "iraffe",
            "alrus",
        ];
        let before = all();
        for needle in searched {
            assert!(find(&before, needle).is_some(), "{needle} is stored before");
        }
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &db.url, "");
        let (code, out, err) = mailgate(
            &config,
            &["customers", "forget", MARIE, "--tickets", mode],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("log copied and cut to nothing"), "{out}");
        assert!(!out.contains("still in the file"), "{out}");
        // Copies of her rows may have been left in the pages' unused space
        // by earlier writes (b-tree pages rebuilt when they split), which
        // secure_delete does not reach: then the file was rewritten
        // (VACUUM), which the output says.
        assert_eq!(
            std::fs::metadata(&files[1]).map_or(0, |m| m.len()),
            0,
            "the log is empty"
        );
        let after = all();
        for needle in searched {
            assert_eq!(
                find(&after, needle),
                None,
                "{needle} is left ({mode}): {out}"
            );
        }
        // Paul's words are still there.
        assert!(find(&after, PAULS_TICKET).is_some());
        store.close().await;
    }
}

/// How long erasing a customer with 200 messages takes (printed), among
/// 200 of other people's.
#[tokio::test]
async fn forget_200_messages_on_sqlite() {
    let db = TestDb::sqlite();
    let settings = gdpr_settings(&db.url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    marie_and_others(&store, &settings, true).await;
    for n in 0..200 {
        let hers = format!(
            "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
             Subject: Re: [SUP-1] Export broken\nMessage-ID: <many-{n}@acme.fr>\n\nMore, part {n}.\n"
        );
        file(&store, &settings, &hers, None).await;
        let other = format!(
            "From: someone{n}@example.org\nTo: support@example.com\n\
             Subject: Question {n}\nMessage-ID: <other-{n}@example.org>\n\nA question, {n}.\n"
        );
        file(&store, &settings, &other, None).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, "");
    let started = std::time::Instant::now();
    let (code, out, err) = mailgate(&config, &["customers", "forget", MARIE], None);
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("messages                 204"), "{out}");
    eprintln!("forget of 204 messages among 407, the process included: {took:?}\n{out}");
    store.close().await;
}
