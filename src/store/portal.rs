//! The customer portal's records: sign-in links (kept as SHA-256 digests,
//! used once, limited per address and per client), sessions with an idle
//! lifetime and their CSRF token, the terms accepted, and a customer's own
//! tickets a page at a time. Every function takes the time it runs at, so
//! that tests can move the clock.

use chrono::{DateTime, Duration, Utc};
use sqlx::Row as _;

use super::sql;
use super::{OutgoingMail, Store, StoreError, stored_time};
use crate::model::{Named, SenderPolicy, TicketStatus};

/// A sign-in link to write, with the mail that carries it.
#[derive(Debug, Clone)]
pub struct LoginLink<'a> {
    /// Lower case.
    pub email: &'a str,
    /// The client's IP address, as text.
    pub client: &'a str,
    /// The SHA-256 of the token, in hex; the token itself is only in the mail.
    pub token_sha256: &'a str,
    pub lifetime: Duration,
    /// Links one address may be sent in an hour.
    pub per_address: i64,
    /// Links one client may ask for in an hour.
    pub per_client: i64,
    pub mail: OutgoingMail,
}

/// Whether a sign-in link was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginQueued {
    Queued,
    /// Over a limit: nothing written, nothing sent.
    Limited,
}

/// A session that is still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub email: String,
    pub csrf: String,
}

/// One line of a customer's list of requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalTicket {
    pub key: String,
    pub status: String,
    pub summary: String,
    pub severity: String,
    pub products: Vec<String>,
    pub updated_at: String,
}

/// Which of a customer's requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    /// Anything not resolved nor closed.
    Open,
    /// Resolved or closed.
    Closed,
}

impl StatusFilter {
    fn statuses(self) -> Option<Vec<&'static str>> {
        let closed = |s: &TicketStatus| {
            matches!(
                s,
                TicketStatus::Resolved | TicketStatus::Closed | TicketStatus::Merged
            )
        };
        match self {
            StatusFilter::All => None,
            StatusFilter::Open => Some(
                (TicketStatus::ALL.iter())
                    .filter(|s| !closed(s))
                    .map(|s| s.as_str())
                    .collect(),
            ),
            StatusFilter::Closed => Some(
                (TicketStatus::ALL.iter())
                    .filter(|s| closed(s))
                    .map(|s| s.as_str())
                    .collect(),
            ),
        }
    }
}

/// Sign-in links.
impl Store {
    /// Whether an address may sign in: under `senders.policy = "registered"`
    /// registered customers and addresses of the allowed domains only,
    /// anyone otherwise.
    pub async fn portal_may_sign_in(&self, email: &str) -> Result<bool, StoreError> {
        let policy = self.admission.policy.unwrap_or(SenderPolicy::Open);
        if policy != SenderPolicy::Registered {
            return Ok(true);
        }
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        if self.admission.allowed_domains.iter().any(|d| d == domain) {
            return Ok(true);
        }
        Ok(
            sqlx::query("SELECT 1 FROM customers WHERE email = $1 AND registered = 1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Writes a sign-in link and queues its mail (kind `portal-login`) in
    /// one transaction, unless the address or the client asked for too many
    /// within the hour.
    pub async fn queue_portal_login(
        &self,
        link: &LoginLink<'_>,
        at: DateTime<Utc>,
    ) -> Result<LoginQueued, StoreError> {
        let now = stored_time(at);
        let hour_ago = stored_time(at - Duration::hours(1));
        let mut tx = self.begin_write().await?;
        let counts = sql::query(
            "SELECT
                (SELECT COUNT(*) FROM portal_login_tokens WHERE email = $1 AND created_at > $3),
                (SELECT COUNT(*) FROM portal_login_tokens WHERE client = $2 AND created_at > $3)",
        )
        .bind(link.email)
        .bind(link.client)
        .bind(hour_ago.as_str())
        .fetch_one(&mut tx)
        .await?;
        let (by_address, by_client): (i64, i64) = (counts.try_get(0)?, counts.try_get(1)?);
        if by_address >= link.per_address || by_client >= link.per_client {
            drop(tx);
            return Ok(LoginQueued::Limited);
        }
        sql::query(
            "INSERT INTO portal_login_tokens (token_sha256, email, client, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(link.token_sha256)
        .bind(link.email)
        .bind(link.client)
        .bind(now.as_str())
        .bind(stored_time(at + link.lifetime))
        .execute(&mut tx)
        .await?;
        Self::enqueue(&mut tx, None, std::slice::from_ref(&link.mail), &now).await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(LoginQueued::Queued)
    }

    /// Uses a sign-in link: the address it was sent to, once, before it
    /// lapses; `None` for a link unknown, used or expired.
    pub async fn use_portal_login(
        &self,
        token_sha256: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let now = stored_time(at);
        let mut tx = self.begin_write().await?;
        let used = sql::query(
            "UPDATE portal_login_tokens SET used_at = $1
             WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.as_str())
        .bind(token_sha256)
        .execute(&mut tx)
        .await?;
        let email = if used == 1 {
            let row = sql::query("SELECT email FROM portal_login_tokens WHERE token_sha256 = $1")
                .bind(token_sha256)
                .fetch_one(&mut tx)
                .await?;
            Some(row.try_get::<String>(0)?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(email)
    }
}

/// Sessions and consent.
impl Store {
    /// Opens a session, known by the SHA-256 of its cookie.
    pub async fn open_portal_session(
        &self,
        id_sha256: &str,
        email: &str,
        csrf: &str,
        lifetime: Duration,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = stored_time(at);
        let mut tx = self.begin_write().await?;
        // Sessions that lapsed are of no use to anyone.
        sql::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
            .bind(now.as_str())
            .execute(&mut tx)
            .await?;
        sql::query(
            "INSERT INTO portal_sessions (id_sha256, email, csrf, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_sha256)
        .bind(email)
        .bind(csrf)
        .bind(now.as_str())
        .bind(stored_time(at + lifetime))
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }

    /// A live session, its idle expiry pushed on to `at + lifetime`.
    pub async fn portal_session(
        &self,
        id_sha256: &str,
        lifetime: Duration,
        at: DateTime<Utc>,
    ) -> Result<Option<PortalSession>, StoreError> {
        let now = stored_time(at);
        let row = sqlx::query(
            "SELECT email, csrf, last_seen_at FROM portal_sessions
             WHERE id_sha256 = $1 AND expires_at > $2",
        )
        .bind(id_sha256)
        .bind(now.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = PortalSession {
            email: row.try_get(0)?,
            csrf: row.try_get(1)?,
        };
        // Pushed on at most once a minute: a page is not a write.
        let last_seen: String = row.try_get(2)?;
        if last_seen < stored_time(at - Duration::minutes(1)) {
            let mut tx = self.begin_write().await?;
            sql::query(
                "UPDATE portal_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_sha256 = $3",
            )
            .bind(now.as_str())
            .bind(stored_time(at + lifetime))
            .bind(id_sha256)
            .execute(&mut tx)
            .await?;
            tx.commit().await?;
        }
        Ok(Some(session))
    }

    /// Ends a session (signing out). Unknown sessions are no error.
    pub async fn end_portal_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sql::query("DELETE FROM portal_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Records that a customer accepted a version of the terms.
    pub async fn record_portal_consent(
        &self,
        email: &str,
        terms_version: &str,
        client: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sql::query(
            "INSERT INTO portal_consents (email, terms_version, accepted_at, client)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(email)
        .bind(terms_version)
        .bind(stored_time(at))
        .bind(client)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }

    /// Whether a customer accepted this version of the terms.
    pub async fn portal_consented(
        &self,
        email: &str,
        terms_version: &str,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "SELECT 1 FROM portal_consents WHERE email = $1 AND terms_version = $2 LIMIT 1",
        )
        .bind(email)
        .bind(terms_version)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Every consent of a customer: (version, accepted at, client), oldest
    /// first.
    pub async fn portal_consents(
        &self,
        email: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT terms_version, accepted_at, client FROM portal_consents
             WHERE email = $1 ORDER BY id",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The language recorded for a customer, if any.
    pub async fn customer_language(&self, email: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT language FROM customers WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => None,
        })
    }
}

/// A customer's tickets.
impl Store {
    /// A page of the tickets a customer reported or watches, newest first:
    /// at most `per_page`, after skipping `page * per_page`, and whether
    /// more follow. Two queries whatever the page holds.
    pub async fn portal_tickets(
        &self,
        email: &str,
        filter: StatusFilter,
        page: usize,
        per_page: usize,
    ) -> Result<(Vec<PortalTicket>, bool), StoreError> {
        let statuses = filter.statuses();
        let status_clause = statuses.as_ref().map_or(String::new(), |s| {
            format!(" AND status IN ({})", sql::placeholders(4, s.len()))
        });
        let text = format!(
            "SELECT id, key, status, summary, severity, updated_at FROM tickets
             WHERE (reporter_email = $1
                    OR id IN (SELECT ticket_id FROM ticket_watchers WHERE email = $1))
             {status_clause}
             ORDER BY number DESC LIMIT $2 OFFSET $3"
        );
        let mut query = sqlx::query(&text)
            .bind(email)
            .bind((per_page + 1) as i64)
            .bind((page * per_page) as i64);
        for status in statuses.iter().flatten() {
            query = query.bind(*status);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = query.fetch_all(&mut *conn).await?;
        let more = rows.len() > per_page;
        let mut ids = Vec::new();
        let mut tickets = Vec::new();
        for row in rows.iter().take(per_page) {
            ids.push(row.try_get::<i64, _>(0)?);
            tickets.push(PortalTicket {
                key: row.try_get(1)?,
                status: row.try_get(2)?,
                summary: row.try_get(3)?,
                severity: row.try_get(4)?,
                products: Vec::new(),
                updated_at: row.try_get(5)?,
            });
        }
        if !ids.is_empty() {
            let text = format!(
                "SELECT ticket_id, product FROM ticket_products WHERE ticket_id IN ({})
                 ORDER BY ticket_id, position",
                sql::placeholders(1, ids.len())
            );
            let mut query = sqlx::query(&text);
            for id in &ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let id: i64 = row.try_get(0)?;
                if let Some(at) = ids.iter().position(|i| *i == id) {
                    tickets[at].products.push(row.try_get(1)?);
                }
            }
        }
        Ok((tickets, more))
    }

    /// One of a customer's tickets (reporter or watcher); any other, or an
    /// unknown key, is the same `NotFound`.
    pub async fn portal_ticket(
        &self,
        email: &str,
        key: &str,
    ) -> Result<super::TicketRecord, StoreError> {
        let not_found = || StoreError::NotFound("no such ticket".into());
        let ticket = self.ticket(key).await.map_err(|e| match e {
            StoreError::NotFound(_) => not_found(),
            other => other,
        })?;
        let theirs = ticket.reporter_email.eq_ignore_ascii_case(email)
            || ticket
                .watchers
                .iter()
                .any(|w| w.email.eq_ignore_ascii_case(email));
        if theirs { Ok(ticket) } else { Err(not_found()) }
    }
}
