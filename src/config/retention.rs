//! `[retention]`: how long received messages, outgoing mail, the
//! quarantine and closed tickets are kept (`mailgate maintain`, and the
//! daemon once a day). Every key unset: everything is kept forever.

use std::time::Duration;

use super::checker::Checker;
use super::raw::RawRetention;
use crate::model::TicketsOnErasure;

/// The checked `[retention]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionRules {
    /// Raw bytes of received messages older than this are removed; the
    /// ticket, its text and its attachments stay.
    pub raw_messages: Option<chrono::Duration>,
    /// Bodies of outgoing mail no longer pending (sent, failed,
    /// suppressed) older than this are removed; the row stays.
    pub outgoing_mail: Option<chrono::Duration>,
    /// Rejected and ignored messages (on no ticket) older than this are
    /// deleted, row and raw bytes.
    pub quarantine: Option<chrono::Duration>,
    /// Tickets closed for longer than this are anonymised or deleted.
    pub closed_tickets: Option<chrono::Duration>,
    pub closed_tickets_mode: TicketsOnErasure,
}

impl RetentionRules {
    /// Whether any rule is set.
    pub fn any(&self) -> bool {
        self.raw_messages.is_some()
            || self.outgoing_mail.is_some()
            || self.quarantine.is_some()
            || self.closed_tickets.is_some()
    }

    /// The rules in effect, for `mailgate check` and logs: "raw_messages
    /// 90d, quarantine 30d"; "everything is kept" when none.
    pub fn describe(&self) -> String {
        let rules: Vec<String> = [
            ("raw_messages", self.raw_messages),
            ("outgoing_mail", self.outgoing_mail),
            ("quarantine", self.quarantine),
            ("closed_tickets", self.closed_tickets),
        ]
        .into_iter()
        .filter_map(|(key, after)| {
            let mut text = format!("{key} {}", short(after?));
            if key == "closed_tickets" {
                text += &format!(" ({})", self.closed_tickets_mode.as_str());
            }
            Some(text)
        })
        .collect();
        if rules.is_empty() {
            "everything is kept".to_owned()
        } else {
            rules.join(", ")
        }
    }
}

/// A duration as its largest whole unit: `90d`, `36h`, `90m`, `45s`.
fn short(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds();
    [(86_400, "d"), (3_600, "h"), (60, "m")]
        .into_iter()
        .find(|(unit, _)| seconds % unit == 0)
        .map_or_else(
            || format!("{seconds}s"),
            |(unit, name)| format!("{}{name}", seconds / unit),
        )
}

/// Checks `[retention]`.
pub(super) fn retention(c: &mut Checker, raw: &RawRetention) -> RetentionRules {
    let mut after = |key: &str, text: &Option<String>| {
        let text = text.as_ref()?;
        let key = format!("retention.{key}");
        let before = c.problems.len();
        let duration = c.duration(key.clone(), text, Duration::ZERO);
        if c.problems.len() > before {
            return None;
        }
        // A zero duration would remove everything at once: a mistake more
        // often than a wish, and unset already means "keep".
        if duration.is_zero() {
            c.problem(
                key,
                "must be longer than zero (leave it unset to keep forever)",
            );
            return None;
        }
        chrono::Duration::from_std(duration).ok()
    };
    let rules = RetentionRules {
        raw_messages: after("raw_messages", &raw.raw_messages),
        outgoing_mail: after("outgoing_mail", &raw.outgoing_mail),
        quarantine: after("quarantine", &raw.quarantine),
        closed_tickets: after("closed_tickets", &raw.closed_tickets),
        closed_tickets_mode: TicketsOnErasure::default(),
    };
    let mode = match raw.closed_tickets_mode.as_deref().map(str::trim) {
        None | Some("anonymise" | "anonymize") => TicketsOnErasure::Anonymise,
        Some("delete") => TicketsOnErasure::Delete,
        Some(other) => {
            c.problem(
                "retention.closed_tickets_mode",
                format!("{other:?} is not one of anonymise, delete"),
            );
            TicketsOnErasure::Anonymise
        }
    };
    RetentionRules {
        closed_tickets_mode: mode,
        ..rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(raw: &RawRetention) -> (RetentionRules, Vec<String>) {
        let mut c = Checker::default();
        let rules = retention(&mut c, raw);
        (rules, c.problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn unset_keeps_everything() {
        let (rules, problems) = checked(&RawRetention::default());
        assert!(problems.is_empty());
        assert!(!rules.any());
        assert_eq!(rules.describe(), "everything is kept");
        assert_eq!(rules.closed_tickets_mode, TicketsOnErasure::Anonymise);
    }

    #[test]
    fn durations_and_mode_are_read() {
        let (rules, problems) = checked(&RawRetention {
            raw_messages: Some("90days".into()),
            quarantine: Some("30d".into()),
            closed_tickets: Some("730d".into()),
            closed_tickets_mode: Some("delete".into()),
            ..RawRetention::default()
        });
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rules.raw_messages, Some(chrono::Duration::days(90)));
        assert_eq!(rules.quarantine, Some(chrono::Duration::days(30)));
        assert_eq!(rules.outgoing_mail, None);
        assert_eq!(rules.closed_tickets_mode, TicketsOnErasure::Delete);
        assert_eq!(
            rules.describe(),
            "raw_messages 90d, quarantine 30d, closed_tickets 730d (delete)"
        );
        assert_eq!(short(chrono::Duration::hours(36)), "36h");
        assert_eq!(short(chrono::Duration::seconds(45)), "45s");
    }

    #[test]
    fn mistakes_are_reported_with_their_key() {
        let (_, problems) = checked(&RawRetention {
            raw_messages: Some("soon".into()),
            outgoing_mail: Some("0s".into()),
            closed_tickets_mode: Some("shred".into()),
            ..RawRetention::default()
        });
        let joined = problems.join("\n");
        for expected in [
            "retention.raw_messages: \"soon\" is not a duration",
            "retention.outgoing_mail: must be longer than zero",
            "retention.closed_tickets_mode: \"shred\" is not one of anonymise, delete",
        ] {
            assert!(joined.contains(expected), "{expected} in\n{joined}");
        }
    }
}
