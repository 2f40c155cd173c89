//! The mail filing sends: the reply planner the store consults inside
//! the filing transaction, the per-address limit on automatic mail, and
//! a planner whose every mail is kept but not sent (`mailgate import`).

use std::sync::Arc;

use super::sql::{self, WriteTx};
use super::{ConversationEvent, OutgoingMail, Store, StoreError, ThreadContext, now};
use crate::intake::{MessageFacts, NewTicket, OversizeNotice};
use crate::model::{Language, TicketStatus};

/// A ticket just created, inside its filing transaction.
pub struct CreatedTicket<'a> {
    pub key: &'a str,
    pub tracking_token: &'a str,
    /// `open`, or `held` under the `hold` policy.
    pub status: TicketStatus,
    pub ticket: &'a NewTicket,
    pub message: &'a MessageFacts,
    /// The language recorded for the customer, which wins over the
    /// message's.
    pub customer_language: Option<crate::model::Language>,
    /// The queue it was routed to (`[[routes]]` name, or `default`).
    pub queue: &'a str,
    /// Where the team's notification goes: the queue's address.
    pub team_address: Option<&'a str>,
    /// Who it was assigned to by its route.
    pub assignee: Option<&'a str>,
}

/// Decides which mail a new ticket sends. Called inside the filing
/// transaction, so the rows are written with the ticket or not at all.
pub trait ReplyPlanner: Send + Sync {
    fn plan(&self, created: &CreatedTicket<'_>) -> Vec<OutgoingMail>;

    /// The answer to a sender refused by the `registered` policy.
    fn unregistered(&self, _ticket: &NewTicket, _message: &MessageFacts) -> Option<OutgoingMail> {
        None
    }

    /// The one notice to the sender of a message refused as too large;
    /// `customer_language` is the one recorded for them, if known.
    fn oversize(
        &self,
        _message: &MessageFacts,
        _notice: &OversizeNotice,
        _customer_language: Option<Language>,
    ) -> Option<OutgoingMail> {
        None
    }

    /// The mail something that happened on a ticket sends.
    fn conversation(
        &self,
        _ticket: &ThreadContext,
        _event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        Vec::new()
    }
}

impl Store {
    /// The reason to hold back an automatic mail to these recipients, when
    /// one of them already got the limit within the last hour.
    async fn over_auto_reply_limit(
        &self,
        tx: &mut WriteTx,
        recipients: &[String],
        queued_with: &[OutgoingMail],
    ) -> Result<Option<String>, StoreError> {
        let since = super::stored_time(chrono::Utc::now() - chrono::Duration::hours(1));
        for recipient in recipients {
            let alongside = queued_with
                .iter()
                .filter(|m| {
                    m.automatic && m.suppressed.is_none() && m.recipients.join(",") == *recipient
                })
                .count() as i64;
            let queued = match tx.automatic_mail().get(recipient) {
                Some(counted) => *counted,
                None => sql::query(
                    "SELECT COUNT(*) FROM outbox WHERE recipients = $1 AND automatic = 1
                       AND status IN ('pending', 'sent') AND created_at >= $2",
                )
                .bind(recipient)
                .bind(&since)
                .fetch_one(&mut *tx)
                .await?
                .try_get::<i64>(0)?,
            };
            let count = alongside + queued;
            if count >= self.auto_reply_limit {
                return Ok(Some(format!(
                    "{recipient} already got {count} automatic mails within the hour (senders.auto_reply_limit)"
                )));
            }
        }
        Ok(None)
    }

    /// Counts the automatic mail queued within the hour for each of
    /// `recipients` in one query, for a batch about to be filed (see
    /// `WriteTx::automatic_mail`). Mail another instance queues while the
    /// batch is being filed is not seen: the limit guards against loops,
    /// and a batch takes a fraction of a second.
    pub(super) async fn count_automatic_mail(
        tx: &mut WriteTx,
        recipients: &[&str],
    ) -> Result<(), StoreError> {
        let mut recipients: Vec<&str> = recipients.to_vec();
        recipients.sort_unstable();
        recipients.dedup();
        if recipients.is_empty() {
            return Ok(());
        }
        let since = super::stored_time(chrono::Utc::now() - chrono::Duration::hours(1));
        let text = format!(
            "SELECT recipients, COUNT(*) FROM outbox WHERE recipients IN ({})
               AND automatic = 1 AND status IN ('pending', 'sent') AND created_at >= $1
             GROUP BY recipients",
            sql::placeholders(2, recipients.len())
        );
        let mut query = sql::query(&text).bind(since);
        for recipient in &recipients {
            query = query.bind(*recipient);
        }
        let rows = query.fetch_all(&mut *tx).await?;
        let counted = tx.automatic_mail();
        for recipient in recipients {
            counted.insert(recipient.to_owned(), 0);
        }
        for row in rows {
            counted.insert(row.try_get(0)?, row.try_get(1)?);
        }
        Ok(())
    }

    /// Queues what a planner decided, holding back automatic mail over the
    /// per-address limit. Returns how many mails will be sent.
    pub(super) async fn enqueue_planned(
        &self,
        tx: &mut WriteTx,
        ticket_id: Option<i64>,
        mut mails: Vec<OutgoingMail>,
    ) -> Result<usize, StoreError> {
        let at = now();
        for i in 0..mails.len() {
            if mails[i].automatic && mails[i].suppressed.is_none() {
                // The limit counts what is queued already, this call's
                // earlier mails included (they are written below).
                let earlier = &mails[..i];
                mails[i].suppressed = self
                    .over_auto_reply_limit(tx, &mails[i].recipients, earlier)
                    .await?;
            }
        }
        Self::enqueue(tx, ticket_id, &mails, &at).await?;
        Ok(mails.iter().filter(|m| m.suppressed.is_none()).count())
    }
}

/// A planner whose every mail is suppressed.
pub(super) struct Suppressing {
    pub(super) inner: Arc<dyn ReplyPlanner>,
    pub(super) reason: String,
}

impl Suppressing {
    fn mark(&self, mut mail: OutgoingMail) -> OutgoingMail {
        mail.suppressed.get_or_insert_with(|| self.reason.clone());
        mail
    }
}

impl ReplyPlanner for Suppressing {
    fn plan(&self, created: &CreatedTicket<'_>) -> Vec<OutgoingMail> {
        let mails = self.inner.plan(created);
        mails.into_iter().map(|m| self.mark(m)).collect()
    }

    fn unregistered(&self, ticket: &NewTicket, message: &MessageFacts) -> Option<OutgoingMail> {
        self.inner
            .unregistered(ticket, message)
            .map(|m| self.mark(m))
    }

    fn oversize(
        &self,
        message: &MessageFacts,
        notice: &OversizeNotice,
        customer_language: Option<Language>,
    ) -> Option<OutgoingMail> {
        self.inner
            .oversize(message, notice, customer_language)
            .map(|m| self.mark(m))
    }

    fn conversation(
        &self,
        ticket: &ThreadContext,
        event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        let mails = self.inner.conversation(ticket, event);
        mails.into_iter().map(|m| self.mark(m)).collect()
    }
}
