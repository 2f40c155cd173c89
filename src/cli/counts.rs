//! What a batch of messages came to (tickets, comments, ignored,
//! rejected…): the summary line of `messages retry --all-quarantined` and
//! of `import`.

use crate::store::Filed;

/// What a batch came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) tickets: usize,
    pub(super) comments: usize,
    pub(super) ignored: usize,
    pub(super) rejected: usize,
    pub(super) duplicates: usize,
    pub(super) skipped: usize,
    pub(super) errors: usize,
}

impl Counts {
    pub(super) fn add(&mut self, filed: &Filed) {
        match filed {
            Filed::Ticket { .. } => self.tickets += 1,
            Filed::Comment { .. } => self.comments += 1,
            Filed::Ignored { .. } => self.ignored += 1,
            Filed::Rejected { .. } => self.rejected += 1,
            Filed::Duplicate { .. } | Filed::AlreadyStored { .. } => self.duplicates += 1,
        }
    }

    pub(super) fn total(&self) -> usize {
        self.tickets
            + self.comments
            + self.ignored
            + self.rejected
            + self.duplicates
            + self.skipped
            + self.errors
    }

    pub(super) fn summary(&self) -> String {
        let mut text = format!(
            "{} ticket(s), {} comment(s), {} ignored, {} rejected, {} duplicate(s), {} error(s)",
            self.tickets, self.comments, self.ignored, self.rejected, self.duplicates, self.errors
        );
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        text
    }
}
