//! `mailgate check`: the retention rules in effect and when the database
//! was last maintained (`[retention]`, `mailgate maintain`).

use super::Item;
use crate::config::RetentionRules;

/// What the store says of the last maintenance run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastRun {
    /// Finished at this stored time, having reclaimed these bytes.
    Finished { at: String, bytes_reclaimed: u64 },
    /// No run has finished on this database yet.
    Never,
    /// The database could not be asked.
    Unknown,
}

/// One line: the rules, then the last run. Keeping everything is not a
/// fault (it is the default), so this item never fails; a run that never
/// happened is said, since the daemon runs it once a day.
pub fn retention_item(rules: &RetentionRules, last: &LastRun) -> Item {
    let rules_text = if rules.any() {
        rules.describe()
    } else {
        "no [retention] rule: everything is kept".to_owned()
    };
    let last_text = match last {
        LastRun::Finished {
            at,
            bytes_reclaimed,
        } => format!(
            "last maintained {at}, {} reclaimed",
            crate::model::text::human_size(
                i64::try_from(*bytes_reclaimed).unwrap_or(i64::MAX),
                crate::model::Language::En
            )
        ),
        LastRun::Never => {
            "never maintained yet (the daemon does it once a day, `mailgate maintain` now)"
                .to_owned()
        }
        LastRun::Unknown => "last maintenance unknown (database not open)".to_owned(),
    };
    Item::pass("retention", format!("{rules_text}; {last_text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::check::format_item;

    #[test]
    fn the_rules_and_the_last_run_in_one_line() {
        let rules = RetentionRules {
            raw_messages: Some(chrono::Duration::days(90)),
            quarantine: Some(chrono::Duration::days(30)),
            ..RetentionRules::default()
        };
        let last = LastRun::Finished {
            at: "2026-12-01T03:00:00.000Z".into(),
            bytes_reclaimed: 3 << 20,
        };
        assert_eq!(
            format_item(&retention_item(&rules, &last), false),
            "✓ retention: raw_messages 90d, quarantine 30d; last maintained \
             2026-12-01T03:00:00.000Z, 3.1 MB reclaimed"
        );
    }

    #[test]
    fn no_rule_and_no_run_are_said() {
        let line = format_item(
            &retention_item(&RetentionRules::default(), &LastRun::Never),
            false,
        );
        assert!(
            line.starts_with(
                "✓ retention: no [retention] rule: everything is kept; never maintained"
            ),
            "{line}"
        );
    }
}
