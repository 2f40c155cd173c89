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
