//! Tickets that went quiet, on SQLite and PostgreSQL, with the clock given
//! to `quiet_tickets`: a pending ticket's customer is reminded once, then
//! the ticket is resolved, then closed, each step in the history as
//! `system` with its mail; a reply from the customer cancels the count; two
//! instances running the job at once take each step once.

use chrono::{Duration, Utc};
use mailgate::config::{QuietRules, Settings};
use mailgate::store::{FieldUpdate, Filed, QuietReport, Store};

use super::{TestDb, file, settings};

fn quiet_settings(url: &str) -> Settings {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    settings.tickets.conversations.quiet = QuietRules {
        pending_reminder_after: Some(Duration::days(3)),
        auto_resolve_pending_after: Some(Duration::days(7)),
        auto_close_resolved_after: Some(Duration::days(2)),
    };
    settings
}

fn request(n: u32) -> String {
    format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Question {n}\nMessage-ID: <quiet-{n}@acme.fr>\n\nBonjour, une question.\n"
    )
}

async fn pending(store: &Store, key: &str) {
    let update = FieldUpdate {
        status: Some("pending".into()),
        ..FieldUpdate::default()
    };
    store
        .update_ticket(
            key,
            "alice@vendor.example",
            &update,
            Some("Can you send the log?"),
        )
        .await
        .unwrap();
}

/// The kinds of mail about a ticket, oldest first.
async fn kinds(store: &Store, key: &str) -> Vec<String> {
    let mut kinds: Vec<String> = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.ticket.as_deref() == Some(key))
        .map(|r| r.kind)
        .collect();
    kinds.reverse();
    kinds
}

fn report(reminded: usize, resolved: usize, closed: usize) -> QuietReport {
    QuietReport {
        reminded,
        resolved,
        closed,
        skipped: false,
    }
}

async fn story(db: &TestDb) {
    let settings = quiet_settings(&db.url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    for n in 1..=2 {
        assert!(matches!(
            file(&store, &settings, &request(n), None).await,
            Filed::Ticket { .. }
        ));
    }
    pending(&store, "SUP-1").await;
    pending(&store, "SUP-2").await;
    let start = Utc::now();

    // Too early for anything.
    assert_eq!(
        store
            .quiet_tickets(start + Duration::days(2))
            .await
            .unwrap(),
        report(0, 0, 0)
    );
    // Day 3: both reminded, once however often the job runs.
    let day3 = start + Duration::days(3) + Duration::minutes(1);
    assert_eq!(store.quiet_tickets(day3).await.unwrap(), report(2, 0, 0));
    assert_eq!(
        store
            .quiet_tickets(day3 + Duration::hours(1))
            .await
            .unwrap(),
        report(0, 0, 0)
    );
    assert_eq!(
        kinds(&store, "SUP-1").await,
        ["confirmation", "status", "reminder"]
    );
    let reminder = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind == "reminder" && r.ticket.as_deref() == Some("SUP-1"))
        .unwrap();
    assert_eq!(reminder.recipients, "marie.dupont@acme.fr");
    let raw = store.blob(&reminder.raw_sha256).await.unwrap();
    let mail = mailgate::intake::parse::parse(&raw);
    assert_eq!(mail.header("auto-submitted"), Some("auto-generated"));
    let text = mail.text_body.unwrap();
    assert!(
        text.contains("Nous attendons toujours votre réponse")
            && text.contains("résolue dans 4 jour(s)"),
        "in French, with the days left: {text}"
    );

    // Marie answers SUP-2: it reopens, its count is over.
    let answer = "From: marie.dupont@acme.fr\nTo: support@example.com\n\
                  Subject: Re: [SUP-2] Question 2\nMessage-ID: <quiet-9@acme.fr>\n\n\
                  Voici le journal.\n";
    assert_eq!(
        file(&store, &settings, answer, None).await,
        Filed::Comment {
            key: "SUP-2".into()
        }
    );
    assert_eq!(store.ticket("SUP-2").await.unwrap().status, "open");

    // Day 7: SUP-1 resolved by the system; SUP-2 stays open.
    let day7 = start + Duration::days(7) + Duration::minutes(1);
    assert_eq!(store.quiet_tickets(day7).await.unwrap(), report(0, 1, 0));
    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert_eq!(sup1.status, "resolved");
    let step = sup1.events.iter().rfind(|e| e.kind == "status").unwrap();
    assert_eq!(
        (
            step.old_value.as_deref(),
            step.new_value.as_deref(),
            step.actor.as_str()
        ),
        (Some("pending"), Some("resolved"), "system")
    );
    assert!(sup1.events.iter().any(|e| e.kind == "reminder"));
    assert_eq!(store.ticket("SUP-2").await.unwrap().status, "open");
    assert_eq!(
        kinds(&store, "SUP-1").await.last().unwrap(),
        "auto-resolved"
    );

    // Two days after it was resolved (by the injected clock): closed.
    assert_eq!(
        store.quiet_tickets(day7 + Duration::days(1)).await.unwrap(),
        report(0, 0, 0)
    );
    assert_eq!(
        store
            .quiet_tickets(day7 + Duration::days(2) + Duration::minutes(1))
            .await
            .unwrap(),
        report(0, 0, 1)
    );
    assert_eq!(store.ticket("SUP-1").await.unwrap().status, "closed");
    assert_eq!(
        kinds(&store, "SUP-1").await,
        [
            "confirmation",
            "status",
            "reminder",
            "auto-resolved",
            "auto-closed"
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn quiet_tickets_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn quiet_tickets_on_postgres() {
    let Some(db) = TestDb::postgres("quiet").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}

/// Two instances on one PostgreSQL database run the job at the same time:
/// each of 30 tickets is reminded once.
#[tokio::test]
async fn two_instances_remind_once_on_postgres() {
    let Some(db) = TestDb::postgres("quiet_two").await else {
        return;
    };
    let settings = quiet_settings(&db.url);
    let first = mailgate::wiring::open_store(&settings).await.unwrap();
    let second = mailgate::wiring::open_store(&settings).await.unwrap();
    for n in 1..=30 {
        file(&first, &settings, &request(n), None).await;
        pending(&first, &format!("SUP-{n}")).await;
    }
    let day3 = Utc::now() + Duration::days(3) + Duration::minutes(1);
    let (a, b) = tokio::join!(first.quiet_tickets(day3), second.quiet_tickets(day3));
    let (a, b) = (a.unwrap(), b.unwrap());
    // Whichever ran second found nothing left, or found the job taken.
    assert_eq!(a.reminded + b.reminded, 30, "{a:?} {b:?}");
    let reminders = first
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "reminder")
        .count();
    assert_eq!(reminders, 30);
    first.close().await;
    second.close().await;
    db.drop_pg().await;
}
