//! Watchers on SQLite and PostgreSQL: the people a follow-up is copied to
//! become watchers (not our own addresses, the team's, the queues' nor
//! robots'), recorded in the history and copied on the next team reply;
//! a stranger's mail that does not thread adds nobody; the team adds and
//! removes watchers by hand (`add_watcher`, `remove_watcher`, and
//! `tickets watchers` on the command line), idempotently.

use std::path::{Path, PathBuf};

use mailgate::config::{self, Settings};
use mailgate::store::{EventRecord, Filed, Store, StoreError};

use super::{TestDb, file, mailgate, write_config};

const TEAMS: &str = r#"
[tickets]
team_address = "team@example.com"
team_addresses = ["@vendor.example"]

[[routes]]
name = "atlas"
product = "atlas erp"
team_address = "atlas-team@example.com"
"#;

fn watch_settings(dir: &Path, url: &str) -> (Settings, PathBuf) {
    let path = write_config(dir, url, "");
    let text = std::fs::read_to_string(&path).unwrap() + TEAMS;
    std::fs::write(&path, text).unwrap();
    let settings = config::load(Some(&path), Some(Default::default())).unwrap();
    (settings, path)
}

/// A mail in SUP-1's thread (answering its first message).
fn follow_up(n: u32, from: &str, cc: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: support@example.com\nCc: {cc}\nSubject: Re: [SUP-1] Export vide\n\
         Message-ID: <watch-{n}@acme.fr>\nIn-Reply-To: <watch-1@acme.fr>\n\n{body}\n"
    )
}

async fn watchers(store: &Store, key: &str) -> Vec<String> {
    let ticket = store.ticket(key).await.unwrap();
    ticket.watchers.into_iter().map(|w| w.email).collect()
}

fn watcher_events(events: &[EventRecord]) -> Vec<(Option<String>, Option<String>, String)> {
    events
        .iter()
        .filter(|e| e.kind == "watcher")
        .map(|e| {
            assert_eq!(e.field.as_deref(), Some("watchers"));
            assert!(!e.public.0, "the customer does not see it");
            (e.old_value.clone(), e.new_value.clone(), e.actor.clone())
        })
        .collect()
}

fn added(email: &str, actor: &str) -> (Option<String>, Option<String>, String) {
    (None, Some(email.to_owned()), actor.to_owned())
}

/// The recipients of the latest mail of `kind` about a ticket.
async fn last_recipients(store: &Store, key: &str, kind: &str) -> String {
    store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.ticket.as_deref() == Some(key) && r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} for {key}"))
        .recipients
}

async fn story(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, config) = watch_settings(dir.path(), &db.url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let comment = || Filed::Comment {
        key: "SUP-1".into(),
    };

    let request = "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
                   Subject: Export vide\nMessage-ID: <watch-1@acme.fr>\n\n\
                   Produit : Atlas ERP\nL'export est vide.\n";
    assert_eq!(
        file(&store, &settings, request, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    assert!(watchers(&store, "SUP-1").await.is_empty());

    // Marie copies Paul, and also our address (+tag, capitals), an agent,
    // both queues' team addresses and a robot: only Paul becomes a watcher.
    let cc = "Paul <paul@acme.fr>, Support+Atlas@Example.com, alice@vendor.example, \
              team@example.com, Atlas-Team@example.com, noreply@shop.example";
    let first = follow_up(2, "marie.dupont@acme.fr", cc, "Paul voit la même chose.");
    assert_eq!(file(&store, &settings, &first, None).await, comment());
    assert_eq!(watchers(&store, "SUP-1").await, ["paul@acme.fr"]);
    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert_eq!(
        watcher_events(&sup1.events),
        [added("paul@acme.fr", "marie.dupont@acme.fr")]
    );
    assert_eq!(sup1.watchers[0].name.as_deref(), Some("Paul"));

    // The team's next reply goes to Paul too.
    store
        .team_reply("SUP-1", "alice@vendor.example", "Nous regardons.", &[])
        .await
        .unwrap();
    assert_eq!(
        last_recipients(&store, "SUP-1", "reply").await,
        "marie.dupont@acme.fr,paul@acme.fr"
    );

    // Paul, now watching, copies Jeanne and Marie (the reporter, who gets
    // the mail anyway) and himself again: Jeanne joins, by Paul's doing.
    let second = follow_up(
        3,
        "paul@acme.fr",
        "jeanne@acme.fr, marie.dupont@acme.fr, paul@acme.fr",
        "Toujours vide.",
    );
    assert_eq!(file(&store, &settings, &second, None).await, comment());
    assert_eq!(
        watchers(&store, "SUP-1").await,
        ["jeanne@acme.fr", "paul@acme.fr"]
    );

    // An agent answering by mail copies Victor: a team reply, sent to those
    // watching before (Victor has the agent's own mail), and Victor watches.
    let by_mail = follow_up(4, "alice@vendor.example", "victor@acme.fr", "Corrigé.");
    assert_eq!(file(&store, &settings, &by_mail, None).await, comment());
    assert_eq!(
        last_recipients(&store, "SUP-1", "reply").await,
        "marie.dupont@acme.fr,jeanne@acme.fr,paul@acme.fr"
    );
    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert_eq!(
        watcher_events(&sup1.events),
        [
            added("paul@acme.fr", "marie.dupont@acme.fr"),
            added("jeanne@acme.fr", "paul@acme.fr"),
            added("victor@acme.fr", "alice@vendor.example"),
        ]
    );

    // A stranger naming the ticket does not thread: a ticket of their own,
    // and nobody they copy watches SUP-1.
    let stranger = "From: eve@other.example\nTo: support@example.com\nCc: mallory@other.example\n\
                    Subject: Re: [SUP-1] Export vide\nMessage-ID: <watch-5@other.example>\n\nMoi aussi.\n";
    assert_eq!(
        file(&store, &settings, stranger, None).await,
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );
    assert_eq!(watchers(&store, "SUP-1").await.len(), 3);

    // By hand: added once, the second time changes nothing.
    let done = store
        .add_watcher("SUP-1", "carol@vendor.example", " Lucie@Acme.fr ")
        .await
        .unwrap();
    assert_eq!(
        (done.key.as_str(), done.email.as_str(), done.changed),
        ("SUP-1", "lucie@acme.fr", true)
    );
    let again = store
        .add_watcher("sup-1", "carol@vendor.example", "lucie@acme.fr")
        .await
        .unwrap();
    assert!(!again.changed);
    let reporter = store
        .add_watcher("SUP-1", "carol@vendor.example", "marie.dupont@acme.fr")
        .await
        .unwrap();
    assert!(!reporter.changed, "the reporter gets the mail anyway");
    assert!(matches!(
        store
            .add_watcher("SUP-1", "carol@vendor.example", "not an address")
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .add_watcher("SUP-99", "carol@vendor.example", "lucie@acme.fr")
            .await,
        Err(StoreError::NotFound(_))
    ));
    let removed = store
        .remove_watcher("SUP-1", "carol@vendor.example", "PAUL@acme.fr")
        .await
        .unwrap();
    assert!(removed.changed);
    let absent = store
        .remove_watcher("SUP-1", "carol@vendor.example", "paul@acme.fr")
        .await
        .unwrap();
    assert!(!absent.changed);
    assert_eq!(
        watchers(&store, "SUP-1").await,
        ["jeanne@acme.fr", "lucie@acme.fr", "victor@acme.fr"]
    );
    let events = watcher_events(&store.ticket("SUP-1").await.unwrap().events);
    assert_eq!(
        events[3..],
        [
            added("lucie@acme.fr", "carol@vendor.example"),
            (
                Some("paul@acme.fr".into()),
                None,
                "carol@vendor.example".into()
            ),
        ]
    );
    // Paul no longer hears of it.
    store
        .team_reply("SUP-1", "alice@vendor.example", "C'est réparé.", &[])
        .await
        .unwrap();
    assert_eq!(
        last_recipients(&store, "SUP-1", "reply").await,
        "marie.dupont@acme.fr,jeanne@acme.fr,lucie@acme.fr,victor@acme.fr"
    );
    store.close().await;

    // The command line.
    let run = |args: &[&str]| mailgate(&config, args, None);
    let (code, out, err) = run(&["tickets", "watchers", "SUP-1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "jeanne@acme.fr\nlucie@acme.fr\nvictor@acme.fr\n");
    let add = [
        "tickets",
        "watchers",
        "SUP-1",
        "add",
        "Zoe@acme.fr",
        "--as",
        "dave@vendor.example",
    ];
    let (code, out, err) = run(&add);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "SUP-1: zoe@acme.fr is now a watcher");
    let (code, out, _) = run(&add);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "SUP-1: zoe@acme.fr already gets its mail, nothing changed"
    );
    let (code, out, err) = run(&["tickets", "watchers", "SUP-1", "remove", "jeanne@acme.fr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "SUP-1: jeanne@acme.fr is no longer a watcher");
    let (code, out, _) = run(&["tickets", "watchers", "SUP-1", "remove", "jeanne@acme.fr"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "SUP-1: jeanne@acme.fr was not a watcher, nothing changed"
    );
    let (code, out, _) = run(&["tickets", "watchers", "SUP-1"]);
    assert_eq!(code, 0);
    assert_eq!(out, "lucie@acme.fr\nvictor@acme.fr\nzoe@acme.fr\n");
    let (code, _, err) = run(&["tickets", "watchers", "SUP-1", "add", "nobody"]);
    assert_eq!(code, 65, "an invalid address is a data error: {err}");
    let (code, _, err) = run(&["tickets", "watchers", "SUP-1", "add"]);
    assert_eq!(code, 2, "add needs an address: {err}");
    let (code, _, err) = run(&["tickets", "watchers", "SUP-404"]);
    assert_eq!(code, 65, "{err}");

    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let events = watcher_events(&store.ticket("SUP-1").await.unwrap().events);
    assert_eq!(
        events.last().unwrap(),
        &(
            Some("jeanne@acme.fr".into()),
            None,
            "cli:".to_owned() + &std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    );
    assert!(events.contains(&added("zoe@acme.fr", "dave@vendor.example")));
    store.close().await;
}

#[tokio::test]
async fn watchers_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn watchers_on_postgres() {
    let Some(db) = TestDb::postgres("watchers").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}
