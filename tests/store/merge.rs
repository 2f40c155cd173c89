//! Merging on SQLite and PostgreSQL: the source's request, comments,
//! attachments, watchers and messages move to the target; the source turns
//! `merged` and points to it; mail that threads to the source afterwards
//! (by headers, subject tag or a reply to the notice) lands on the target;
//! its customer is told by one mail; `ticket.merged` is queued for the
//! webhooks; merging what cannot be merged is refused; the command line.

use std::path::{Path, PathBuf};

use mailgate::config::{self, Secret, Settings, WebhookSettings};
use mailgate::model::{SearchTerms, TicketStatus, WebhookEvent, WebhookFormat};
use mailgate::store::{Filed, Merged, StoreError, TicketFilter};

use super::{TestDb, file, mailgate, write_config};

fn merge_settings(dir: &Path, url: &str) -> (Settings, PathBuf) {
    let path = write_config(dir, url, "");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n[tickets]\nteam_address = \"team@example.com\"\nteam_addresses = [\"@vendor.example\"]\n";
    std::fs::write(&path, text).unwrap();
    let mut settings = config::load(Some(&path), Some(Default::default())).unwrap();
    settings.webhooks = vec![WebhookSettings {
        name: "tracker".into(),
        url: "http://127.0.0.1:9/never-sent".into(),
        events: vec![WebhookEvent::TicketMerged],
        secret: Some(Secret::new("s3cret")),
        format: WebhookFormat::Json,
    }];
    (settings, path)
}

const MARIE: &str = "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
Subject: Export vide\nMessage-ID: <merge-1@acme.fr>\n\nL'export CSV est vide.\n";

const PAUL: &str = "From: Paul Martin <paul@beta.example>\nTo: support@example.com\n\
Subject: Export CSV sans lignes\nMessage-ID: <merge-2@beta.example>\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
Le fichier exporté n'a aucune ligne, voir le journal.\n--b\n\
Content-Type: text/plain; name=journal.txt\nContent-Disposition: attachment; filename=journal.txt\n\n\
ERREUR ligne 1\n--b--\n";

fn reply(n: u32, from: &str, subject: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let parent = in_reply_to.map_or(String::new(), |p| format!("In-Reply-To: <{p}>\n"));
    format!(
        "From: {from}\nTo: support@example.com\nSubject: {subject}\n\
         Message-ID: <merge-r{n}@beta.example>\n{parent}\n{body}\n"
    )
}

fn comment(key: &str) -> Filed {
    Filed::Comment { key: key.into() }
}

async fn story(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, config) = merge_settings(dir.path(), &db.url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();

    for (raw, key) in [(MARIE, "SUP-1"), (PAUL, "SUP-2")] {
        assert_eq!(
            file(&store, &settings, raw, None).await,
            Filed::Ticket { key: key.into() }
        );
    }
    let follow_up = reply(
        1,
        "paul@beta.example",
        "Re: Export CSV sans lignes",
        Some("merge-2@beta.example"),
        "Toujours vide ce matin.",
    );
    assert_eq!(
        file(&store, &settings, &follow_up, None).await,
        comment("SUP-2")
    );
    store
        .add_watcher("SUP-2", "alice@vendor.example", "lucie@beta.example")
        .await
        .unwrap();
    store
        .add_note("SUP-2", "alice@vendor.example", "Même cause que SUP-1.")
        .await
        .unwrap();
    let mails_before = store.list_outbox().await.unwrap().len();

    let merged = store
        .merge_tickets("sup-2", "SUP-1", "alice@vendor.example")
        .await
        .unwrap();
    assert_eq!(
        merged,
        Merged {
            source: "SUP-2".into(),
            target: "SUP-1".into(),
            comments: 3,
            attachments: 1,
            watchers_added: 2,
            messages: 2,
            mails: 1,
        }
    );

    let source = store.ticket("SUP-2").await.unwrap();
    assert_eq!(source.status, TicketStatus::Merged);
    assert_eq!(source.merged_into.as_deref(), Some("SUP-1"));
    assert!(source.comments.is_empty() && source.attachments.is_empty());
    assert!(source.watchers.is_empty());
    assert!(
        source
            .events
            .iter()
            .any(|e| e.kind == "merged" && e.new_value.as_deref() == Some("SUP-1"))
    );

    let target = store.ticket("SUP-1").await.unwrap();
    assert_eq!(target.status, TicketStatus::Open);
    let bodies: Vec<&str> = target.comments.iter().map(|c| c.body.as_str()).collect();
    let request = (target.comments.iter())
        .find(|c| c.body.starts_with("[SUP-2] Export CSV sans lignes\n"))
        .unwrap_or_else(|| panic!("the source's request is a comment: {bodies:?}"));
    assert!(request.body.contains("aucune ligne"));
    assert_eq!(request.author_email, "paul@beta.example");
    assert_eq!(request.created_at, source.created_at, "dated when written");
    assert!(bodies.contains(&"Toujours vide ce matin."));
    assert!(bodies.contains(&"Même cause que SUP-1."));
    let files: Vec<(&str, bool)> = target
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.comment_id == Some(request.id)))
        .collect();
    assert_eq!(
        files,
        [("journal.txt", true)],
        "with the request it came with"
    );
    let watchers: Vec<&str> = target.watchers.iter().map(|w| w.email.as_str()).collect();
    assert_eq!(watchers, ["lucie@beta.example", "paul@beta.example"]);
    assert!(
        target
            .events
            .iter()
            .any(|e| e.kind == "merged-from" && e.new_value.as_deref() == Some("SUP-2"))
    );

    // The customer is told once, by one mail to the source's people.
    let outbox = store.list_outbox().await.unwrap();
    assert_eq!(outbox.len(), mails_before + 1);
    let notice: Vec<_> = outbox.iter().filter(|m| m.kind == "merged").collect();
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].ticket.as_deref(), Some("SUP-2"));
    assert_eq!(notice[0].recipients, "paul@beta.example,lucie@beta.example");
    let raw = store.blob(&notice[0].raw_sha256).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("SUP-1"), "{text}");
    let notice_id = notice[0].message_id.clone();

    // The webhook is told, about the source.
    let hooks = store.list_webhook_deliveries(None).await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].event, "ticket.merged");
    assert_eq!(hooks[0].ticket.as_deref(), Some("SUP-2"));
    let body: serde_json::Value = serde_json::from_str(&hooks[0].body).unwrap();
    assert_eq!(body["into"], "SUP-1", "{body}");

    // Later mail to the source lands on the target: by headers (Paul's old
    // thread, the notice), by subject tag (Paul watches the target now).
    let by_headers = reply(
        2,
        "paul@beta.example",
        "Re: Export CSV sans lignes",
        Some("merge-r1@beta.example"),
        "Et avec Firefox aussi.",
    );
    let notice_id = notice_id.trim_matches(['<', '>']);
    let to_notice = reply(
        3,
        "lucie@beta.example",
        "Re: [SUP-2] merged",
        Some(notice_id),
        "Merci.",
    );
    let by_tag = reply(
        4,
        "paul@beta.example",
        "[SUP-2] encore",
        None,
        "Une question de plus.",
    );
    for raw in [by_headers, to_notice, by_tag] {
        assert_eq!(file(&store, &settings, &raw, None).await, comment("SUP-1"));
    }
    assert_eq!(store.ticket("SUP-1").await.unwrap().comments.len(), 6);
    assert!(store.ticket("SUP-2").await.unwrap().comments.is_empty());

    // Its words are found on the target.
    let terms = SearchTerms::parse("firefox").unwrap();
    let page = store
        .search_tickets(&terms, &TicketFilter::default(), 10, None)
        .await
        .unwrap();
    let keys: Vec<&str> = page.tickets.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["SUP-1"]);

    // What cannot be merged, and the team acting on a merged ticket.
    let refused = |result: Result<Merged, StoreError>| match result {
        Err(StoreError::Invalid(why)) => why,
        other => panic!("{other:?}"),
    };
    let why = refused(store.merge_tickets("SUP-2", "SUP-1", "alice").await);
    assert!(why.contains("already merged into SUP-1"), "{why}");
    let why = refused(store.merge_tickets("SUP-1", "SUP-2", "alice").await);
    assert!(why.contains("SUP-2 was already merged into SUP-1"), "{why}");
    let why = refused(store.merge_tickets("SUP-1", "sup-1", "alice").await);
    assert!(why.contains("into itself"), "{why}");
    assert!(matches!(
        store.merge_tickets("SUP-404", "SUP-1", "alice").await,
        Err(StoreError::NotFound(_))
    ));
    match store.team_reply("SUP-2", "alice", "Bonjour", &[]).await {
        Err(StoreError::Invalid(why)) => assert!(why.contains("act on SUP-1"), "{why}"),
        other => panic!("{other:?}"),
    }
    let outbox = store.list_outbox().await.unwrap();
    assert_eq!(
        outbox.iter().filter(|m| m.kind == "merged").count(),
        1,
        "refusals sent nothing"
    );
    store.close().await;

    // The command line.
    let third = "From: marie.dupont@acme.fr\nTo: support@example.com\nSubject: Export vide (bis)\n\
                 Message-ID: <merge-3@acme.fr>\n\nToujours rien.\n";
    std::fs::write(dir.path().join("third.eml"), third).unwrap();
    let run = |args: &[&str]| mailgate(&config, args, None);
    let third_path = dir.path().join("third.eml");
    let (code, out, err) = run(&["ingest", third_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUP-3 created"), "{out}");
    let (code, out, err) = run(&[
        "tickets",
        "merge",
        "SUP-3",
        "--into",
        "SUP-1",
        "--as",
        "bob@vendor.example",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "SUP-3 merged into SUP-1: 1 comment(s), 0 attachment(s), 1 message(s) moved, \
         0 watcher(s) added, 1 mail(s) queued",
        "Marie reports the target: she is no watcher of it"
    );
    let (code, out, _) = run(&["tickets", "show", "SUP-3"]);
    assert_eq!(code, 0);
    assert!(out.contains("Merged into:  SUP-1"), "{out}");
    let (code, _, err) = run(&["tickets", "merge", "SUP-3", "--into", "SUP-1"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("already merged into SUP-1"), "{err}");
    let (code, _, err) = run(&["tickets", "merge", "SUP-1"]);
    assert_eq!(code, 2, "--into is required: {err}");
}

#[tokio::test]
async fn merge_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn merge_on_postgres() {
    let Some(db) = TestDb::postgres("merge").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}
