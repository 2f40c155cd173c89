//! Conversations: which ticket a message continues, follow-ups as comments,
//! reopening, field changes by the reporter, the team's replies, notes and
//! status changes, and bounces of our own mail. Every change is recorded in
//! the ticket's history and the mail it causes is queued in the same
//! transaction.

use sqlx::Row;

use super::sql::{self, WriteTx};

use super::{OutgoingMail, Store, StoreError, TicketRecord, models::EventRecord, now};
use crate::intake::thread::{is_team_address, marker_code, same_organisation_domain};
use crate::intake::{Attachment, Field, MessageFacts, NewTicket, Person, TicketKey};

/// Ticket statuses. `held` is a ticket from an unknown sender waiting for
/// the team under `senders.policy = "hold"`.
pub const STATUSES: &[&str] = &["open", "pending", "resolved", "closed"];

/// Who may change a ticket's fields with keyword lines in a reply
/// (`tickets.allow_field_changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldChangePolicy {
    Nobody,
    #[default]
    Reporter,
    /// The reporter, watchers and people of the reporter's organisation.
    Participants,
}

/// How conversations behave, from `[tickets]`.
#[derive(Debug, Clone)]
pub struct ConversationRules {
    /// Support agents: their replies to a ticket's mail are team replies.
    /// Addresses, or `@domain` for a whole domain; lower case.
    pub team_addresses: Vec<String>,
    pub allow_field_changes: FieldChangePolicy,
    /// A follow-up to a ticket closed for longer opens a new ticket.
    pub reopen_window: chrono::Duration,
}

impl Default for ConversationRules {
    fn default() -> Self {
        ConversationRules {
            team_addresses: Vec::new(),
            allow_field_changes: FieldChangePolicy::Reporter,
            reopen_window: chrono::Duration::days(30),
        }
    }
}

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
pub(super) struct Thread {
    pub ticket_id: i64,
    pub key: String,
    pub status: String,
    /// When the status last changed.
    pub since: String,
    pub via: ThreadVia,
}

/// What a follow-up to a thread becomes.
pub(super) enum Continuation {
    Comment,
    /// The ticket was closed before the reopen window: a new ticket that
    /// follows it.
    NewTicket,
}

/// A change of one field, as recorded and as told to the team.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: Field,
    pub old: String,
    pub new: String,
}

/// A ticket as the mail about it needs it.
#[derive(Debug, Clone)]
pub struct ThreadContext {
    pub key: String,
    pub tracking_token: String,
    pub summary: String,
    pub status: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub reporter: Person,
    /// Watchers' addresses.
    pub watchers: Vec<String>,
    /// The customer's language, when known.
    pub language: Option<crate::intake::Language>,
    /// Message-IDs of the conversation, oldest first, for References.
    pub references: Vec<String>,
    /// The customer's latest message, for In-Reply-To.
    pub last_customer_message: Option<String>,
}

/// Something that happened on a ticket that may send mail.
#[derive(Debug, Clone, Copy)]
pub enum ConversationEvent<'a> {
    /// Someone in the thread wrote (by email).
    FollowUp {
        author: &'a Person,
        text: &'a str,
        attachments: &'a [Attachment],
        changes: &'a [FieldChange],
        reopened: bool,
        /// The follow-up's own Message-ID.
        message_id: Option<&'a str>,
    },
    /// The team answered in public.
    TeamReply {
        author: &'a str,
        text: &'a str,
        attachments: &'a [Attachment],
    },
    StatusChanged {
        from: &'a str,
        to: &'a str,
        message: Option<&'a str>,
    },
}

/// A team action's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDone {
    pub key: String,
    /// Mails queued.
    pub mails: usize,
}

/// The fields a team member sets (`PATCH /api/tickets/KEY`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldUpdate {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub products: Option<Vec<String>>,
    pub request_type: Option<String>,
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
    pub(super) async fn find_thread(
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

    async fn ticket_id(&self, tx: &mut WriteTx, key: &str) -> Result<Option<i64>, StoreError> {
        let Some(key) = TicketKey::parse(key) else {
            return Ok(None);
        };
        sql::query("SELECT id FROM tickets WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()
    }

    async fn thread(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        via: ThreadVia,
    ) -> Result<Thread, StoreError> {
        let row = sql::query(
            "SELECT key, status, COALESCE(status_changed_at, created_at) FROM tickets WHERE id = $1",
        )
        .bind(ticket_id)
        .fetch_one(tx)
        .await?;
        Ok(Thread {
            ticket_id,
            key: row.try_get(0)?,
            status: row.try_get(1)?,
            since: row.try_get(2)?,
            via,
        })
    }

    /// Whether an address may write into a ticket by naming it: its
    /// reporter, a watcher, the team, or someone of the reporter's
    /// organisation (the same recorded organisation, or the same domain
    /// unless it is a public mail provider's).
    async fn belongs_to(
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
    pub(super) fn continuation(&self, thread: &Thread) -> Continuation {
        let closed_long_ago = thread.status == "closed"
            && parse_time(&thread.since)
                .is_some_and(|at| chrono::Utc::now() - at > self.conversations.reopen_window);
        if closed_long_ago {
            Continuation::NewTicket
        } else {
            Continuation::Comment
        }
    }

    /// Files a follow-up as a comment: a team member's reply is a team reply
    /// (or an internal note with `#note`); anyone else's reopens a resolved
    /// or waiting ticket, may change fields, and is told to the team.
    pub(super) async fn add_follow_up(
        &self,
        tx: &mut WriteTx,
        thread: &Thread,
        inbound_id: i64,
        ticket: &NewTicket,
        message: &MessageFacts,
    ) -> Result<(), StoreError> {
        let author = &ticket.reporter;
        let at = now();
        if self.is_team(&author.email) {
            let (internal, text) = match ticket.reply.trim_start().strip_prefix("#note") {
                Some(rest) => (true, crate::intake::body::tidy(rest)),
                None => (false, ticket.reply.clone()),
            };
            if internal {
                self.insert_comment(
                    tx,
                    thread.ticket_id,
                    Some(inbound_id),
                    &author.email,
                    author.name.as_deref(),
                    "team",
                    "internal",
                    &text,
                    &ticket.attachments,
                    &at,
                )
                .await?;
                return Ok(());
            }
            self.post_team_reply(
                tx,
                thread.ticket_id,
                Some(inbound_id),
                &author.email,
                author.name.as_deref(),
                &text,
                &ticket.attachments,
            )
            .await?;
            return Ok(());
        }

        self.insert_comment(
            tx,
            thread.ticket_id,
            Some(inbound_id),
            &author.email,
            author.name.as_deref(),
            "customer",
            "public",
            &ticket.reply,
            &ticket.attachments,
            &at,
        )
        .await?;
        let reopened = match thread.status.as_str() {
            "resolved" | "closed" | "pending" => {
                self.change_status(tx, thread.ticket_id, &thread.status, "open", &author.email)
                    .await?;
                thread.status != "pending"
            }
            _ => false,
        };
        let changes = if self
            .may_change_fields(tx, thread.ticket_id, &author.email)
            .await?
        {
            self.apply_field_changes(tx, thread.ticket_id, &ticket.reply_fields, &author.email)
                .await?
        } else {
            Vec::new()
        };
        let event = ConversationEvent::FollowUp {
            author,
            text: &ticket.reply,
            attachments: &ticket.attachments,
            changes: &changes,
            reopened,
            message_id: message.message_id.as_ref().map(|m| m.as_str()),
        };
        self.plan_conversation(tx, thread.ticket_id, &event).await
    }

    async fn may_change_fields(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        email: &str,
    ) -> Result<bool, StoreError> {
        Ok(match self.conversations.allow_field_changes {
            FieldChangePolicy::Nobody => false,
            FieldChangePolicy::Reporter => {
                let reporter: String =
                    sql::query("SELECT reporter_email FROM tickets WHERE id = $1")
                        .bind(ticket_id)
                        .fetch_one(tx)
                        .await?
                        .try_get(0)?;
                reporter == email
            }
            FieldChangePolicy::Participants => self.belongs_to(tx, ticket_id, email).await?,
        })
    }

    /// Sets the fields given that differ from the ticket's, recording each
    /// change.
    async fn apply_field_changes(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        fields: &crate::intake::StatedFields,
        actor: &str,
    ) -> Result<Vec<FieldChange>, StoreError> {
        let current = sql::query("SELECT severity, request_type FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(tx)
            .await?;
        let severity: String = current.try_get(0)?;
        let request_type: String = current.try_get(1)?;
        let products = self.products(tx, ticket_id).await?;
        let mut changes = Vec::new();
        let at = now();
        let single = [
            (Field::Severity, severity, &fields.severity),
            (Field::RequestType, request_type, &fields.request_type),
        ];
        for (field, old, new) in single {
            let Some(new) = new.as_ref().filter(|n| **n != old) else {
                continue;
            };
            let sql = match field {
                Field::Severity => {
                    "UPDATE tickets SET severity = $2, updated_at = $3 WHERE id = $1"
                }
                _ => "UPDATE tickets SET request_type = $2, updated_at = $3 WHERE id = $1",
            };
            sql::query(sql)
                .bind(ticket_id)
                .bind(new)
                .bind(&at)
                .execute(tx)
                .await?;
            changes.push(FieldChange {
                field,
                old,
                new: new.clone(),
            });
        }
        if let Some(new) = fields.products.as_ref().filter(|p| **p != products) {
            sql::query("DELETE FROM ticket_products WHERE ticket_id = $1")
                .bind(ticket_id)
                .execute(tx)
                .await?;
            for (position, product) in new.iter().enumerate() {
                sql::query(
                    "INSERT INTO ticket_products (ticket_id, position, product) VALUES ($1, $2, $3)",
                )
                .bind(ticket_id)
                .bind(position as i64)
                .bind(product)
                .execute(tx)
                .await?;
            }
            changes.push(FieldChange {
                field: Field::Products,
                old: products.join(", "),
                new: new.join(", "),
            });
        }
        for change in &changes {
            Self::record_event(
                tx,
                ticket_id,
                "field",
                Some(change.field.as_str()),
                Some(&change.old),
                Some(&change.new),
                None,
                actor,
                true,
            )
            .await?;
        }
        Ok(changes)
    }

    async fn products(&self, tx: &mut WriteTx, ticket_id: i64) -> Result<Vec<String>, StoreError> {
        sql::query("SELECT product FROM ticket_products WHERE ticket_id = $1 ORDER BY position")
            .bind(ticket_id)
            .fetch_all(tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect()
    }

    async fn change_status(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        from: &str,
        to: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let at = now();
        sql::query(
            "UPDATE tickets SET status = $2, status_changed_at = $3, updated_at = $3 WHERE id = $1",
        )
        .bind(ticket_id)
        .bind(to)
        .bind(&at)
        .execute(tx)
        .await?;
        Self::record_event(
            tx,
            ticket_id,
            "status",
            Some("status"),
            Some(from),
            Some(to),
            None,
            actor,
            true,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_event(
        tx: &mut WriteTx,
        ticket_id: i64,
        kind: &str,
        field: Option<&str>,
        old: Option<&str>,
        new: Option<&str>,
        detail: Option<&str>,
        actor: &str,
        public: bool,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO ticket_events (ticket_id, kind, field, old_value, new_value, detail, actor, public, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ticket_id)
        .bind(kind)
        .bind(field)
        .bind(old)
        .bind(new)
        .bind(detail)
        .bind(actor)
        .bind(i64::from(public))
        .bind(now())
        .execute(tx)
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_comment(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        inbound_id: Option<i64>,
        author_email: &str,
        author_name: Option<&str>,
        role: &str,
        visibility: &str,
        body: &str,
        attachments: &[Attachment],
        at: &str,
    ) -> Result<i64, StoreError> {
        let comment_id: i64 = sql::query(
            "INSERT INTO comments (ticket_id, inbound_message_id, author_email, author_name, body,
                 visibility, author_role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(ticket_id)
        .bind(inbound_id)
        .bind(author_email)
        .bind(author_name)
        .bind(body)
        .bind(visibility)
        .bind(role)
        .bind(at)
        .fetch_one(tx)
        .await?
        .try_get(0)?;
        for attachment in attachments {
            self.add_attachment(tx, ticket_id, Some(comment_id), inbound_id, attachment, at)
                .await?;
        }
        sql::query("UPDATE tickets SET updated_at = $2 WHERE id = $1")
            .bind(ticket_id)
            .bind(at)
            .execute(tx)
            .await?;
        if let Some(inbound_id) = inbound_id {
            Self::link_inbound(tx, inbound_id, ticket_id).await?;
        }
        Ok(comment_id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn post_team_reply(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        inbound_id: Option<i64>,
        author: &str,
        author_name: Option<&str>,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<usize, StoreError> {
        let at = now();
        self.insert_comment(
            tx,
            ticket_id,
            inbound_id,
            author,
            author_name,
            "team",
            "public",
            text,
            attachments,
            &at,
        )
        .await?;
        let event = ConversationEvent::TeamReply {
            author,
            text,
            attachments,
        };
        self.plan_conversation_counted(tx, ticket_id, &event).await
    }

    async fn plan_conversation(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        event: &ConversationEvent<'_>,
    ) -> Result<(), StoreError> {
        self.plan_conversation_counted(tx, ticket_id, event)
            .await
            .map(|_| ())
    }

    /// Asks the planner for the mail an event sends and queues it.
    async fn plan_conversation_counted(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        event: &ConversationEvent<'_>,
    ) -> Result<usize, StoreError> {
        let Some(planner) = self.replies.clone() else {
            return Ok(0);
        };
        let context = self.thread_context(tx, ticket_id).await?;
        let mails: Vec<OutgoingMail> = planner.conversation(&context, event);
        self.enqueue_planned(tx, Some(ticket_id), mails).await
    }

    /// Everything mail about a ticket needs.
    async fn thread_context(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
    ) -> Result<ThreadContext, StoreError> {
        let row = sql::query(
            "SELECT t.key, t.tracking_token, t.summary, t.status, t.severity, t.request_type,
                    t.reporter_email, t.reporter_name, COALESCE(c.language, t.language)
             FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $1",
        )
        .bind(ticket_id)
        .fetch_one(tx)
        .await?;
        let watchers =
            sql::query("SELECT email FROM ticket_watchers WHERE ticket_id = $1 ORDER BY email")
                .bind(ticket_id)
                .fetch_all(tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, _>>()?;
        let products = self.products(tx, ticket_id).await?;
        // The thread: every message in and out, in order of time.
        let messages = sql::query(
            "SELECT message_id, received_at AS at, 'in' AS direction FROM inbound_messages
               WHERE ticket_id = $1 AND message_id IS NOT NULL AND duplicate_of IS NULL
             UNION ALL
             SELECT message_id, created_at AS at, 'out' AS direction FROM outbox
               WHERE ticket_id = $1 AND kind IN ('confirmation', 'reply', 'status')
             ORDER BY at",
        )
        .bind(ticket_id)
        .fetch_all(tx)
        .await?;
        let mut references = Vec::new();
        let mut last_customer_message = None;
        for message in &messages {
            let id: String = message.try_get(0)?;
            let direction: String = message.try_get(2)?;
            if direction == "in" {
                last_customer_message = Some(id.clone());
            }
            references.push(id);
        }
        // The root and the latest few: enough for every client to thread,
        // short enough for header limits.
        if references.len() > 10 {
            let tail = references.split_off(references.len() - 9);
            references.truncate(1);
            references.extend(tail);
        }
        Ok(ThreadContext {
            key: row.try_get(0)?,
            tracking_token: row.try_get(1)?,
            summary: row.try_get(2)?,
            status: row.try_get(3)?,
            severity: row.try_get(4)?,
            request_type: row.try_get(5)?,
            reporter: Person {
                email: row.try_get(6)?,
                name: row.try_get(7)?,
            },
            watchers,
            products,
            language: row
                .try_get::<Option<String>>(8)?
                .as_deref()
                .and_then(crate::intake::Language::parse),
            references,
            last_customer_message,
        })
    }

    /// Records a bounce of one of our mails on the row it returns and on
    /// its ticket. Returns the ticket's id, when the bounce is about one.
    pub(super) async fn record_bounce(
        &self,
        tx: &mut WriteTx,
        inbound_id: i64,
        bounce: &crate::intake::BounceFacts,
    ) -> Result<Option<i64>, StoreError> {
        for id in &bounce.original_ids {
            let row = sql::query("SELECT id, ticket_id, kind FROM outbox WHERE message_id = $1")
                .bind(id.as_str())
                .fetch_optional(tx)
                .await?;
            let Some(row) = row else { continue };
            let outbox_id: i64 = row.try_get(0)?;
            let ticket_id: Option<i64> = row.try_get(1)?;
            let kind: String = row.try_get(2)?;
            let summary = bounce.summary();
            sql::query("UPDATE outbox SET bounced_at = $2, last_error = $3 WHERE id = $1")
                .bind(outbox_id)
                .bind(now())
                .bind(&summary)
                .execute(tx)
                .await?;
            if let Some(ticket_id) = ticket_id {
                Self::record_event(
                    tx,
                    ticket_id,
                    "delivery-failure",
                    None,
                    None,
                    None,
                    Some(&format!("{kind}: {summary}")),
                    "mailgate",
                    false,
                )
                .await?;
                Self::link_inbound(tx, inbound_id, ticket_id).await?;
            }
            return Ok(ticket_id);
        }
        Ok(None)
    }
}

/// The team's actions, from the CLI and the API.
impl Store {
    async fn ticket_for_action(
        &self,
        tx: &mut WriteTx,
        key: &str,
    ) -> Result<(i64, String, String), StoreError> {
        let parsed = TicketKey::parse(key)
            .ok_or_else(|| StoreError::NotFound(format!("{key:?} is not a ticket key")))?;
        let row = sql::query("SELECT id, key, status FROM tickets WHERE key = $1")
            .bind(parsed.to_string())
            .fetch_optional(tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no ticket {parsed}")))?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    /// A public reply from the team: a comment, and a mail to the reporter
    /// and watchers, threaded.
    pub async fn team_reply(
        &self,
        key: &str,
        author: &str,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<ActionDone, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let mails = self
            .post_team_reply(&mut tx, id, None, author, None, text, attachments)
            .await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails })
    }

    /// An internal note: never sent, never shown to the customer.
    pub async fn add_note(
        &self,
        key: &str,
        author: &str,
        text: &str,
    ) -> Result<ActionDone, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        self.insert_comment(
            &mut tx,
            id,
            None,
            author,
            None,
            "team",
            "internal",
            text,
            &[],
            &now(),
        )
        .await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails: 0 })
    }

    /// Changes a ticket's status (and tells the customer, with the
    /// message when one is given) and fields.
    pub async fn update_ticket(
        &self,
        key: &str,
        actor: &str,
        update: &FieldUpdate,
        message: Option<&str>,
    ) -> Result<ActionDone, StoreError> {
        if let Some(status) = &update.status
            && !STATUSES.contains(&status.as_str())
        {
            return Err(StoreError::Invalid(format!(
                "status {status:?}: expected one of {}",
                STATUSES.join(", ")
            )));
        }
        let mut tx = self.begin_write().await?;
        let (id, key, old_status) = self.ticket_for_action(&mut tx, key).await?;
        let stated = crate::intake::StatedFields {
            severity: update.severity.clone(),
            products: update.products.clone(),
            request_type: update.request_type.clone(),
        };
        self.apply_field_changes(&mut tx, id, &stated, actor)
            .await?;
        let mut mails = 0;
        if let Some(status) = update.status.as_deref().filter(|s| *s != old_status) {
            self.change_status(&mut tx, id, &old_status, status, actor)
                .await?;
            if let Some(text) = message {
                self.insert_comment(
                    &mut tx,
                    id,
                    None,
                    actor,
                    None,
                    "team",
                    "public",
                    text,
                    &[],
                    &now(),
                )
                .await?;
            }
            let event = ConversationEvent::StatusChanged {
                from: &old_status,
                to: status,
                message,
            };
            mails = self.plan_conversation_counted(&mut tx, id, &event).await?;
        }
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails })
    }
}

/// Reading for the tracking page and the API.
impl Store {
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
    pub(super) async fn events(
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
    ) -> Result<(super::AttachmentRecord, Vec<u8>), StoreError> {
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
