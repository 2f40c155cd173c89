//! What is stored about one address, gathered for the person who asks
//! (GDPR article 15, `mailgate customers export`): their record, portal
//! records, the tickets they are on, the messages they sent and the mail
//! sent to them. Reads only; the files are written by the command.

use sqlx::Row as _;

use super::{MessageRecord, OutboxRow, Store, StoreError, TicketRecord};

/// Everything stored about one address. Contents (raw messages, mail,
/// attachments) are named by digest and read with [`Store::blob`].
#[derive(Debug, Clone)]
pub struct CustomerExport {
    pub email: String,
    /// The customer record, when there is one (a reporter always has one).
    pub customer: Option<CustomerData>,
    pub consents: Vec<ConsentRecord>,
    pub sign_in_links: Vec<SignInRecord>,
    pub sessions: Vec<SessionRecord>,
    /// Each ticket with how the person is on it.
    pub tickets: Vec<ExportedTicket>,
    pub messages: Vec<ExportedMessage>,
    pub mail: Vec<OutboxRow>,
}

/// The customer record with its register flag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct CustomerData {
    pub email: String,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub language: Option<String>,
    #[sqlx(try_from = "i64")]
    pub registered: super::models::Flag,
    pub created_at: String,
}

/// Terms accepted in the portal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ConsentRecord {
    pub terms_version: String,
    pub accepted_at: String,
    /// The client's IP address.
    pub client: String,
}

/// A portal sign-in link asked for (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SignInRecord {
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    pub client: String,
}

/// A portal session (its cookie and CSRF token are left out: secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SessionRecord {
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
}

/// How the person is on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketRole {
    Reporter,
    Watcher,
    Commenter,
}

#[derive(Debug, Clone)]
pub struct ExportedTicket {
    pub ticket: TicketRecord,
    pub roles: Vec<TicketRole>,
}

/// A message the person sent, with the digest of its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportedMessage {
    #[serde(flatten)]
    pub record: MessageRecord,
    pub raw_sha256: String,
}

impl Store {
    /// Everything stored about an address; [`StoreError::NotFound`] when
    /// nothing is.
    pub async fn export_customer(&self, email: &str) -> Result<CustomerExport, StoreError> {
        let email = email.trim().to_lowercase();
        // Found as erasure finds it, in a transaction that writes nothing
        // and is rolled back.
        let found = {
            let mut tx = self.begin_write().await?;
            Self::footprint(&mut tx, &email).await?
        };
        if found.is_empty() {
            return Err(StoreError::NotFound(format!(
                "nothing is stored about {email}"
            )));
        }
        let customer = sqlx::query_as::<_, CustomerData>(
            "SELECT email, name, organisation, language, registered, created_at
             FROM customers WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let consents = sqlx::query_as::<_, ConsentRecord>(
            "SELECT terms_version, accepted_at, client FROM portal_consents
             WHERE email = $1 ORDER BY id",
        )
        .bind(&email)
        .fetch_all(&self.pool)
        .await?;
        let sign_in_links = sqlx::query_as::<_, SignInRecord>(
            "SELECT created_at, expires_at, used_at, client FROM portal_login_tokens
             WHERE email = $1 ORDER BY created_at",
        )
        .bind(&email)
        .fetch_all(&self.pool)
        .await?;
        let sessions = sqlx::query_as::<_, SessionRecord>(
            "SELECT created_at, last_seen_at, expires_at FROM portal_sessions
             WHERE email = $1 ORDER BY created_at",
        )
        .bind(&email)
        .fetch_all(&self.pool)
        .await?;

        // Read in one go, in the order of `found.tickets()`.
        let tickets = self
            .tickets_by_ids(&found.tickets())
            .await?
            .into_iter()
            .map(|ticket| {
                let roles = [
                    (&found.reported, TicketRole::Reporter),
                    (&found.watched, TicketRole::Watcher),
                    (&found.commented, TicketRole::Commenter),
                ]
                .into_iter()
                .filter(|(ids, _)| ids.contains(&ticket.id))
                .map(|(_, role)| role)
                .collect();
                ExportedTicket { ticket, roles }
            })
            .collect();

        let mut messages = Vec::with_capacity(found.messages.len());
        for id in &found.messages {
            let raw_sha256: String =
                sqlx::query("SELECT raw_sha256 FROM inbound_messages WHERE id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
            messages.push(ExportedMessage {
                record: self.message(*id).await?,
                raw_sha256,
            });
        }
        let mut mail = Vec::with_capacity(found.mail.len());
        for id in &found.mail {
            mail.push(
                sqlx::query_as::<_, OutboxRow>(
                    "SELECT o.id, o.kind, o.message_id, o.sender, o.recipients, o.raw_sha256,
                        o.status, o.attempts, o.last_error, o.created_at, t.key AS ticket,
                        o.body_removed_at
                     FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id WHERE o.id = $1",
                )
                .bind(id)
                .fetch_one(&self.pool)
                .await?,
            );
        }
        Ok(CustomerExport {
            email,
            customer,
            consents,
            sign_in_links,
            sessions,
            tickets,
            messages,
            mail,
        })
    }
}
