//! Reading tickets with everything attached to them: lists for the CLI,
//! one by key, and one by its tracking token for the tracking page.

use std::collections::HashMap;

use sqlx::{FromRow, Row};

use super::sql::placeholders;
use super::{AttachmentRecord, Store, StoreError, TicketRecord};
use crate::model::TicketKey;

/// Tickets for the CLI, the tracking page and the API.
impl Store {
    /// Every ticket, newest first, optionally of one status: for tests and
    /// small tools. Lists for people go by page (`Store::ticket_page`).
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
        let ids = rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<i64>, _>>()?;
        self.tickets_by_ids(&ids).await
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
        self.tickets_by_ids(&[id])
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound("no such ticket".into()))
    }

    /// The tickets of `ids`, with everything attached to them, in the
    /// order of `ids` (missing ones left out): eight queries per 500
    /// tickets, each part read for all of them at once.
    pub(super) async fn tickets_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<TicketRecord>, StoreError> {
        // Bounded statements: an IN list per chunk, far below both backends'
        // limits on parameters.
        let mut tickets = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            tickets.extend(self.ticket_chunk(chunk).await?);
        }
        Ok(tickets)
    }

    async fn ticket_chunk(&self, ids: &[i64]) -> Result<Vec<TicketRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(1, ids.len());
        let mut conn = self.pool.acquire().await?;
        let rows = bind_ids(
            sqlx::query(&format!(
                "SELECT id, key, tracking_token, status, summary, description, severity, request_type,
                        reporter_email, reporter_name, reply_to, language, created_at, updated_at,
                        (SELECT f.key FROM tickets f WHERE f.id = tickets.follows_ticket_id),
                        queue, assignee,
                        (SELECT m.key FROM tickets m WHERE m.id = tickets.merged_into)
                 FROM tickets WHERE id IN ({list})"
            )),
            ids,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut tickets = HashMap::with_capacity(rows.len());
        for row in &rows {
            let ticket = ticket_row(row)?;
            tickets.insert(ticket.id, ticket);
        }

        // Each part for every ticket at once, in each ticket's own order.
        let part = |select: &str, order: &str| {
            format!("{select} WHERE ticket_id IN ({list}) ORDER BY ticket_id, {order}")
        };
        let sql = part("SELECT ticket_id, product FROM ticket_products", "position");
        attach(&mut conn, &sql, ids, &mut tickets, |t, p: Product| {
            t.products.push(p.product);
        })
        .await?;
        let sql = part(
            "SELECT ticket_id, email, name FROM ticket_watchers",
            "email",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, w| {
            t.watchers.push(w);
        })
        .await?;
        let sql = part(
            "SELECT ticket_id, field, value, source FROM ticket_unrecognized",
            "id",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, u| {
            t.unrecognized.push(u);
        })
        .await?;
        let sql = part(
            "SELECT ticket_id, id, filename, content_type, size, sha256, content_id, comment_id
             FROM attachments",
            "id",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, a| {
            t.attachments.push(a);
        })
        .await?;
        let sql = part(
            "SELECT ticket_id, id, author_email, author_name, author_role, body, visibility, created_at
             FROM comments",
            "id",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, c| {
            t.comments.push(c);
        })
        .await?;
        let sql = part(
            "SELECT ticket_id, kind, recipients, status, attempts, last_error, created_at, sent_at
             FROM outbox",
            "id",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, r| t.replies.push(r)).await?;
        let sql = part(
            "SELECT ticket_id, kind, field, old_value, new_value, detail, actor, public, created_at
             FROM ticket_events",
            "id",
        );
        attach(&mut conn, &sql, ids, &mut tickets, |t, e| t.events.push(e)).await?;
        Ok(ids.iter().filter_map(|id| tickets.remove(id)).collect())
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

/// A product of a ticket, as a row of `ticket_products`.
#[derive(sqlx::FromRow)]
struct Product {
    product: String,
}

/// Reads the rows of `sql` (its first column the ticket's id, then the
/// columns of `T` by name) into the tickets they belong to.
async fn attach<T>(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    ids: &[i64],
    tickets: &mut HashMap<i64, TicketRecord>,
    put: impl Fn(&mut TicketRecord, T),
) -> Result<(), StoreError>
where
    T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
{
    for row in bind_ids(sqlx::query(sql), ids).fetch_all(conn).await? {
        if let Some(ticket) = tickets.get_mut(&row.try_get::<i64, _>(0)?) {
            put(ticket, T::from_row(&row)?);
        }
    }
    Ok(())
}

fn bind_ids<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ids: &[i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for id in ids {
        query = query.bind(*id);
    }
    query
}

/// A ticket's own row, its parts still empty.
fn ticket_row(row: &sqlx::any::AnyRow) -> Result<TicketRecord, StoreError> {
    Ok(TicketRecord {
        id: row.try_get(0)?,
        key: row.try_get(1)?,
        tracking_token: row.try_get(2)?,
        status: crate::model::parse_named(&row.try_get::<String, _>(3)?)?,
        summary: row.try_get(4)?,
        description: row.try_get(5)?,
        severity: row.try_get(6)?,
        request_type: row.try_get(7)?,
        reporter_email: row.try_get(8)?,
        reporter_name: row.try_get(9)?,
        reply_to: row.try_get(10)?,
        language: row.try_get(11)?,
        created_at: row.try_get(12)?,
        updated_at: row.try_get(13)?,
        follows: row.try_get(14)?,
        queue: row.try_get(15)?,
        assignee: row.try_get(16)?,
        merged_into: row.try_get(17)?,
        products: Vec::new(),
        watchers: Vec::new(),
        unrecognized: Vec::new(),
        attachments: Vec::new(),
        comments: Vec::new(),
        events: Vec::new(),
        replies: Vec::new(),
    })
}
