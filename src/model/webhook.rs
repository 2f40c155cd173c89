//! What webhooks report, and how they say it (`[[webhooks]]`).

use crate::closed_set;

closed_set! {
    /// Something that happened to a ticket, told to the webhooks that
    /// subscribe to it.
    pub enum WebhookEvent ("webhook event") {
        /// A ticket was filed (from mail or the portal).
        TicketCreated = "ticket.created",
        /// A comment was added: the customer's follow-up, the team's reply
        /// or internal note.
        CommentCreated = "comment.created",
        /// The status changed (by the team, a follow-up, or the quiet-ticket
        /// rules).
        StatusChanged = "status.changed",
        /// The ticket was given to someone, or to nobody.
        TicketAssigned = "ticket.assigned",
        /// The ticket was merged into another.
        TicketMerged = "ticket.merged",
    }
}

closed_set! {
    /// The body a webhook is sent.
    #[derive(Default)]
    pub enum WebhookFormat ("webhook format") {
        /// The event as JSON (`id`, `event`, `created_at`, `ticket`, …).
        #[default]
        Json = "json",
        /// `{"text": "…"}`: one line, which Slack and Mattermost incoming
        /// webhooks post as a message.
        Slack = "slack",
    }
}

closed_set! {
    /// Where a webhook delivery stands.
    pub enum DeliveryStatus ("delivery status") {
        /// Waiting to be sent, or to be tried again.
        Pending = "pending",
        Sent = "sent",
        /// Given up: a permanent refusal, too long failing, or a webhook no
        /// longer configured.
        Failed = "failed",
    }
}
