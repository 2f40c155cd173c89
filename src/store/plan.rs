//! What filing a message will do, decided before its inbound row is
//! written (a duplicate, a follow-up, a new ticket, refused, ignored or
//! rejected), and carrying that decision out.

use super::conversation::{Continuation, NewEvent, Thread};
use super::create::Filing;
use super::customers::Admitted;
use super::sql::WriteTx;
use super::{Filed, SourceKind, Store, StoreError};
use crate::intake::{Decision, HoldReason, NewTicket, Outcome};
use crate::model::{InboundOutcome, SenderPolicy, TicketStatus};

/// What filing a message will do, decided before its inbound row is written.
pub(super) enum Plan<'d> {
    /// Received before: the first copy and its ticket.
    Duplicate {
        of_message: i64,
        ticket: Option<String>,
    },
    /// Refused by the `registered` policy.
    Refused(&'d NewTicket),
    FollowUp(Thread, &'d NewTicket),
    /// A new ticket with its status, continuing a long-closed one.
    NewTicket(&'d NewTicket, TicketStatus, Option<Thread>),
    Ignored(&'d str, &'d String),
    Rejected(&'d str, &'d str),
}

impl Plan<'_> {
    /// The outcome, reason and detail recorded on the inbound row.
    pub(super) fn outcome(&self) -> (InboundOutcome, Option<&str>, Option<&str>) {
        match self {
            Plan::Duplicate { .. } => (InboundOutcome::Duplicate, None, None),
            Plan::Refused(_) => (
                InboundOutcome::Rejected,
                Some(UNREGISTERED),
                Some("the sender is not a registered customer (senders.policy = \"registered\")"),
            ),
            Plan::FollowUp(thread, _) => (InboundOutcome::Comment, Some(thread.via.as_str()), None),
            Plan::NewTicket(..) => (InboundOutcome::Ticket, None, None),
            Plan::Ignored(reason, detail) => (
                InboundOutcome::Ignored,
                Some(*reason),
                Some(detail.as_str()),
            ),
            Plan::Rejected(reason, detail) => {
                (InboundOutcome::Rejected, Some(*reason), Some(*detail))
            }
        }
    }
}

/// The reject reason of a sender refused by the `registered` policy.
pub const UNREGISTERED: &str = "unregistered-sender";

/// The reject reason of a From address that failed authentication under
/// the `registered` policy.
pub const UNAUTHENTICATED: &str = "unauthenticated";
const UNAUTHENTICATED_DETAIL: &str = "the From address failed the receiving server's checks \
     (intake.trusted_authserv_ids); not answered";

impl Store {
    /// What filing a message that is not a duplicate will do: a follow-up,
    /// a new ticket (open, held or refused by the sender policy), ignored or
    /// rejected. Also used to file a quarantined message again
    /// (`refile.rs`).
    pub(super) async fn plan_filing<'d>(
        &self,
        tx: &mut WriteTx,
        decision: &'d Decision,
    ) -> Result<Plan<'d>, StoreError> {
        Ok(match &decision.outcome {
            Outcome::Ticket { ticket } => {
                // A message held (spam, or a From address that failed
                // authentication) never continues a ticket: it would reach
                // the customer's conversation unseen.
                let thread = if ticket.held_for.is_some() {
                    None
                } else {
                    self.find_thread(tx, &decision.message, &ticket.reporter.email)
                        .await?
                };
                match thread {
                    Some(thread) if matches!(self.continuation(&thread), Continuation::Comment) => {
                        Plan::FollowUp(thread, ticket)
                    }
                    // Under `registered`, a forged From is no registered
                    // customer, and is not answered: the answer would go to
                    // the person whose address was used.
                    _ if self.admission.policy == Some(SenderPolicy::Registered)
                        && matches!(ticket.held_for, Some(HoldReason::Unauthenticated(_))) =>
                    {
                        Plan::Rejected(UNAUTHENTICATED, UNAUTHENTICATED_DETAIL)
                    }
                    follows => match self.admitted(tx, &ticket.reporter.email).await? {
                        Admitted::Refused => Plan::Refused(ticket),
                        Admitted::Held => Plan::NewTicket(ticket, TicketStatus::Held, follows),
                        Admitted::Open if ticket.held_for.is_some() => {
                            Plan::NewTicket(ticket, TicketStatus::Held, follows)
                        }
                        Admitted::Open => Plan::NewTicket(ticket, TicketStatus::Open, follows),
                    },
                }
            }
            Outcome::Ignored { reason, detail } => Plan::Ignored(reason.as_str(), detail),
            Outcome::Rejected { reason, detail, .. } => {
                Plan::Rejected(reason.as_str(), detail.as_str())
            }
        })
    }

    /// Does what a plan says for a message whose inbound row is written:
    /// the ticket or comment with its mail, the bounce, the sender's notice.
    ///
    /// `first_from` is where the message came from when it is filed for
    /// the first time; a retry (`refile.rs`) gives none, and its sender,
    /// told at the first filing, is not told again. Read from standard
    /// input, a message too large gets no notice from us: `ingest` exits 65
    /// and the MTA's bounce is that notice.
    pub(super) async fn carry_out(
        &self,
        tx: &mut WriteTx,
        plan: Plan<'_>,
        inbound_id: i64,
        mailbox: Option<&str>,
        decision: &Decision,
        first_from: Option<SourceKind>,
    ) -> Result<Filed, StoreError> {
        Ok(match plan {
            Plan::Duplicate { of_message, ticket } => Filed::Duplicate { of_message, ticket },
            Plan::Refused(ticket) => {
                let mail = (self.replies.as_ref())
                    .filter(|_| first_from.is_some())
                    .and_then(|p| p.unregistered(ticket, &decision.message));
                let answered = mail.is_some();
                if let Some(mail) = mail {
                    self.enqueue_planned(tx, None, vec![mail]).await?;
                }
                Filed::Rejected {
                    reason: UNREGISTERED.to_owned(),
                    answered,
                }
            }
            Plan::FollowUp(thread, ticket) => {
                self.add_follow_up(tx, &thread, inbound_id, ticket, &decision.message)
                    .await?;
                Filed::Comment { key: thread.key }
            }
            Plan::NewTicket(ticket, status, follows) => {
                // A ticket continuing an old one is described by what was
                // written now; the quoted history is the old ticket's.
                let continuing;
                let ticket = match &follows {
                    Some(_) if !ticket.reply.is_empty() => {
                        continuing = NewTicket {
                            description: ticket.reply.clone(),
                            ..ticket.clone()
                        };
                        &continuing
                    }
                    _ => ticket,
                };
                let key = self
                    .create_ticket(
                        tx,
                        ticket,
                        &decision.message,
                        Filing {
                            inbound_id,
                            mailbox,
                            status,
                            follows: follows.as_ref().map(|t| t.ticket_id),
                        },
                    )
                    .await?;
                if let Some(old) = follows {
                    let event = NewEvent {
                        ticket_id: old.ticket_id,
                        kind: "follow-up",
                        field: None,
                        old: None,
                        new: Some(&key),
                        detail: Some("a follow-up after the reopen window opened a new ticket"),
                        actor: &ticket.reporter.email,
                        public: true,
                    };
                    Self::record_event(tx, &event).await?;
                }
                Filed::Ticket { key }
            }
            Plan::Ignored(reason, _) => {
                if let Some(bounce) = &decision.message.bounce {
                    self.record_bounce(tx, inbound_id, bounce).await?;
                }
                Filed::Ignored {
                    reason: reason.to_owned(),
                }
            }
            Plan::Rejected(reason, _) => {
                let answered = match (&decision.outcome, first_from) {
                    (
                        Outcome::Rejected {
                            notice: Some(notice),
                            ..
                        },
                        Some(from),
                    ) if from != SourceKind::Stdin => {
                        self.notify_oversize(tx, &decision.message, notice).await?
                    }
                    _ => false,
                };
                Filed::Rejected {
                    reason: reason.to_owned(),
                    answered,
                }
            }
        })
    }

    /// Queues the one notice to the sender of a message too large, counted
    /// in their hourly limit of automatic mail. Says whether one was
    /// planned (sent, or kept as suppressed).
    async fn notify_oversize(
        &self,
        tx: &mut WriteTx,
        message: &crate::intake::MessageFacts,
        notice: &crate::intake::OversizeNotice,
    ) -> Result<bool, StoreError> {
        let (Some(planner), Some(sender)) = (&self.replies, &message.from) else {
            return Ok(false);
        };
        // The language recorded for a known customer wins, as in every
        // mail to them.
        let recorded: Option<String> =
            super::sql::query("SELECT language FROM customers WHERE email = $1")
                .bind(&sender.email)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?
                .flatten();
        let language = recorded.as_deref().and_then(crate::model::Language::parse);
        let Some(mail) = planner.oversize(message, notice, language) else {
            return Ok(false);
        };
        self.enqueue_planned(tx, None, vec![mail]).await?;
        Ok(true)
    }
}
