//! What becomes of a person's tickets when their data goes: erased on
//! request (`customers forget --tickets`) or closed long ago
//! (`retention.closed_tickets_mode`).

/// What becomes of the tickets the person reported (or, under
/// retention, the tickets closed for long enough).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TicketsOnErasure {
    /// Kept for the team's statistics (key, status, fields, times), with
    /// the texts the person wrote replaced by `[erased]`.
    #[default]
    Anonymise,
    /// Deleted with everything hanging off them (comments of anyone,
    /// history, messages, attachments, mail).
    Delete,
}

impl TicketsOnErasure {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketsOnErasure::Anonymise => "anonymise",
            TicketsOnErasure::Delete => "delete",
        }
    }
}
