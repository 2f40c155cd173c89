//! Threading: which ticket a message continues (headers, then a subject
//! tag with a sender check, then our marker), who belongs to a ticket, and
//! whether a follow-up still reopens it.

use crate::intake::MessageFacts;
use crate::intake::thread::{is_team_address, marker_code, same_organisation_domain};
use crate::model::{TicketKey, TicketStatus};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError};

use super::merge::MERGE_HOPS;

/// How a message was found to continue a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadVia {
    /// In-Reply-To or References names a message of the ticket.
    Headers,
    /// The subject names the ticket and the sender belongs to it.
    SubjectTag,
    /// Our marker, quoted in the body.
    Marker,
}

impl ThreadVia {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadVia::Headers => "headers",
            ThreadVia::SubjectTag => "subject-tag",
            ThreadVia::Marker => "marker",
        }
    }
}

/// The ticket a message continues.
#[derive(Debug, Clone)]
pub(in crate::store) struct Thread {
    pub ticket_id: i64,
    pub key: String,
    pub status: TicketStatus,
    /// When the status last changed.
    pub since: String,
    pub via: ThreadVia,
}

/// What a follow-up to a thread becomes.
pub(in crate::store) enum Continuation {
    Comment,
    /// The ticket was closed before the reopen window: a new ticket that
    /// follows it.
    NewTicket,
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl Store {
    pub(super) fn is_team(&self, email: &str) -> bool {
        is_team_address(email, &self.conversations.team_addresses)
    }

    /// The ticket a message continues, trying the three layers in turn.
    pub(in crate::store) async fn find_thread(
        &self,
        tx: &mut WriteTx,
        facts: &MessageFacts,
        sender: &str,
    ) -> Result<Option<Thread>, StoreError> {
        // 1. Headers: the parent first, then References from the nearest.
        let ids = facts
            .in_reply_to
            .iter()
            .chain(facts.references.iter().rev())
            .take(30);
        for id in ids {
            let row = sql::query(
                "SELECT ticket_id FROM inbound_messages WHERE message_id = $1 AND ticket_id IS NOT NULL
                 UNION ALL
                 SELECT ticket_id FROM outbox WHERE message_id = $1 AND ticket_id IS NOT NULL
                 LIMIT 1",
            )
            .bind(id.as_str())
            .fetch_optional(tx)
            .await?;
            if let Some(row) = row {
                return self
                    .thread(tx, row.try_get(0)?, ThreadVia::Headers)
                    .await
                    .map(Some);
            }
        }
        // 2. The leftmost ticket tag, if the sender belongs to that ticket.
        if let Some(key) = facts.ticket_refs.first()
            && let Some(id) = self.ticket_id(tx, key).await?
            && self.belongs_to(tx, id, sender).await?
        {
            return self.thread(tx, id, ThreadVia::SubjectTag).await.map(Some);
        }
        // 3. A marker whose code matches its ticket's token.
        for marker in &facts.markers {
            let row = sql::query("SELECT id, tracking_token FROM tickets WHERE key = $1")
                .bind(&marker.key)
                .fetch_optional(tx)
                .await?;
            if let Some(row) = row {
                let token: String = row.try_get(1)?;
                if marker_code(&token) == marker.code {
                    return self
                        .thread(tx, row.try_get(0)?, ThreadVia::Marker)
                        .await
                        .map(Some);
                }
            }
        }
        Ok(None)
    }

    /// The ticket a key names, or the one it was merged into.
    async fn ticket_id(&self, tx: &mut WriteTx, key: &str) -> Result<Option<i64>, StoreError> {
        let Some(key) = TicketKey::parse(key) else {
            return Ok(None);
        };
        let row = sql::query("SELECT id, merged_into FROM tickets WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        match row.try_get::<Option<i64>>(1)? {
            Some(into) => self.merge_target(tx, into).await.map(Some),
            None => row.try_get(0).map(Some),
        }
    }

    async fn thread(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        via: ThreadVia,
    ) -> Result<Thread, StoreError> {
        // Mail to a merged ticket continues the one it was merged into.
        let mut ticket_id = ticket_id;
        let mut hops = 0;
        loop {
            let row = sql::query(
                "SELECT key, status, COALESCE(status_changed_at, created_at), merged_into
                 FROM tickets WHERE id = $1",
            )
            .bind(ticket_id)
            .fetch_one(&mut *tx)
            .await?;
            match row.try_get::<Option<i64>>(3)? {
                Some(into) if hops < MERGE_HOPS => {
                    ticket_id = into;
                    hops += 1;
                }
                _ => {
                    return Ok(Thread {
                        ticket_id,
                        key: row.try_get(0)?,
                        status: row.named(1)?,
                        since: row.try_get(2)?,
                        via,
                    });
                }
            }
        }
    }

    /// Whether an address may write into a ticket by naming it: its
    /// reporter, a watcher, the team, or someone of the reporter's
    /// organisation (the same recorded organisation, or the same domain
    /// unless it is a public mail provider's).
    pub(super) async fn belongs_to(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        email: &str,
    ) -> Result<bool, StoreError> {
        if self.is_team(email) {
            return Ok(true);
        }
        let row = sql::query(
            "SELECT t.reporter_email, c.organisation,
                    (SELECT organisation FROM customers WHERE email = $2),
                    (SELECT COUNT(*) FROM ticket_watchers WHERE ticket_id = t.id AND email = $2)
             FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $1",
        )
        .bind(ticket_id)
        .bind(email)
        .fetch_one(tx)
        .await?;
        let reporter: String = row.try_get(0)?;
        let reporter_org: Option<String> = row.try_get(1)?;
        let sender_org: Option<String> = row.try_get(2)?;
        let watcher: i64 = row.try_get(3)?;
        Ok(reporter == email
            || watcher > 0
            || same_organisation_domain(&reporter, email)
            || (reporter_org.is_some() && reporter_org == sender_org))
    }

    /// What a follow-up to this thread becomes.
    pub(in crate::store) fn continuation(&self, thread: &Thread) -> Continuation {
        let closed_long_ago = thread.status == TicketStatus::Closed
            && parse_time(&thread.since)
                .is_some_and(|at| chrono::Utc::now() - at > self.conversations.reopen_window);
        if closed_long_ago {
            Continuation::NewTicket
        } else {
            Continuation::Comment
        }
    }
}
