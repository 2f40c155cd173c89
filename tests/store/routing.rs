//! Routing and assignment on SQLite and PostgreSQL: `[[routes]]` send each
//! new ticket's notification to its queue's team (by product, by the
//! address it was sent to, else the default), assign it, and keep the queue
//! for its follow-ups; `assign_ticket` records the change, tells the new
//! assignee unless they did it themselves, and lists filter on it.

use std::path::{Path, PathBuf};

use mailgate::config::{self, Settings};
use mailgate::store::{AssigneeFilter, Filed, Store, TicketFilter};

use super::{TestDb, file, mailgate, write_config};

const ROUTES: &str = r#"
[tickets]
team_address = "team@example.com"

[[routes]]
name = "atlas"
product = "atlas erp"
team_address = "atlas-team@example.com"
assignee = "alice@vendor.example"

[[routes]]
name = "nova-line"
recipient = "nova@example.com"
team_address = "nova-team@example.com"
"#;

/// The fixtures' configuration with the routes above, loaded as the
/// daemon loads its file.
fn routed_settings(dir: &Path, url: &str) -> (Settings, PathBuf) {
    let path = write_config(dir, url, "");
    let text = std::fs::read_to_string(&path).unwrap() + ROUTES;
    std::fs::write(&path, text).unwrap();
    let settings = config::load(Some(&path), Some(Default::default())).unwrap();
    (settings, path)
}

fn request(n: u32, to: &str, body: &str) -> String {
    format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: {to}\nSubject: Question {n}\n\
         Message-ID: <route-{n}@acme.fr>\n\n{body}\n"
    )
}

/// The mail about a ticket: (kind, recipients), oldest first.
async fn mails(store: &Store, key: &str) -> Vec<(String, String)> {
    let mut rows: Vec<_> = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.ticket.as_deref() == Some(key))
        .map(|r| (r.kind, r.recipients))
        .collect();
    rows.reverse();
    rows
}

async fn raw_of(store: &Store, key: &str, kind: &str) -> mailgate::intake::parse::ParsedMail {
    let row = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.ticket.as_deref() == Some(key) && r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} for {key}"));
    mailgate::intake::parse::parse(&store.blob(&row.raw_sha256).await.unwrap())
}

async fn keys(store: &Store, assignee: AssigneeFilter) -> Vec<String> {
    let filter = TicketFilter {
        assignee: Some(assignee),
        ..TicketFilter::default()
    };
    let page = store.ticket_page(&filter, 50, None).await.unwrap();
    page.tickets.into_iter().map(|t| t.key).collect()
}

fn pair(kind: &str, to: &str) -> (String, String) {
    (kind.to_owned(), to.to_owned())
}

async fn story(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, config) = routed_settings(dir.path(), &db.url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let ticket = |key: &str| Filed::Ticket { key: key.into() };

    // By product (an alias in the route, the canonical name stored): the
    // Atlas team hears of it, with Alice, who has it, in copy.
    let atlas = request(
        1,
        "support@example.com",
        "Produit : Atlas ERP\nL'export est vide.",
    );
    assert_eq!(file(&store, &settings, &atlas, None).await, ticket("SUP-1"));
    // By the address it was sent to, with a +tag.
    let nova = request(2, "Nova+urgent@Example.com", "The app loops.");
    assert_eq!(file(&store, &settings, &nova, None).await, ticket("SUP-2"));
    // Neither: the default queue.
    let other = request(3, "support@example.com", "Une question.");
    assert_eq!(file(&store, &settings, &other, None).await, ticket("SUP-3"));

    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert_eq!(
        (sup1.queue.as_deref(), sup1.assignee.as_deref()),
        (Some("atlas"), Some("alice@vendor.example"))
    );
    let by_route = sup1.events.iter().find(|e| e.kind == "assignee").unwrap();
    assert_eq!(
        (
            by_route.new_value.as_deref(),
            by_route.actor.as_str(),
            by_route.detail.as_deref()
        ),
        (
            Some("alice@vendor.example"),
            "mailgate",
            Some("route atlas")
        )
    );
    assert!(!by_route.public.0, "the customer does not see who has it");
    assert_eq!(
        mails(&store, "SUP-1").await,
        [
            pair("confirmation", "marie.dupont@acme.fr"),
            pair(
                "notification",
                "atlas-team@example.com,alice@vendor.example"
            ),
        ]
    );
    let told = raw_of(&store, "SUP-1", "notification").await;
    assert_eq!(told.header("x-mailgate-queue"), Some("atlas"));
    assert_eq!(told.to[0].email, "atlas-team@example.com");
    assert_eq!(told.cc[0].email, "alice@vendor.example");
    let text = told.text_body.unwrap();
    assert!(text.contains("Queue:        atlas"), "{text}");
    assert!(
        text.contains("Assigned to:  alice@vendor.example"),
        "{text}"
    );

    assert_eq!(
        mails(&store, "SUP-2").await[1],
        pair("notification", "nova-team@example.com")
    );
    assert_eq!(
        raw_of(&store, "SUP-2", "notification")
            .await
            .header("x-mailgate-queue"),
        Some("nova-line")
    );
    let sup3 = store.ticket("SUP-3").await.unwrap();
    assert_eq!((sup3.queue, sup3.assignee), (None, None));
    assert_eq!(
        raw_of(&store, "SUP-3", "notification")
            .await
            .header("x-mailgate-queue"),
        Some("default")
    );
    assert_eq!(
        mails(&store, "SUP-3").await[1],
        pair("notification", "team@example.com")
    );

    // A follow-up goes to the queue's team and its assignee.
    let follow_up = "From: marie.dupont@acme.fr\nTo: support@example.com\n\
                     Subject: Re: [SUP-1] Question 1\nMessage-ID: <route-9@acme.fr>\n\n\
                     Toujours vide.\n";
    assert_eq!(
        file(&store, &settings, follow_up, None).await,
        Filed::Comment {
            key: "SUP-1".into()
        }
    );
    assert_eq!(
        mails(&store, "SUP-1").await[2],
        pair(
            "comment-notification",
            "atlas-team@example.com,alice@vendor.example"
        )
    );

    // Carol gives SUP-3 to Bob: Bob is told, the history says so.
    let done = store
        .assign_ticket("SUP-3", "carol@vendor.example", Some("Bob@Vendor.example"))
        .await
        .unwrap();
    assert_eq!(done.mails, 1);
    assert_eq!(
        mails(&store, "SUP-3").await[2],
        pair("assignment", "bob@vendor.example")
    );
    let told = raw_of(&store, "SUP-3", "assignment").await;
    let text = told.text_body.unwrap();
    assert!(
        text.contains("SUP-3 is assigned to you by carol@vendor.example"),
        "{text}"
    );
    let sup3 = store.ticket("SUP-3").await.unwrap();
    assert_eq!(sup3.assignee.as_deref(), Some("bob@vendor.example"));
    let event = sup3.events.iter().find(|e| e.kind == "assignee").unwrap();
    assert_eq!(
        (
            event.old_value.as_deref(),
            event.new_value.as_deref(),
            event.actor.as_str()
        ),
        (None, Some("bob@vendor.example"), "carol@vendor.example")
    );
    // The same again changes nothing; taking one yourself mails nobody.
    let again = store
        .assign_ticket("SUP-3", "carol@vendor.example", Some("bob@vendor.example"))
        .await
        .unwrap();
    assert_eq!(again.mails, 0);
    assert_eq!(store.ticket("SUP-3").await.unwrap().events.len(), 1);
    let own = store
        .assign_ticket("SUP-2", "bob@vendor.example", Some("bob@vendor.example"))
        .await
        .unwrap();
    assert_eq!(own.mails, 0);
    // Unassigned: recorded, nobody mailed.
    let none = store
        .assign_ticket("SUP-1", "carol@vendor.example", None)
        .await
        .unwrap();
    assert_eq!(none.mails, 0);
    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert_eq!(sup1.assignee, None);
    assert_eq!(sup1.queue.as_deref(), Some("atlas"), "the queue stays");
    assert!(
        store
            .assign_ticket("SUP-1", "carol@vendor.example", Some("not an address"))
            .await
            .is_err()
    );

    assert_eq!(
        keys(&store, AssigneeFilter::Person("BOB@vendor.example".into())).await,
        ["SUP-3", "SUP-2"]
    );
    assert_eq!(keys(&store, AssigneeFilter::Nobody).await, ["SUP-1"]);
    // A follow-up now goes to the queue's team only.
    let later = "From: marie.dupont@acme.fr\nTo: support@example.com\n\
                 Subject: Re: [SUP-1] Question 1\nMessage-ID: <route-10@acme.fr>\n\n\
                 Et maintenant ?\n";
    file(&store, &settings, later, None).await;
    assert_eq!(
        mails(&store, "SUP-1").await.last().unwrap(),
        &pair("comment-notification", "atlas-team@example.com")
    );
    store.close().await;

    // The command line.
    let (code, out, err) = mailgate(
        &config,
        &[
            "tickets",
            "assign",
            "SUP-1",
            "dave@vendor.example",
            "--as",
            "carol@vendor.example",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "SUP-1: assigned to dave@vendor.example, 1 mail(s) queued"
    );
    let (code, out, err) = mailgate(
        &config,
        &[
            "tickets",
            "list",
            "--assignee",
            "dave@vendor.example",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(
        (&lines[0]["key"], &lines[0]["queue"], &lines[0]["assignee"]),
        (
            &serde_json::json!("SUP-1"),
            &serde_json::json!("atlas"),
            &serde_json::json!("dave@vendor.example")
        )
    );
    let (code, _, err) = mailgate(&config, &["tickets", "assign", "SUP-1", "--none"], None);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = mailgate(&config, &["tickets", "assign", "SUP-1"], None);
    assert_eq!(code, 2, "an address or --none: {err}");
}

#[tokio::test]
async fn routes_and_assignment_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn routes_and_assignment_on_postgres() {
    let Some(db) = TestDb::postgres("routing").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}
