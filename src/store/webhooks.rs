//! Webhook deliveries: queued inside the transaction of the event they
//! report, one row per subscribed webhook (migration 0014), then claimed,
//! sent and recorded by the sender (`outbox/webhooks.rs`) with the
//! outbox's back-off.

use std::sync::Arc;

use rand::RngCore;
use serde_json::{Value, json};

use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};
use crate::model::{DeliveryStatus, WebhookEvent};

/// Which events a webhook subscribes to, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub webhook: String,
    pub events: Vec<WebhookEvent>,
}

/// A delivery as listed and as claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub webhook: String,
    pub event_id: String,
    pub event: String,
    /// The ticket's key.
    pub ticket: Option<String>,
    /// The event as JSON.
    pub body: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryAttempt {
    Sent,
    /// Tried again at this time (stored form).
    Retry {
        error: String,
        at: String,
    },
    /// Given up.
    Failed {
        error: String,
    },
}

const DELIVERY_ROWS: &str = "SELECT d.id, d.webhook, d.event_id, d.event, t.key AS ticket, d.body,
        d.status, d.attempts, d.last_error, d.created_at, d.sent_at
     FROM webhook_deliveries d LEFT JOIN tickets t ON t.id = d.ticket_id";

/// 128 random bits in hex: the receivers' key for idempotency.
fn event_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Store {
    /// The same store, queueing events for these webhooks.
    pub fn with_webhooks(mut self, subscriptions: Vec<Subscription>) -> Self {
        self.webhooks = Arc::new(subscriptions);
        self
    }

    /// Queues `event` on a ticket for every webhook that subscribes to it,
    /// inside the transaction that made it happen. `details` are the
    /// event's own fields (`comment`, `from`/`to`, `assignee`…), beside
    /// `id`, `event`, `created_at` and the ticket as it is now.
    pub(super) async fn queue_webhooks(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        event: WebhookEvent,
        details: Value,
    ) -> Result<(), StoreError> {
        let subscribed: Vec<&str> = (self.webhooks.iter())
            .filter(|s| s.events.contains(&event))
            .map(|s| s.webhook.as_str())
            .collect();
        if subscribed.is_empty() {
            return Ok(());
        }
        let at = now();
        let id = event_id();
        let mut body = json!({
            "id": id,
            "event": event.as_str(),
            "created_at": at,
            "ticket": Self::webhook_ticket(tx, ticket_id).await?,
        });
        if let (Value::Object(body), Value::Object(details)) = (&mut body, details) {
            body.extend(details);
        }
        let body = body.to_string();
        for webhook in subscribed {
            sql::query(
                "INSERT INTO webhook_deliveries (webhook, event_id, event, ticket_id, body, status,
                     attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
            )
            .bind(webhook)
            .bind(&id)
            .bind(event.as_str())
            .bind(ticket_id)
            .bind(&body)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        self.webhooks_ready.notify_one();
        Ok(())
    }

    /// The ticket as a webhook tells it.
    async fn webhook_ticket(tx: &mut WriteTx, ticket_id: i64) -> Result<Value, StoreError> {
        let row = sql::query(
            "SELECT key, summary, status, severity, request_type, reporter_email, reporter_name,
                    queue, assignee, created_at
             FROM tickets WHERE id = $1",
        )
        .bind(ticket_id)
        .fetch_one(&mut *tx)
        .await?;
        let products: Vec<String> = sql::query(
            "SELECT product FROM ticket_products WHERE ticket_id = $1 ORDER BY position",
        )
        .bind(ticket_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        Ok(json!({
            "key": row.try_get::<String>(0)?,
            "summary": row.try_get::<String>(1)?,
            "status": row.try_get::<String>(2)?,
            "severity": row.try_get::<String>(3)?,
            "products": products,
            "request_type": row.try_get::<String>(4)?,
            "reporter": row.try_get::<String>(5)?,
            "reporter_name": row.try_get::<Option<String>>(6)?,
            "queue": row.try_get::<Option<String>>(7)?.unwrap_or_else(|| crate::config::DEFAULT_QUEUE.to_owned()),
            "assignee": row.try_get::<Option<String>>(8)?,
            "created_at": row.try_get::<String>(9)?,
        }))
    }

    /// Woken when a delivery may have been queued.
    pub fn webhooks_ready(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.webhooks_ready)
    }

    /// Claims up to `limit` deliveries due at `now` (stored form) for
    /// `lease`: no other sender takes them until then, or until their
    /// attempt is recorded.
    pub async fn claim_webhooks(
        &self,
        now: &str,
        limit: i64,
        lease: chrono::Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let until = super::stored_time(
            (chrono::DateTime::parse_from_rfc3339(now)
                .map_err(|e| StoreError::Other(format!("time {now:?}: {e}")))?
                + lease)
                .to_utc(),
        );
        let claim = format!("{}:{}", self.instance, event_id());
        let mut tx = self.begin_write().await?;
        // The conditions are repeated outside the subquery: PostgreSQL
        // checks them again on a row another sender claimed meanwhile.
        let due = "status = 'pending' AND next_attempt_at <= $2
                   AND (claimed_until IS NULL OR claimed_until < $2)";
        sql::query(format!(
            "UPDATE webhook_deliveries SET claim = $1, claimed_until = $3
             WHERE {due} AND id IN (SELECT id FROM webhook_deliveries WHERE {due}
                                    ORDER BY id LIMIT $4)"
        ))
        .bind(&claim)
        .bind(now)
        .bind(&until)
        .bind(limit)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(sqlx::query_as::<_, Delivery>(&format!(
            "{DELIVERY_ROWS} WHERE d.claim = $1 AND d.status = 'pending' ORDER BY d.id"
        ))
        .bind(&claim)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records an attempt at a delivery, ending its claim.
    pub async fn record_webhook_attempt(
        &self,
        id: i64,
        attempt: &DeliveryAttempt,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let query = match attempt {
            DeliveryAttempt::Sent => sql::query(
                "UPDATE webhook_deliveries SET status = 'sent', attempts = attempts + 1,
                     sent_at = $2, last_error = NULL, claim = NULL, claimed_until = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now()),
            DeliveryAttempt::Retry { error, at } => sql::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2,
                     next_attempt_at = $3, claim = NULL, claimed_until = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(error.as_str())
            .bind(at.as_str()),
            DeliveryAttempt::Failed { error } => sql::query(
                "UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1,
                     last_error = $2, claim = NULL, claimed_until = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(error.as_str()),
        };
        query.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries, newest first, optionally of one status.
    pub async fn list_webhook_deliveries(
        &self,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(sqlx::query_as::<_, Delivery>(&format!(
            "{DELIVERY_ROWS} WHERE ($1 IS NULL OR d.status = $1) ORDER BY d.id DESC"
        ))
        .bind(status.map(DeliveryStatus::as_str))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Failed deliveries (one, or all) pending again, sent at the next
    /// round; the number made pending.
    pub async fn retry_webhooks(&self, id: Option<i64>) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sql::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1,
                 claim = NULL, claimed_until = NULL
             WHERE status = 'failed' AND ($2 IS NULL OR id = $2)",
        )
        .bind(now())
        .bind(id)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        self.webhooks_ready.notify_one();
        Ok(n)
    }
}
