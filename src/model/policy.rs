//! The policies the configuration sets and filing applies.

use crate::closed_set;

closed_set! {
    /// Who may open tickets (`senders.policy`).
    #[derive(Default)]
    pub enum SenderPolicy ("policy") {
        /// Anyone.
        #[default]
        Open = "open",
        /// Registered customers and `senders.allowed_domains` only; anyone
        /// else gets one polite reply and no ticket.
        Registered = "registered",
        /// Unknown senders' tickets wait for the team as `held`.
        Hold = "hold",
    }
}

closed_set! {
    /// What a message that the receiving server's filter called spam
    /// becomes (`intake.spam`).
    #[derive(Default)]
    pub enum SpamPolicy ("spam policy") {
        /// No ticket, no reply: kept in quarantine with reason `spam`, for
        /// `messages retry` to file a false positive.
        #[default]
        Ignore = "ignore",
        /// A ticket with status `held` for the team, and no reply.
        Hold = "hold",
        /// Verdicts are not read.
        Off = "off",
    }
}

closed_set! {
    /// Who may change a ticket's fields with keyword lines in a reply
    /// (`tickets.allow_field_changes`).
    #[derive(Default)]
    pub enum FieldChangePolicy ("field change policy") {
        Nobody = "none",
        #[default]
        Reporter = "reporter",
        /// The reporter, watchers and people of the reporter's organisation.
        Participants = "participants",
    }
}
