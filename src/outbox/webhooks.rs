//! Sending webhook deliveries: each claimed row POSTed to its webhook's URL
//! in the webhook's format, signed with its secret, and its outcome
//! recorded; transient failures (a network error, a timeout, 408, 429,
//! 5xx) are retried with the outbox's back-off (`[outbox] retry_*`), other
//! refusals given up at once.
//!
//! Headers: `X-Mailgate-Event` (`ticket.created`…), `X-Mailgate-Delivery`
//! (the event's id, the same on every retry, for the receiver to drop
//! copies), and with a secret `X-Mailgate-Signature: sha256=<hex>`, the
//! HMAC-SHA256 (RFC 2104) of the body sent.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{OutboxSettings, WebhookSettings};
use crate::model::WebhookFormat;
use crate::service::sleep_or_shutdown;
use crate::store::{Delivery, DeliveryAttempt, Store, StoreError};

use super::send::next_attempt;

/// Deliveries claimed per round.
const CLAIM: i64 = 20;
/// How long a claim lasts: longer than a round of `CLAIM` requests.
const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// A receiver that has not answered in this time is tried again later.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhooks of the configuration, and the client that calls them.
#[derive(Clone)]
pub struct Webhooks {
    hooks: Vec<WebhookSettings>,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new(hooks: Vec<WebhookSettings>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mailgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Webhooks { hooks, client }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }
}

/// HMAC-SHA256 of `message` with `key` (RFC 2104), in lower-case hex.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// The body a webhook of `format` is sent for an event (`body`, the stored
/// JSON).
pub fn render(format: WebhookFormat, body: &str) -> String {
    match format {
        WebhookFormat::Json => body.to_owned(),
        WebhookFormat::Slack => {
            let event: Value = serde_json::from_str(body).unwrap_or_default();
            json!({ "text": slack_text(&event) }).to_string()
        }
    }
}

/// A value as Slack shows it literally: `&`, `<` and `>` are its markup
/// (`<!channel>` would alert everyone), escaped as its documentation asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line about the event, for a chat channel. Every value comes from a
/// ticket, so from customers: all are escaped.
fn slack_text(event: &Value) -> String {
    let text = |v: &Value| slack_escape(v.as_str().unwrap_or_default());
    let ticket = &event["ticket"];
    let head = format!("[{}] {}", text(&ticket["key"]), text(&ticket["summary"]));
    match event["event"].as_str().unwrap_or_default() {
        "ticket.created" => format!(
            "New ticket {head} from {} (severity {}, queue {})",
            text(&ticket["reporter"]),
            text(&ticket["severity"]),
            text(&ticket["queue"])
        ),
        "comment.created" => {
            let comment = &event["comment"];
            let what = if comment["visibility"] == "internal" {
                "Internal note"
            } else {
                "Comment"
            };
            format!("{what} on {head} by {}", text(&comment["author"]))
        }
        "status.changed" => format!(
            "{head}: {} → {} (by {})",
            text(&event["from"]),
            text(&event["to"]),
            text(&event["actor"])
        ),
        "ticket.assigned" => match event["assignee"].as_str() {
            Some(who) => format!("{head} assigned to {}", slack_escape(who)),
            None => format!("{head} unassigned"),
        },
        "ticket.merged" => format!("{head} merged into {}", text(&event["into"])),
        other => format!("{head}: {}", slack_escape(other)),
    }
}

/// Whether a refusal may go better later: 408, 429 and 5xx.
fn transient(status: reqwest::StatusCode) -> bool {
    status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// Sends one delivery; `Err((error, transient))` when it was not taken.
async fn send(hooks: &Webhooks, delivery: &Delivery) -> Result<(), (String, bool)> {
    let Some(hook) = hooks.hooks.iter().find(|h| h.name == delivery.webhook) else {
        return Err((
            format!("no webhook {:?} is configured any more", delivery.webhook),
            false,
        ));
    };
    let body = render(hook.format, &delivery.body);
    let mut request = hooks
        .client
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header("X-Mailgate-Event", &delivery.event)
        .header("X-Mailgate-Delivery", &delivery.event_id);
    if let Some(secret) = &hook.secret {
        let signature = hmac_sha256_hex(secret.expose().as_bytes(), body.as_bytes());
        request = request.header("X-Mailgate-Signature", format!("sha256={signature}"));
    }
    match request.body(body).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            let status = response.status();
            Err((format!("HTTP {status}"), transient(status)))
        }
        // Connection refused, DNS, TLS, timeout: all may pass.
        Err(e) => Err((e.without_url().to_string(), true)),
    }
}

/// What an attempt comes to.
fn outcome(
    delivery: &Delivery,
    result: Result<(), (String, bool)>,
    retries: &OutboxSettings,
    now: DateTime<Utc>,
) -> DeliveryAttempt {
    match result {
        Ok(()) => DeliveryAttempt::Sent,
        Err((error, false)) => DeliveryAttempt::Failed { error },
        Err((error, true)) => {
            let created =
                DateTime::parse_from_rfc3339(&delivery.created_at).map_or(now, |t| t.to_utc());
            let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
            match next_attempt(retries, attempts, created, now) {
                Some(at) => DeliveryAttempt::Retry {
                    error,
                    at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
                },
                None => DeliveryAttempt::Failed {
                    error: format!("{error}; given up after {attempts} attempts"),
                },
            }
        }
    }
}

/// Sends every delivery due at `now`; how many were sent.
pub async fn flush(
    store: &Store,
    hooks: &Webhooks,
    retries: &OutboxSettings,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut sent = 0;
    loop {
        let due = store.claim_webhooks(&at, CLAIM, CLAIM_LEASE).await?;
        if due.is_empty() {
            return Ok(sent);
        }
        for delivery in &due {
            let result = send(hooks, delivery).await;
            let attempt = outcome(delivery, result, retries, now);
            match &attempt {
                DeliveryAttempt::Sent => {
                    sent += 1;
                    info!(webhook = %delivery.webhook, event = %delivery.event, ticket = ?delivery.ticket, "webhook sent");
                }
                DeliveryAttempt::Retry { error, at } => {
                    warn!(webhook = %delivery.webhook, event = %delivery.event, %error, retry_at = %at, "webhook not taken; trying again");
                }
                DeliveryAttempt::Failed { error } => {
                    warn!(webhook = %delivery.webhook, event = %delivery.event, %error, "webhook given up");
                }
            }
            store.record_webhook_attempt(delivery.id, &attempt).await?;
        }
    }
}

/// The webhook sender: a round every second, or as soon as a delivery is
/// queued, until `shutdown`.
pub async fn run(
    store: Store,
    hooks: Webhooks,
    retries: OutboxSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let ready = store.webhooks_ready();
    loop {
        if let Err(e) = flush(&store, &hooks, &retries, Utc::now()).await {
            warn!(error = %e, "webhooks not sent");
        }
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            () = ready.notified() => {}
            stop = sleep_or_shutdown(Duration::from_secs(1), &mut shutdown) => if stop { break },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than a block is hashed first.
        assert_eq!(
            hmac_sha256_hex(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn slack_gets_one_line_per_event() {
        let event = json!({
            "event": "status.changed", "from": "open", "to": "resolved", "actor": "system",
            "ticket": {"key": "SUP-4", "summary": "Export <vide>"},
        });
        let body: Value =
            serde_json::from_str(&render(WebhookFormat::Slack, &event.to_string())).unwrap();
        assert_eq!(
            body["text"],
            "[SUP-4] Export &lt;vide&gt;: open → resolved (by system)"
        );
        let note = json!({
            "event": "comment.created",
            "comment": {"visibility": "internal", "author": "alice@vendor.example"},
            "ticket": {"key": "SUP-4", "summary": "Export"},
        });
        let body: Value =
            serde_json::from_str(&render(WebhookFormat::Slack, &note.to_string())).unwrap();
        assert_eq!(
            body["text"],
            "Internal note on [SUP-4] Export by alice@vendor.example"
        );
        assert_eq!(render(WebhookFormat::Json, "{\"a\":1}"), "{\"a\":1}");
    }

    #[test]
    fn which_refusals_are_tried_again() {
        assert!(transient(reqwest::StatusCode::INTERNAL_SERVER_ERROR));
        assert!(transient(reqwest::StatusCode::TOO_MANY_REQUESTS));
        assert!(transient(reqwest::StatusCode::REQUEST_TIMEOUT));
        assert!(!transient(reqwest::StatusCode::NOT_FOUND));
        assert!(!transient(reqwest::StatusCode::UNAUTHORIZED));
    }
}
