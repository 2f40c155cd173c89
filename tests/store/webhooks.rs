//! Webhooks on SQLite and PostgreSQL, against HTTP receivers on loopback:
//! every event queued with the change that made it, signed, sent with the
//! same event id until taken (a receiver answering 500 then 200), in the
//! Slack format where asked, retried with back-off while a receiver is down
//! and given up after `outbox.give_up_after`, then queued again by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use mailgate::config::{Secret, Settings, WebhookSettings};
use mailgate::model::{DeliveryStatus, Named, WebhookEvent, WebhookFormat};
use mailgate::outbox::webhooks::{Webhooks, flush, hmac_sha256_hex};
use mailgate::store::{Erasure, FieldUpdate, Filed, Store, TicketsOnErasure};
use serde_json::Value;

use super::http::{Received, http_receiver};
use super::{TestDb, file, settings};

const REQUEST: &str = "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
Subject: Export planté\nMessage-ID: <hook-1@acme.fr>\n\nL'export CSV est vide.\n";

fn hook(name: &str, url: &str, events: &[WebhookEvent], format: WebhookFormat) -> WebhookSettings {
    WebhookSettings {
        name: name.into(),
        url: url.into(),
        events: if events.is_empty() {
            WebhookEvent::ALL.to_vec()
        } else {
            events.to_vec()
        },
        secret: Some(Secret::new("s3cret")),
        format,
    }
}

/// A port nothing listens on.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/down", listener.local_addr().unwrap());
    drop(listener);
    url
}

async fn deliveries(store: &Store, webhook: &str) -> Vec<mailgate::store::Delivery> {
    let mut rows: Vec<_> = store
        .list_webhook_deliveries(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.webhook == webhook)
        .collect();
    rows.reverse();
    rows
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

async fn story(db: &TestDb) {
    // The tracker answers 500 once, then 200.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let (tracker, tracker_got) = http_receiver(Box::new(move |_, _| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            (500, "{}".into())
        } else {
            (200, "{}".into())
        }
    }))
    .await;
    let (chat, chat_got) = http_receiver(Box::new(|_, _| (200, "ok".into()))).await;
    let mut settings: Settings = settings();
    settings.database.url = db.url.clone();
    settings.webhooks = vec![
        hook(
            "tracker",
            &format!("{tracker}/in"),
            &[],
            WebhookFormat::Json,
        ),
        hook(
            "chat",
            &format!("{chat}/hooks/x"),
            &[WebhookEvent::StatusChanged],
            WebhookFormat::Slack,
        ),
        hook(
            "down",
            &closed_port_url(),
            &[WebhookEvent::TicketCreated],
            WebhookFormat::Json,
        ),
    ];
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let hooks = Webhooks::new(settings.webhooks.clone());

    assert_eq!(
        file(&store, &settings, REQUEST, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    let update = FieldUpdate {
        status: Some("pending".into()),
        ..FieldUpdate::default()
    };
    store
        .update_ticket("SUP-1", "alice@vendor.example", &update, None)
        .await
        .unwrap();
    store
        .team_reply(
            "SUP-1",
            "alice@vendor.example",
            "Could you send the log?",
            &[],
        )
        .await
        .unwrap();
    store
        .assign_ticket("SUP-1", "alice@vendor.example", Some("bob@vendor.example"))
        .await
        .unwrap();
    let events: Vec<String> = deliveries(&store, "tracker")
        .await
        .into_iter()
        .map(|d| d.event)
        .collect();
    assert_eq!(
        events,
        [
            "ticket.created",
            "status.changed",
            "comment.created",
            "ticket.assigned"
        ]
    );
    assert_eq!(deliveries(&store, "chat").await.len(), 1);
    assert_eq!(deliveries(&store, "down").await.len(), 1);

    // First round: the tracker refuses the first and takes the rest; the
    // chat takes its one; "down" cannot be reached.
    let now = Utc::now();
    let sent = flush(&store, &hooks, &settings.outbox, now).await.unwrap();
    assert_eq!(sent, 4);
    let tracker_rows = deliveries(&store, "tracker").await;
    assert_eq!(tracker_rows[0].status, DeliveryStatus::Pending);
    assert_eq!(tracker_rows[0].attempts, 1);
    assert_eq!(
        tracker_rows[0].last_error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert!(
        tracker_rows[1..]
            .iter()
            .all(|d| d.status == DeliveryStatus::Sent)
    );
    let down = &deliveries(&store, "down").await[0];
    assert_eq!((down.status, down.attempts), (DeliveryStatus::Pending, 1));

    let got: Vec<Received> = tracker_got.lock().unwrap().clone();
    assert_eq!(got.len(), 4);
    for request in &got {
        let body = json(&request.body);
        assert_eq!(
            request.header("x-mailgate-signature"),
            Some(
                format!(
                    "sha256={}",
                    hmac_sha256_hex(b"s3cret", request.body.as_bytes())
                )
                .as_str()
            ),
            "signed"
        );
        assert_eq!(request.header("x-mailgate-event"), body["event"].as_str());
        assert_eq!(request.header("x-mailgate-delivery"), body["id"].as_str());
        assert_eq!(body["ticket"]["key"], "SUP-1");
        assert_eq!(request.path, "/in");
    }
    let created = json(&got[0].body);
    assert_eq!(created["event"], "ticket.created");
    assert_eq!(created["ticket"]["reporter"], "marie.dupont@acme.fr");
    assert_eq!(created["ticket"]["summary"], "Export planté");
    assert_eq!(created["description"], "L'export CSV est vide.");
    let comment = json(&got[2].body);
    assert_eq!(comment["comment"]["body"], "Could you send the log?");
    assert_eq!(comment["comment"]["visibility"], "public");
    let assigned = json(&got[3].body);
    assert_eq!(
        (&assigned["assignee"], &assigned["actor"]),
        (
            &Value::from("bob@vendor.example"),
            &Value::from("alice@vendor.example")
        )
    );
    let chat_body = json(&chat_got.lock().unwrap()[0].body);
    assert_eq!(
        chat_body["text"],
        "[SUP-1] Export planté: open → pending (by alice@vendor.example)"
    );

    // Not yet due again; a minute later the refused one goes, with the
    // same event id, and "down" fails again.
    assert_eq!(
        flush(
            &store,
            &hooks,
            &settings.outbox,
            now + Duration::seconds(30)
        )
        .await
        .unwrap(),
        0
    );
    let later = now + Duration::minutes(2);
    assert_eq!(
        flush(&store, &hooks, &settings.outbox, later)
            .await
            .unwrap(),
        1
    );
    let got = tracker_got.lock().unwrap().clone();
    assert_eq!(got.len(), 5);
    assert_eq!(
        got[4].header("x-mailgate-delivery"),
        got[0].header("x-mailgate-delivery"),
        "a retry carries the event's id"
    );
    assert_eq!(
        deliveries(&store, "tracker").await[0].status,
        DeliveryStatus::Sent
    );
    assert_eq!(deliveries(&store, "down").await[0].attempts, 2);

    // Past outbox.give_up_after (48 h): given up, then queued again by hand.
    let days_later = now + Duration::days(3);
    flush(&store, &hooks, &settings.outbox, days_later)
        .await
        .unwrap();
    let down = &deliveries(&store, "down").await[0];
    assert_eq!(down.status, DeliveryStatus::Failed);
    assert!(
        down.last_error.as_deref().unwrap().contains("given up"),
        "{down:?}"
    );
    assert_eq!(store.retry_webhooks(None).await.unwrap(), 1);
    assert_eq!(
        deliveries(&store, "down").await[0].status,
        DeliveryStatus::Pending
    );
    assert_eq!(
        store.retry_webhooks(Some(down.id)).await.unwrap(),
        0,
        "not failed now"
    );

    // Marie's erasure takes the deliveries about her ticket, which carry
    // her address and words.
    let erasure = Erasure {
        email: "marie.dupont@acme.fr",
        tickets: TicketsOnErasure::Anonymise,
        actor: "cli",
        dry_run: false,
    };
    let report = store.forget_customer(&erasure).await.unwrap();
    assert_eq!(report.counts["webhook_deliveries"], 6);
    assert!(
        store
            .list_webhook_deliveries(None)
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

#[tokio::test]
async fn webhooks_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn webhooks_on_postgres() {
    let Some(db) = TestDb::postgres("webhooks").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}

/// Two senders (two instances) flushing at once send each delivery once.
#[tokio::test]
async fn two_senders_send_each_delivery_once_on_postgres() {
    let Some(db) = TestDb::postgres("webhooks_two").await else {
        return;
    };
    let (url, got) = http_receiver(Box::new(|_, _| (200, "{}".into()))).await;
    let mut settings = settings();
    settings.database.url = db.url.clone();
    settings.webhooks = vec![hook("tracker", &url, &[], WebhookFormat::Json)];
    let first = mailgate::wiring::open_store(&settings).await.unwrap();
    let second = mailgate::wiring::open_store(&settings).await.unwrap();
    for n in 1..=25 {
        let raw = REQUEST.replace("hook-1@", &format!("hook-{n}@"));
        file(&first, &settings, &raw, None).await;
    }
    let hooks = Webhooks::new(settings.webhooks.clone());
    let now = Utc::now();
    let (a, b) = tokio::join!(
        flush(&first, &hooks, &settings.outbox, now),
        flush(&second, &hooks, &settings.outbox, now)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 25);
    let ids: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.header("x-mailgate-delivery").unwrap().to_owned())
        .collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (25, 25));
    first.close().await;
    second.close().await;
    db.drop_pg().await;
}
