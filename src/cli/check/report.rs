//! The items `mailgate check` finds, one line each (`✓`, `!`, `✗`, with a
//! hint), printed as they come or as one JSON document, and the exit status
//! and summary they come to.

use std::io::Write;

use serde::Serialize;

use crate::exit;

/// Exit status when at least one item failed.
pub const FAILED: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Pass,
    /// Works, with a limitation worth knowing; does not fail the check.
    Warn,
    /// Will not work.
    Fail,
}

/// One checked item: `✓ mailbox support: logged in as support (LOGIN)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub status: Status,
    /// What was checked: `database sqlite://…`, `mailbox support`.
    pub subject: String,
    /// What was found.
    pub text: String,
    /// What to do about it (warnings and failures).
    pub hint: Option<String>,
}

impl Item {
    pub fn pass(subject: &str, text: impl Into<String>) -> Item {
        Item {
            status: Status::Pass,
            subject: subject.to_owned(),
            text: text.into(),
            hint: None,
        }
    }
    pub fn warn(subject: &str, text: impl Into<String>, hint: impl Into<String>) -> Item {
        Item {
            status: Status::Warn,
            subject: subject.to_owned(),
            text: text.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn fail(subject: &str, text: impl Into<String>, hint: Option<String>) -> Item {
        Item {
            status: Status::Fail,
            subject: subject.to_owned(),
            text: text.into(),
            hint,
        }
    }
}

/// One line: mark, subject, what was found, then ` — ` and the hint.
/// Only the mark is coloured, and only when `colour` (a terminal).
pub fn format_item(item: &Item, colour: bool) -> String {
    let (mark, code) = match item.status {
        Status::Pass => ("✓", "32"),
        Status::Warn => ("!", "33"),
        Status::Fail => ("✗", "31"),
    };
    let mut line = if colour {
        format!("\x1b[1;{code}m{mark}\x1b[0m")
    } else {
        mark.to_owned()
    };
    line.push(' ');
    line.push_str(&item.subject);
    line.push_str(": ");
    line.push_str(&item.text);
    if let Some(hint) = &item.hint {
        line.push_str(" — ");
        line.push_str(hint);
    }
    line
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// A line per item as soon as it is known.
    Text { colour: bool },
    /// One JSON document at the end.
    Json,
}

/// The items found so far, printed as they come in text mode.
#[derive(Debug)]
pub struct Report {
    items: Vec<Item>,
    output: Output,
}

impl Report {
    pub(super) fn new(output: Output) -> Report {
        Report {
            items: Vec::new(),
            output,
        }
    }

    pub(super) fn push(&mut self, item: Item) {
        if let Output::Text { colour } = self.output {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", format_item(&item, colour));
            let _ = out.flush();
        }
        self.items.push(item);
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    fn count(&self, status: Status) -> usize {
        self.items.iter().filter(|i| i.status == status).count()
    }

    /// 0 when nothing failed, warnings included.
    pub fn exit_status(&self) -> u8 {
        if self.count(Status::Fail) > 0 {
            FAILED
        } else {
            exit::OK
        }
    }

    /// `all 9 checks passed (1 warning)`, `2 of 9 checks failed`.
    pub fn summary(&self) -> String {
        let (failed, warned) = (self.count(Status::Fail), self.count(Status::Warn));
        let total = self.items.len();
        let warnings = match warned {
            0 => String::new(),
            1 => " (1 warning)".to_owned(),
            n => format!(" ({n} warnings)"),
        };
        if failed == 0 {
            format!("all {total} checks passed{warnings}")
        } else {
            format!("{failed} of {total} checks failed{warnings}")
        }
    }

    /// Prints the summary (or the JSON document) and returns `status`.
    pub(super) fn finish(self, status: u8, summary: String) -> u8 {
        match self.output {
            Output::Text { .. } => println!("{summary}"),
            Output::Json => {
                let doc = serde_json::json!({
                    "ok": status == exit::OK,
                    "exit_status": status,
                    "summary": summary,
                    "checks": self.items,
                });
                println!("{doc}");
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_mark_subject_text_and_hint() {
        let item = Item::fail(
            "mailbox support",
            "login refused",
            Some("wrong username or password (username support@example.com)".into()),
        );
        assert_eq!(
            format_item(&item, false),
            "✗ mailbox support: login refused — wrong username or password (username support@example.com)"
        );
        assert_eq!(
            format_item(
                &Item::pass("database sqlite://x.db", "schema up to date"),
                false
            ),
            "✓ database sqlite://x.db: schema up to date"
        );
        assert_eq!(
            format_item(&Item::warn("mailbox a", "no IDLE", "polls"), false),
            "! mailbox a: no IDLE — polls"
        );
        let coloured = format_item(&item, true);
        assert!(
            coloured.starts_with("\x1b[1;31m✗\x1b[0m mailbox support"),
            "{coloured}"
        );
        assert_eq!(
            coloured.matches('\x1b').count(),
            2,
            "only the mark is coloured"
        );
    }

    #[test]
    fn warnings_pass_failures_fail() {
        let mut report = Report::new(Output::Json);
        report.push(Item::pass("a", "ok"));
        report.push(Item::warn("b", "meh", "fine"));
        assert_eq!(report.exit_status(), 0);
        assert_eq!(report.summary(), "all 2 checks passed (1 warning)");
        report.push(Item::fail("c", "broken", None));
        assert_eq!(report.exit_status(), FAILED);
        assert_eq!(report.summary(), "1 of 3 checks failed (1 warning)");
        let json = serde_json::to_value(report.items()).unwrap();
        assert_eq!(json[1]["status"], "warn");
        assert_eq!(json[2]["hint"], serde_json::Value::Null);
    }
}
