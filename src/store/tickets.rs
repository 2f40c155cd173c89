//! Reading tickets with everything attached to them: lists for the CLI,
//! one by key, and one by its tracking token for the tracking page.

use sqlx::Row;

use super::{
    AttachmentRecord, CommentRecord, EventRecord, ReplyRecord, Store, StoreError, TicketRecord,
    models,
};
use crate::model::TicketKey;

/// Tickets for the CLI, the tracking page and the API.
impl Store {
    /// Tickets, newest first, optionally of one status.
    pub async fn list_tickets(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM tickets WHERE ($1 IS NULL OR status = $1) ORDER BY number DESC",
        )
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in rows {
            tickets.push(self.ticket_by_id(row.try_get(0)?).await?);
        }
        Ok(tickets)
    }

    /// A ticket by key (`SUP-42`, any case).
    pub async fn ticket(&self, key: &str) -> Result<TicketRecord, StoreError> {
        let key = TicketKey::parse(key)
            .ok_or_else(|| StoreError::NotFound(format!("{key:?} is not a ticket key")))?;
        let row = sqlx::query("SELECT id FROM tickets WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no ticket {key}")))?;
        self.ticket_by_id(row.try_get(0)?).await
    }

    async fn ticket_by_id(&self, id: i64) -> Result<TicketRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(
            "SELECT key, tracking_token, status, summary, description, severity, request_type,
                    reporter_email, reporter_name, reply_to, language, created_at, updated_at,
                    (SELECT f.key FROM tickets f WHERE f.id = tickets.follows_ticket_id)
             FROM tickets WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let products = sqlx::query(
            "SELECT product FROM ticket_products WHERE ticket_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        let watchers = sqlx::query_as::<_, models::Watcher>(
            "SELECT email, name FROM ticket_watchers WHERE ticket_id = $1 ORDER BY email",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let unrecognized = sqlx::query_as::<_, models::UnrecognizedRecord>(
            "SELECT field, value, source FROM ticket_unrecognized WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let attachments = sqlx::query_as::<_, AttachmentRecord>(
            "SELECT id, filename, content_type, size, sha256, content_id, comment_id FROM attachments WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let comments = sqlx::query_as::<_, CommentRecord>(
            "SELECT id, author_email, author_name, author_role, body, visibility, created_at FROM comments WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let replies = sqlx::query_as::<_, ReplyRecord>(
            "SELECT kind, recipients, status, attempts, last_error, created_at, sent_at FROM outbox WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let events = Self::events(&mut conn, id).await?;
        Ok(TicketRecord {
            id,
            replies,
            events,
            follows: row.try_get(13)?,
            key: row.try_get(0)?,
            tracking_token: row.try_get(1)?,
            status: crate::model::parse_named(&row.try_get::<String, _>(2)?)?,
            summary: row.try_get(3)?,
            description: row.try_get(4)?,
            severity: row.try_get(5)?,
            products,
            request_type: row.try_get(6)?,
            reporter_email: row.try_get(7)?,
            reporter_name: row.try_get(8)?,
            reply_to: row.try_get(9)?,
            language: row.try_get(10)?,
            watchers,
            unrecognized,
            attachments,
            comments,
            created_at: row.try_get(11)?,
            updated_at: row.try_get(12)?,
        })
    }

    /// A ticket by its tracking token.
    pub async fn ticket_by_token(&self, token: &str) -> Result<TicketRecord, StoreError> {
        // Tokens are 40 hex digits; anything else is not looked up at all.
        if token.len() != 40 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound("no such ticket".into()));
        }
        let row = sqlx::query("SELECT id FROM tickets WHERE tracking_token = $1")
            .bind(token.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound("no such ticket".into()))?;
        self.ticket_by_id(row.try_get(0)?).await
    }

    /// A ticket's history.
    async fn events(
        conn: &mut sqlx::AnyConnection,
        ticket_id: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        Ok(sqlx::query_as::<_, EventRecord>(
            "SELECT kind, field, old_value, new_value, detail, actor, public, created_at
             FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(conn)
        .await?)
    }

    /// An attachment's content, only through its own ticket's token.
    pub async fn attachment_by_token(
        &self,
        token: &str,
        attachment_id: i64,
    ) -> Result<(AttachmentRecord, Vec<u8>), StoreError> {
        let ticket = self.ticket_by_token(token).await?;
        let public = ticket.public_attachments().any(|a| a.id == attachment_id);
        let record = ticket
            .attachments
            .into_iter()
            .find(|a| a.id == attachment_id && public)
            .ok_or_else(|| StoreError::NotFound("no such attachment".into()))?;
        let content = self.blob(&record.sha256).await?;
        Ok((record, content))
    }
}
